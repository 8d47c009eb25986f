import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegTestSupport
import SpectralFiles

/// `convert` writes, band of rows by band of rows, what the image read whole holds: the values as
/// read (NaN too) in H×W×B order, the tissue mask the whole image gives, the axis converted, and
/// where it came from; in whole chunks of 16×16 pixels. `slabValues` is made small so that the
/// reading takes several bands.
@Suite struct SpectralConversionTests {
    static func fixture(_ path: String) -> URL { fixturesDirectory.appendingPathComponent(path) }

    /// Converts `url` with `options` and checks the file against the image read whole.
    func checkConversion(_ url: URL, _ options: SpectralFileOptions, axisUnit: String = "cm⁻¹") throws {
        let reader = SpectralFileReader(options)
        let cube = try reader.cube(url)
        let (b, h, w) = (cube.bands, cube.height, cube.width)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.h5")
        let warning = try reader.convert(url, to: out, axisUnit: axisUnit)
        #expect(warning == cube.warning, "\(url.lastPathComponent)")
        let file = try HDF5File(url: out)
        let spectra = try file.readFloats("/spectra")
        #expect(spectra.shape == [h, w, b], "\(url.lastPathComponent)")
        var expected = [Float](repeating: 0, count: b * h * w)
        for k in 0..<b { for p in 0..<(h * w) { expected[p * b + k] = cube.values[k * h * w + p] } }
        #expect(spectra.values.map(\.bitPattern) == expected.map(\.bitPattern), "\(url.lastPathComponent) slab \(options.slabValues)")
        #expect(try file.chunkShape(of: "/spectra") == [min(h, 16), min(w, 16), b])
        let mask = try file.readFloats("/mask")
        #expect(try mask.shape == [h, w] && mask.values == reader.tissue(of: cube).pixels.map { $0 ? 1 : 0 }, "\(url.lastPathComponent)")
        let axis = try SpectralFileReader.axis(cube.axis, unit: cube.axisUnit, wanted: axisUnit)
        let unit = axisUnit == SpectralFileReader.ramanShift ? axisUnit : axis.unit  // a Raman modality's axis stays marked
        #expect(try file.readDoubles("/wavenumbers").values == axis.values && file.attributeString("units", on: "/wavenumbers") == unit)
        #expect(try file.attributeString("format") == cube.format && file.attributeString("source") == url.path)
        #expect((try? folderEntries(folder)) == ["out.h5"], "no temporary is left")
    }

    @Test(arguments: [1, 30, 1 << 22]) func everyRegionFormatConvertsAsReadWhole(slab: Int) throws {
        var c = SpectralFileOptions()
        c.slabValues = slab
        try checkConversion(Self.fixture("infrared/hwb.h5"), c)
        try checkConversion(Self.fixture("infrared/nan.h5"), c)  // NaN kept, out of the tissue
        var bhw = c
        bhw.layout = .bhw
        try checkConversion(Self.fixture("infrared/bhw.h5"), bhw)
        var m = c
        (m.layout, m.spectra, m.wavenumbers, m.mask) = (.matlab, "cube", "wn", "mask")
        try checkConversion(Self.fixture("infrared/matlab.mat"), m)
        let envi = Self.fixture("instruments/envi")
        for name in try FileManager.default.contentsOfDirectory(atPath: envi.path).filter({ $0.hasPrefix("t") && $0.hasSuffix(".hdr") }).sorted() {
            try checkConversion(envi.appendingPathComponent(name), c)
        }
        for name in ["5_mosaic_agg1024.dmt", "partial/5_mosaic_agg1024.dmt"] {
            try checkConversion(Self.fixture("instruments/agilent/\(name)"), c)
        }
        for name in ["cube-f4.npy", "shared/fortran-f8be.npy", "plain/image-u1.npy"] {
            try checkConversion(Self.fixture("instruments/numpy/\(name)"), c)
        }
        for name in ["Si-map-trimmed.wdf", "colmajor.wdf", "unfinished.wdf"] {
            try checkConversion(Self.fixture("instruments/wire/\(name)"), c, axisUnit: SpectralFileReader.ramanShift)
        }
    }

    /// A Raman modality's conversion marks its axis a Raman shift, so that an infrared modality
    /// refuses it as it refuses the original; an axis a modality refuses is written with a warning.
    @Test func ramanAxesStayMarkedAndRefusedAxesAreSaid() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let raman = folder.appendingPathComponent("raman.h5")
        try SpectralFileReader(SpectralFileOptions()).convert(Self.fixture("instruments/wire/Si-map-trimmed.wdf"), to: raman,
                                                              axisUnit: SpectralFileReader.ramanShift)
        #expect(try HDF5File(url: raman).attributeString("units", on: "/wavenumbers") == "Raman shift")
        #expect(throws: (any Error).self) { try SpectralFileReader(SpectralFileOptions()).sample(raman, label: nil, axisUnit: "cm⁻¹") }
        _ = try SpectralFileReader(SpectralFileOptions()).sample(raman, label: nil, axisUnit: SpectralFileReader.ramanShift)
        let warning = try SpectralFileReader(SpectralFileOptions()).convert(Self.fixture("infrared/axis_nan.h5"),
                                                                             to: folder.appendingPathComponent("nan.h5"), axisUnit: "cm⁻¹")
        #expect(warning?.contains("the axis holds NaN at band") == true, "\(warning ?? "no warning")")
    }

    /// An image of more rows than a chunk, stored in chunks of 10 rows: read by whole chunks of
    /// both files, the last band short.
    @Test(arguments: [1, 700, 5000]) func rowsBeyondAChunkConvertInWholeChunks(slab: Int) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (h, w, b) = (43, 37, 7)
        var state: UInt64 = 7
        let values = (0..<(h * w * b)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let source = folder.appendingPathComponent("cube.h5")
        let writer = try HDF5Writer(url: source)
        try writer.write("/spectra", shape: [h, w, b], values: values, gzip: 1, chunks: [10, 37, 7])
        try writer.write("/wavenumbers", shape: [b], values: (0..<b).map { 1800 - Double($0) * 100 })
        try writer.close()
        var c = SpectralFileOptions()
        c.slabValues = slab
        try checkConversion(source, c)
    }
}
