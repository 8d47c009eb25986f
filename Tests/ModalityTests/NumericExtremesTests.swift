import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegNN
import SpectralFiles
import SpectralPreprocessing

/// Files that read without error but hold numbers that once led to silent nonsense: a hot pixel
/// that emptied the computed tissue mask, sums that overflowed Float, PCA components with no
/// variance that whitening blew up, and an empty tissue mask refused without saying why.
@Suite struct NumericExtremesTests {
    /// A 24×24 spot: tissue (mean 1) in the middle, background (mean 0.05) around it, 30 bands.
    static func spot(_ change: (inout [Float], Int) -> Void = { _, _ in }) -> SpectralCube {
        let (side, b) = (24, 30), plane = 24 * 24
        var values = [Float](repeating: 0, count: b * plane)
        for k in 0..<b {
            for y in 0..<side {
                for x in 0..<side {
                    let tissue = (6..<18).contains(y) && (6..<18).contains(x)
                    values[k * plane + y * side + x] = (tissue ? 1 : 0.05) + 0.01 * Float((x * 7 + y * 3 + k) % 5)
                }
            }
        }
        change(&values, plane)
        return SpectralCube(height: side, width: side, bands: b, values: values, axis: (0..<b).map { 1000 + Double($0) },
                            axisUnit: "cm⁻¹", format: "test")
    }

    static func tissue(_ cube: SpectralCube, _ configure: (inout SpectralFileOptions) -> Void = { _ in }) throws -> Mask {
        var options = SpectralFileOptions()
        configure(&options)
        return try SpectralFileReader(options).tissue(of: cube)
    }

    /// One hot pixel (a cosmic ray in every band, or a dead detector element) no longer puts every
    /// other pixel in Otsu's lowest bin: the computed mask is the tissue, the hot pixel with it.
    @Test func aHotPixelLeavesTheTissueMaskAsItWas() throws {
        let plain = try Self.tissue(Self.spot())
        #expect(plain.count == 144)
        for hot: Float in [1e6, 65535, 3e38] {
            let mask = try Self.tissue(Self.spot { values, plane in for k in 0..<30 { values[k * plane + 3 * 24 + 3] = hot } })
            #expect(mask.count == 145 && mask.pixels[3 * 24 + 3], "hot \(hot): \(mask.count) tissue pixels")
        }
        // A spike in one band of one pixel alike.
        let spiked = try Self.tissue(Self.spot { values, plane in values[7 * plane + 100] = 1e7 })
        #expect(spiked.count == 145 || spiked.count == 144, "\(spiked.count)")
        // Outliers are the computed tissue rule's to ignore; Otsu's threshold itself spans the whole range by default.
        let background = (0..<400).map { Float($0 % 10) / 100 }, tissue = (0..<200).map { 1 + Float($0 % 10) / 100 }
        #expect(otsuThreshold(background + tissue + [1e6]) > 1.1)
        #expect((0.09..<1).contains(otsuThreshold(background + tissue + [1e6, 3e5, 5e4], ignoringOutliers: true)))
        #expect(outlierClassSize(among: 601) == 6 && outlierClassSize(among: 1 << 20) == 524 && outlierClassSize(among: 99) == 0)
    }

    /// Tissue of a few hundred pixels in a large image (0.2% of a 512² mosaic) is a class, not
    /// outliers: the mask finds it (a clamp of the outer 0.5% had split the glass instead).
    @Test func smallTissueInALargeImageIsStillFound() throws {
        let side = 512, plane = 512 * 512
        var values = [Float](repeating: 0, count: 3 * plane)
        for k in 0..<3 {
            for p in 0..<plane {
                let (y, x) = (p / side, p % side)
                let tissue = (100..<123).contains(y) && (200..<223).contains(x)  // 529 pixels
                values[k * plane + p] = (tissue ? 1 : 0.05) + 0.01 * Float((x * 7 + y * 3 + k) % 5)
            }
        }
        let cube = SpectralCube(height: side, width: side, bands: 3, values: values, axis: [1, 2, 3], axisUnit: "cm⁻¹", format: "test")
        #expect(try Self.tissue(cube).count == 529)
    }

    /// Values near Float's largest over 450 bands: the sums are in Double, so the mask is the
    /// same as the values' scaled down (their sum in Float was infinite, and every pixel tissue).
    @Test func sumsBeyondFloatsRangeGiveTheSameMask() throws {
        let cube = Self.spot()
        var bands = SpectralCube(height: cube.height, width: cube.width, bands: 450,
                                 values: (0..<15).flatMap { _ in cube.values }, axis: (0..<450).map { 1000 + Double($0) },
                                 axisUnit: "cm⁻¹", format: "test")
        let expected = try Self.tissue(bands)
        bands.values = bands.values.map { $0 * 2e38 / 1.05 }
        #expect(bands.values.allSatisfy { $0.isFinite })
        #expect(try Self.tissue(bands) == expected && expected.count == 144)
    }

    /// Why a sample has no tissue is said where it is refused: every tissue pixel non-finite
    /// (under nonFinite: zero), the file's mask empty, or Otsu's threshold finding nothing.
    @Test func anEmptyTissueMaskSaysWhy() throws {
        let reader = SpectralFileReader({ var o = SpectralFileOptions(); o.nonFinite = .zero; return o }())
        let url = URL(fileURLWithPath: "/data/spot.h5")
        let deadBand = Self.spot { values, plane in for p in 0..<plane { values[4 * plane + p] = .nan } }
        let dead = try reader.sample(deadBand, file: url, label: .cancer, axisUnit: "cm⁻¹")
        #expect(dead.tissue.count == 0)
        #expect(dead.metadata[Sample.noTissueKey]?.hasPrefix("all 144 pixels found as tissue hold a NaN or infinite value, which "
                                                               + "is never tissue (the first at row 0, column 0") == true,
                "\(dead.metadata)")
        var unmarked = Self.spot()
        unmarked.mask = [Bool](repeating: false, count: 24 * 24)
        #expect(try reader.sample(unmarked, file: url, label: .cancer, axisUnit: "cm⁻¹").metadata[Sample.noTissueKey]
                == "the file's own mask marks no pixel")
        let flat = SpectralCube(height: 4, width: 4, bands: 3, values: [Float](repeating: 2, count: 48), axis: [1, 2, 3], axisUnit: "cm⁻¹", format: "test")
        #expect(try reader.sample(flat, file: url, label: .cancer, axisUnit: "cm⁻¹").metadata[Sample.noTissueKey]?
                    .hasPrefix("Otsu's threshold on each pixel's mean over bands marked no pixel") == true)
        let withTissue = try reader.sample(Self.spot(), file: url, label: .cancer, axisUnit: "cm⁻¹")
        #expect(withTissue.metadata[Sample.noTissueKey] == nil)
    }

    /// Spectra that span 3 dimensions, fitted with 8 components: components 4–8 hold only
    /// rounding, and whitening them by their own spread magnified later samples' noise ~10⁵×.
    /// Their scale is now floored at 10⁻⁶ of the first's variance, and the fit warns.
    @Test func pcaComponentsWithoutVarianceAreWarnedOfAndNotBlownUp() throws {
        let b = 30, n = 400
        var pixels: [Float] = []
        for i in 0..<n {
            let (a, c, d) = (Float(i % 17) / 17, Float(i % 11) / 11, Float(i % 7) / 7)
            pixels += (0..<b).map { k in a * Float(k) / 30 + c * Float(k % 4) + d * (k < 15 ? 1 : -1) + 2 }
        }
        let sample = try Sample(id: "s", image: Tensor(shape: [b, 20, 20], scalars: (0..<b).flatMap { k in (0..<n).map { pixels[$0 * b + k] } }),
                                channels: .spectral(values: (0..<b).map { 1000 + Double($0) }, unit: "cm⁻¹"),
                                tissue: Mask(height: 20, width: 20, pixels: [Bool](repeating: true, count: n)),
                                preview: RGBImage(height: 20, width: 20, bytes: [UInt8](repeating: 0, count: 3 * n)), label: .cancer)
        let fitted = try #require(try PCAStep(components: 8).fitted(to: SampleSequence([sample])) as? PCAStep)
        let fit = try #require(fitted.fit)
        let warnings = fitted.fitWarnings
        #expect(warnings.count == 1 && warnings.first?.hasPrefix("components 4–8 of 8 hold almost no variance") == true, "\(warnings)")
        #expect(warnings.first?.hasSuffix("give components: 3") == true, "\(warnings)")
        let bound = 1 / (fit.variances[0] * PCA.negligibleVariance).squareRoot()
        #expect(fit.whiteningScales.allSatisfy { $0 <= bound * 1.0001 }, "\(fit.whiteningScales) \(fit.variances)")
        #expect(try PCAStep(components: 3).fitted(to: SampleSequence([sample])).fitWarnings.isEmpty)
        #expect(try PCAStep(components: 8, whiten: false).fitted(to: SampleSequence([sample])).fitWarnings.isEmpty)
    }
}
