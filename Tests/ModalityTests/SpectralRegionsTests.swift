import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegTestSupport
import InfraredModality
import RamanModality
import SpectralFiles
import SpectralPreprocessing

/// An HDF5 or ENVI spectral image read region by region (`SpectralRegions`) gives, region for region,
/// the part of the sample loaded whole: the same values, tissue, preview and metadata, in every
/// layout, every preview, with NaN zeroed or refused alike. The files are the h5py fixtures of
/// `InfraredLayoutTests` (4×5×6); `slabValues` is made small so the first reading takes several
/// bands of rows.
@Suite struct SpectralRegionsTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("infrared/\(name)") }

    /// Every region of `name` of each size in `sizes` equals that crop of the sample loaded whole.
    func checkRegions(_ name: String, _ c: SpectralFileOptions) throws {
        try checkRegions(Self.url(name), c)
    }

    func checkRegions(_ url: URL, _ c: SpectralFileOptions, raman: Bool = false) throws {
        let name = url.lastPathComponent
        let source: any RegionImageSource = raman ? RamanSource(c) : InfraredSource(c)
        let whole = try source.load(url, label: .cancer)
        let (h, w, b) = (whole.height, whole.width, whole.image.shape[0])
        let sizes = [(h, w), (1, w), (max(1, h - 1), max(1, w - 2)), (max(1, h - 2), max(1, w - 1)), (1, 1)]
        let extent = try #require(try source.extent(of: url))
        #expect(extent == ImageExtent(height: h, width: w, wholeLoadBytes: Double(h * w * b * 16)))
        let regions = try #require(try source.regions(of: url, label: .cancer))
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
        #expect(throws: IOError.self) { try regions.region(y: h - 1, x: 0, height: 2, width: w) }
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

    /// A chunked file's chunks, which its readings take whole (rows of a chunk together).
    @Test func chunksAreKnown() throws {
        #expect(try HDF5File(url: Self.url("hwb.h5")).chunkShape(of: "/spectra") == [2, 5, 3])
        #expect(try HDF5File(url: Self.url("huge_declared.h5")).chunkShape(of: "/spectra") == [1, 64, 450])
        let contiguous = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-contiguous-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: contiguous) }
        let writer = try HDF5Writer(url: contiguous)
        try writer.write("/spectra", shape: [2, 3, 4], values: [Float](repeating: 1, count: 24))
        try writer.close()
        #expect(try HDF5File(url: contiguous).chunkShape(of: "/spectra") == nil)
    }

    /// A small file whose spectra were never written (they read as the fill value) is refused as
    /// regions, before the walk over its declared 2000×2000 pixels.
    @Test func neverWrittenSpectraAreRefusedAsRegions() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-unwritten-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try HDF5Writer(url: url)
        try writer.createDataset("/spectra", shape: [2000, 2000, 450], of: Float.self, gzip: 4, chunks: [1, 64, 450])
        try writer.write("/wavenumbers", shape: [450], values: (0..<450).map { 1800 - Double($0) * 2 })
        try writer.close()
        #expect { _ = try InfraredSource().regions(of: url, label: nil) } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("dataset '/spectra' declares 2000×2000×450 values (height×width×bands), but none was ever written")
        }
        // Written in part (a lab may store only the tissue's chunks, the rest reading as 0): read, however
        // far its declared values outnumber its bytes (4096 a byte, here, at most).
        let partial = try Self.oneChunkWritten(height: 2048, width: 2048, bands: 16, at: 8)
        defer { try? FileManager.default.removeItem(at: partial) }
        #expect(try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int ?? 0 < 2048 * 2048 * 16 / 4096)
        var options = SpectralFileOptions()
        options.mask = nil
        let regions = try #require(try InfraredSource(options).regions(of: partial, label: nil))
        #expect(regions.height == 2048 && regions.width == 2048)
        #expect(try regions.region(y: 8, x: 8, height: 8, width: 8).tissue.count == 64)
        // One chunk written of a declared 20000×2000×450: no sparse image is that empty.
        let vast = try Self.oneChunkWritten(height: 20000, width: 2000, bands: 450, at: 0)
        defer { try? FileManager.default.removeItem(at: vast) }
        #expect { _ = try InfraredSource(options).regions(of: vast, label: nil) } throws: {
            "\($0)".contains("but stores only") && "\($0)".contains("too few even for an image mostly never written")
        }
    }

    /// A temporary HDF5 file declaring height×width×bands spectra in gzip chunks of 8×8 pixels, of
    /// which only the chunk at row and column `at` is written (values that do not compress away).
    static func oneChunkWritten(height: Int, width: Int, bands: Int, at: Int) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-one-chunk-\(UUID().uuidString).h5")
        let writer = try HDF5Writer(url: url)
        try writer.createDataset("/spectra", shape: [height, width, bands], of: Float.self, gzip: 9, chunks: [8, 8, bands])
        try writer.write("/spectra", start: [at, at, 0], count: [8, 8, bands], values: (0..<(8 * 8 * bands)).map { 2 + Float(sin(Double($0))) })
        try writer.write("/wavenumbers", shape: [bands], values: (0..<bands).map { 1800 - Double($0) * 2 })
        try writer.close()
        return url
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

    /// ENVI files of every interleave and byte order (the fixtures of `tools/make_instrument_fixtures.py`),
    /// given by header or by data file, with `data ignore value` zeroed.
    @Test func enviFilesGiveTheWholeSamplesParts() throws {
        let folder = fixturesDirectory.appendingPathComponent("instruments/envi")
        var c = SpectralFileOptions()
        c.nonFinite = .zero
        let headers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("t") && $0.hasSuffix(".hdr") }
        #expect(headers.count == 18)
        // Every data type in each interleave and byte order; given by data file too; a header offset and ignored values.
        for name in headers.sorted() + ["t12_bsq_be.seq", "t13_bil_be.dat", "t15_bip_le", "special.img"] {
            let url = folder.appendingPathComponent(name)
            let regions = try #require(try InfraredSource(c).regions(of: url, label: nil))
            #expect(regions.metadata["format"] == "ENVI", "\(name)")
            try checkRegions(url, c)
        }
    }

    /// Agilent mosaics, whole and with a missing tile (NaN, zeroed), given by `.dmt` or by a tile.
    @Test func agilentMosaicsGiveTheWholeSamplesParts() throws {
        let folder = fixturesDirectory.appendingPathComponent("instruments/agilent")
        var c = SpectralFileOptions()
        c.nonFinite = .zero
        for name in ["5_mosaic_agg1024.dmt", "5_Mosaic_agg1024_0000_0001.dmd", "partial/5_mosaic_agg1024.dmt"] {
            let url = folder.appendingPathComponent(name)
            let regions = try #require(try InfraredSource(c).regions(of: url, label: nil))
            #expect(regions.metadata["format"] == "Agilent FPA mosaic", "\(name)")
            #expect(name.hasPrefix("partial") == (regions.metadata["notes"]?.contains("1 missing tiles") ?? false), "\(regions.metadata)")
            try checkRegions(url, c)
        }
        // A tile of another size is named when a region reaches it, as when the mosaic is read whole.
        let odd = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-mosaic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: odd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: odd) }
        for name in ["5_mosaic_agg1024.dmt", "5_Mosaic_agg1024_0000_0000.dmd", "5_Mosaic_agg1024_0000_0001.dmd"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: odd.appendingPathComponent(name))
        }
        let cut = odd.appendingPathComponent("5_Mosaic_agg1024_0000_0001.dmd")
        try Data(try Data(contentsOf: cut).dropLast(4)).write(to: cut)
        #expect { try InfraredSource(c).regions(of: odd.appendingPathComponent("5_mosaic_agg1024.dmt"), label: nil) }
            throws: { "\($0)".contains("0000_0001.dmd: holds") && "\($0)".contains("tiles differ in size") }
    }

    /// NumPy arrays in C and Fortran order, 2-D and 3-D, of several types and byte orders.
    @Test func numpyArraysGiveTheWholeSamplesParts() throws {
        let folder = fixturesDirectory.appendingPathComponent("instruments/numpy")
        for name in ["cube-f4.npy", "cube-i2-v2.npy", "plain/image-i1-f-v3.npy", "plain/image-u1.npy", "shared/fortran-f8be.npy", "shared/u2.npy"] {
            let url = folder.appendingPathComponent(name)
            let regions = try #require(try InfraredSource().regions(of: url, label: nil))
            #expect(regions.metadata["format"] == "NumPy array", "\(name)")
            try checkRegions(url, SpectralFileOptions())
        }
        #expect(throws: IOError.self) { try InfraredSource().extent(of: folder.appendingPathComponent("refused/truncated.npy")) }
    }

    /// WiRE maps (Raman shift: read by the Raman modality), row by row and column by column (Y
    /// fastest), and one whose acquisition stopped early.
    @Test func wireMapsGiveTheWholeSamplesParts() throws {
        for name in ["Si-map-trimmed.wdf", "colmajor.wdf", "unfinished.wdf"] {
            let url = fixturesDirectory.appendingPathComponent("instruments/wire/\(name)")
            let regions = try #require(try RamanSource().regions(of: url, label: nil))
            #expect(regions.metadata["format"] == "Renishaw WiRE", "\(name)")
            try checkRegions(url, SpectralFileOptions(), raman: true)
        }
    }

    /// FSM images (in %T, turned into absorbance per spectrum, and in absorbance), and one whose
    /// acquisition stopped early.
    @Test func fsmImagesGiveTheWholeSamplesParts() throws {
        for name in ["spotlight-trimmed.fsm", "absorbance.fsm", "unfinished.fsm"] {
            let url = fixturesDirectory.appendingPathComponent("instruments/fsm/\(name)")
            let regions = try #require(try InfraredSource().regions(of: url, label: nil))
            #expect(regions.metadata["format"] == "PerkinElmer FSM", "\(name)")
            var c = SpectralFileOptions()
            (c.mask, c.tissue.method) = (nil, .all)
            try checkRegions(url, c)
        }
    }

    /// Only HDF5, ENVI, Agilent mosaics, WiRE maps, FSM images and NumPy arrays are read region by region; a file of another format is loaded whole (nil), and
    /// a Raman modality reads regions as the infrared one does.
    @Test func otherFormatsAreLoadedWhole() throws {
        let text = fixturesDirectory.appendingPathComponent("instruments/text/map-long-wire.txt")
        #expect(try InfraredSource().extent(of: text) == nil && InfraredSource().regions(of: text, label: nil) == nil)
        var c = SpectralFileOptions()
        c.format = .spc
        #expect(try InfraredSource(c).extent(of: Self.url("hwb.h5")) == nil)
        let raman = try #require(try RamanSource().regions(of: Self.url("hwb.h5"), label: nil))
        let (part, whole) = try (raman.region(y: 0, x: 0, height: 4, width: 5), RamanSource().load(Self.url("hwb.h5"), label: nil))
        #expect(part.image.scalars == whole.image.scalars && part.channels == whole.channels)
        #expect(throws: IOError.self) { try InfraredSource().extent(of: Self.url("missing-file.h5")) }
    }
}
