import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegTestSupport
import InfraredModality
import RamanModality
import SpectralFiles
import SpectralPreprocessing

/// An HDF5 spectral image read region by region (`SpectralRegions`) gives, region for region,
/// the part of the sample loaded whole: the same values, tissue, preview and metadata, in every
/// layout, every preview, with NaN zeroed or refused alike. The files are the h5py fixtures of
/// `InfraredLayoutTests` (4×5×6); `slabValues` is made small so the first reading takes several
/// bands of rows.
@Suite struct SpectralRegionsTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("infrared/\(name)") }

    /// Every region of `name` of each size in `sizes` equals that crop of the sample loaded whole.
    func checkRegions(_ name: String, _ c: SpectralFileOptions, sizes: [(Int, Int)] = [(4, 5), (1, 5), (2, 3), (3, 2), (1, 1)]) throws {
        let source = InfraredSource(c)
        let whole = try source.load(Self.url(name), label: .cancer)
        let (h, w, b) = (whole.height, whole.width, whole.image.shape[0])
        let extent = try #require(try source.extent(of: Self.url(name)))
        #expect(extent == ImageExtent(height: h, width: w, wholeLoadBytes: Double(h * w * b * 16)))
        let regions = try #require(try source.regions(of: Self.url(name), label: .cancer))
        #expect(regions.height == h && regions.width == w && regions.id == whole.id && regions.label == .cancer)
        #expect(regions.metadata == whole.metadata, "\(regions.metadata) \(whole.metadata)")
        for (rh, rw) in sizes {
            for y in 0...(h - rh) { for x in 0...(w - rw) {
                let part = try regions.region(y: y, x: x, height: rh, width: rw)
                var values: [Float] = [], tissue: [Bool] = [], preview: [UInt8] = []
                for k in 0..<b { for r in y..<(y + rh) { for col in x..<(x + rw) { values.append(whole.image.scalars[(k * h + r) * w + col]) } } }
                for r in y..<(y + rh) { for col in x..<(x + rw) {
                    tissue.append(whole.tissue.pixels[r * w + col])
                    preview += whole.preview.bytes[(r * w + col) * 3..<(r * w + col) * 3 + 3]
                } }
                #expect(part.image.shape == [b, rh, rw] && part.image.scalars == values, "\(name) \(y),\(x) \(rh)×\(rw)")
                #expect(part.tissue.pixels == tissue && part.preview.bytes == preview && part.channels == whole.channels)
                #expect(try regions.preview(y: y, x: x, height: rh, width: rw) == part.preview)
                #expect(regions.mayHoldTissue(y: y, x: x, height: rh, width: rw) == tissue.contains(true))
            } }
        }
        #expect(throws: IOError.self) { try regions.region(y: 3, x: 0, height: 2, width: 5) }
    }

    @Test(arguments: [1, 6, 30, 1 << 22]) func everyLayoutGivesTheWholeSamplesParts(slab: Int) throws {
        var c = SpectralFileOptions()
        c.slabValues = slab
        try checkRegions("hwb.h5", c)
        c.layout = .bhw
        try checkRegions("bhw.h5", c)
        var p = SpectralFileOptions.pyir
        p.slabValues = slab
        try checkRegions("pyir.h5", p)
        var m = SpectralFileOptions()
        (m.layout, m.spectra, m.wavenumbers, m.mask, m.slabValues) = (.matlab, "cube", "wn", "mask", slab)
        try checkRegions("matlab.mat", m)
    }

    @Test(arguments: [SpectralPreview.absorbance, .bands([1790, 1796, 1800]), .components])
    func everyPreviewIsTheWholeSamples(preview: SpectralPreview) throws {
        var c = SpectralFileOptions()
        (c.preview, c.slabValues, c.mask) = (preview, 30, nil)
        try checkRegions("hwb.h5", c)
    }

    /// NaN (at row 2, column 3, band 4): zeroed and out of the tissue, as loaded whole; under
    /// `error`, refused with the same message.
    @Test func nonFiniteValuesAsLoadedWhole() throws {
        var c = SpectralFileOptions()
        (c.nonFinite, c.slabValues) = (.zero, 6)
        try checkRegions("nan.h5", c)
        c.nonFinite = .error
        let source = InfraredSource(c)
        var messages: [String] = []
        for read in [{ _ = try source.load(Self.url("nan.h5"), label: nil) }, { _ = try source.regions(of: Self.url("nan.h5"), label: nil) }] {
            do { try read(); Issue.record("nan.h5 was read") } catch { messages.append("\(error)") }
        }
        #expect(messages.count == 2 && messages[0] == messages[1] && messages[0].contains("row 2, column 3"), "\(messages)")
    }

    /// Only HDF5 is read region by region; a file of another format is loaded whole (nil), and
    /// a Raman modality reads regions as the infrared one does.
    @Test func otherFormatsAreLoadedWhole() throws {
        let envi = fixturesDirectory.appendingPathComponent("instruments/envi/t12_bip_le.hdr")
        #expect(try InfraredSource().extent(of: envi) == nil && InfraredSource().regions(of: envi, label: nil) == nil)
        var c = SpectralFileOptions()
        c.format = .envi
        #expect(try InfraredSource(c).extent(of: Self.url("hwb.h5")) == nil)
        let raman = try #require(try RamanSource().regions(of: Self.url("hwb.h5"), label: nil))
        let (part, whole) = try (raman.region(y: 0, x: 0, height: 4, width: 5), RamanSource().load(Self.url("hwb.h5"), label: nil))
        #expect(part.image.scalars == whole.image.scalars && part.channels == whole.channels)
        #expect(throws: IOError.self) { try InfraredSource().extent(of: Self.url("missing-file.h5")) }
    }
}
