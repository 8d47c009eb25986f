import CompSegCore
import CompSegIO
import CompSegTestSupport
import CompSegTraining
import Foundation
@testable import HEModality
import Testing

/// An H&E spot read at a coarser pyramid level or scale records its file's full resolution, so a
/// truth drawn on the full-resolution slide comes down to it.
@Suite struct HEResolutionTests {
    static let pyramid = fixturesDirectory.appendingPathComponent("raster/pyramid_subifds.tif")  // 40×48, 20×24, 10×12

    @Test(arguments: [(1, 1.0, 20, 24), (0, 0.5, 20, 24), (2, 1.0, 10, 12), (0, 1.0, 40, 48)])
    func samplesRecordTheFullResolution(level: Int, scale: Double, height: Int, width: Int) throws {
        var configuration = HESource.Configuration()
        (configuration.level, configuration.scale) = (level, scale)
        let sample = try HESource(configuration).load(Self.pyramid, label: .cancer)
        #expect(sample.height == height && sample.width == width)
        let full = try #require(sample.fullResolution)
        #expect(full == (40, 48))

        // A truth drawn at 40×48 (left half tumor) reads at the sample's size; one of another size is named.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-he-truth-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let truth = folder.appendingPathComponent("truth.png")
        try PNGImage(width: 48, height: 40, channels: 1, pixels: (0..<1920).map { $0 % 48 < 24 ? 255 : 0 }).write(to: truth)
        let mask = try PNGImage.mask(contentsOf: truth, height: height, width: width, fullResolution: sample.fullResolution)
        #expect(mask == (0..<(height * width)).map { $0 % width < width / 2 })
    }

    /// `tissue: {method: all}` makes every pixel tissue (a tile from inside tissue), where Otsu's
    /// threshold splits the picture.
    @Test func everyPixelIsTissueWithMethodAll() throws {
        let otsu = try HESource(HESource.Configuration()).load(Self.pyramid, label: nil)
        #expect(otsu.tissue.count < otsu.height * otsu.width)
        let c = try PluginConfiguration(json: Data(#"{"tissue": {"method": "all"}}"#.utf8)).decode(HESource.Configuration.self)
        #expect(c.tissue.method == .all && c.tissue.closing == 2)  // the other keys keep their defaults
        let all = try HESource(c).load(Self.pyramid, label: nil)
        #expect(all.tissue.count == all.height * all.width)
        // Read region by region (no overview is made for it), likewise.
        let regions = try #require(try HESource(c).regions(of: Self.pyramid, label: nil))
        let part = try regions.region(y: 1, x: 2, height: regions.height - 1, width: regions.width - 2)
        #expect(part.tissue.count == part.height * part.width && regions.tissueNote == nil)
        // Without an overview, a grey file is named from its header (PNG and TIFF, black or white zero, with alpha); a
        // colour or palette file is not.
        for name in ["grey8.png", "greya8.png", "grey8_lzw_strips.tif", "grey8_miniswhite_packbits_strips.tif", "greya8_deflate_tiles.tif",
                     "palette8.png", "palette8_lzw_strips.tif", "rgb16.png", "pyramid_subifds.tif"] {
            let file = fixturesDirectory.appendingPathComponent("raster/\(name)")
            let read = try #require(try HESource(c).regions(of: file, label: nil))
            #expect((read.metadata[Sample.warningKey] == HESource.colourless) == name.hasPrefix("grey"), "\(name)")
        }
        // A misspelled key in the section is named as such, not as the key it leaves missing.
        #expect { try PluginConfiguration(json: Data(#"{"tissue": {"methd": "all"}}"#.utf8), source: "he.yaml: options").decode(HESource.Configuration.self) }
            throws: { "\($0)" == "he.yaml: options: unknown key 'tissue.methd': did you mean 'method'?" }
    }

    /// A level the file lacks (a PNG has one) is named with the option that asks for it.
    /// Whether a region may hold tissue, told from the overview without reading it, agrees with
    /// the region's own mask for every window of a few sizes (Otsu's tissue: part of the image).
    @Test func regionsTellTissueWithoutReading() throws {
        let regions = try #require(try HESource(HESource.Configuration()).regions(of: Self.pyramid, label: nil))
        for (h, w) in [(1, 1), (3, 5), (8, 8), (40, 48)] {
            for y in stride(from: 0, through: regions.height - h, by: max(1, h / 2)) {
                for x in stride(from: 0, through: regions.width - w, by: max(1, w / 2)) {
                    let tissue = try regions.region(y: y, x: x, height: h, width: w).tissue.pixels.contains(true)
                    #expect(regions.mayHoldTissue(y: y, x: x, height: h, width: w) == tissue, "\(h)×\(w) at (\(y), \(x))")
                }
            }
        }
    }

    @Test func aMissingLevelNamesTheOption() throws {
        var configuration = HESource.Configuration()
        configuration.level = 3
        #expect { try HESource(configuration).load(Self.pyramid, label: nil) } throws: {
            "\($0)".contains("pyramid_subifds.tif: has 3 levels (TIFF); the modality reads level 3 (its option 'level'")
        }
        configuration.level = 1
        let png = fixturesDirectory.appendingPathComponent("raster/rgb8.png")
        #expect { try HESource(configuration).load(png, label: nil) } throws: { "\($0)".contains("rgb8.png: has 1 level (PNG)") }
    }

    /// A 16-bit image holding 12-bit values reads near-black: it is named as dark (with its
    /// brightest value of the range), not as colourless, which its channels' small gaps suggested.
    @Test func aDarkImageIsNamedAsDark() {
        let stain: [Float] = [0.8, 0.4, 0.7, 0.95, 0.95, 0.95, 0.5, 0.2, 0.6, 0.9, 0.85, 0.9]  // four pixels of colour and glass
        let full = RasterImage(width: 2, height: 2, channels: 3, values: stain, bitDepth: 16)
        #expect(HESource.colourWarning(full) == nil)
        let twelveBit = RasterImage(width: 2, height: 2, channels: 3, values: stain.map { ($0 * 4095).rounded() / 65535 }, bitDepth: 16)
        let warning = HESource.colourWarning(twelveBit)
        #expect(warning?.hasPrefix("the image is dark throughout: its brightest value is 3890 of 65535 (16-bit samples), as 12-bit") == true,
                "\(warning ?? "none")")
    }
}
