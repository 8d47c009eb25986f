import CompSegTestSupport
import Foundation
import Testing
@testable import CompSegIO

/// The physical pixel size files record, against what independent writers wrote
/// (`tools/make_pixel_size_fixtures.py`: tifffile, PIL, h5py → `Tests/Fixtures/pixelsize`), and
/// what compseg's PNGs carry.
@Suite struct PixelSizeTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("pixelsize/\(name)") }

    /// expected.json: per file, [x, y] in µm, null for none, "refused" for a file that must be refused.
    static let expected: [String: JSONValue] = {
        guard let data = try? Data(contentsOf: url("expected.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { value in
            if let pair = value as? [Double] { return .size(pair[0], pair[1]) }
            return value is String ? .refused : .none
        }
    }()
    enum JSONValue: Equatable { case size(Double, Double), none, refused }

    /// Within 1e-9 relative: TIFF stores resolutions as rationals, read as 32-bit floats (6 digits kept).
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(abs(a), abs(b)) }

    static func newFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-pixelsize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func rastersRecordTheirPixelSize() throws {
        let rasters = Self.expected.keys.filter { $0.hasSuffix(".tif") || $0.hasSuffix(".png") }.sorted()
        #expect(rasters.count == 10, "fixtures missing: run tools/make_pixel_size_fixtures.py")
        for name in rasters {
            let found = RasterFile.pixelSize(Self.url(name))
            switch Self.expected[name] {
            case .size(let x, let y)?:
                #expect(found.map { Self.close($0.size.x, x) && Self.close($0.size.y, y) } == true, "\(name): \(String(describing: found))")
            default:
                #expect(found == nil, "\(name): \(String(describing: found))")
            }
        }
        #expect(RasterFile.pixelSize(Self.url("aperio.tif"))?.source == "the Aperio description's MPP")
        // An editor's 72 dpi is said, not taken; a file without a resolution, or whose size is taken, has nothing to say.
        #expect(RasterFile.resolutionNotTaken(Self.url("res_72dpi.tif")) == "the TIFF's resolution tags (72×72 pixels per inch): 352.8 µm, "
                + "coarser than 50.8 µm, the default of the program that saved the file, not a microscope's pixel; not taken")
        #expect(RasterFile.resolutionNotTaken(Self.url("phys_72dpi.png"))?.hasPrefix("the PNG's pHYs chunk (2835×2835 pixels per metre): 352.7 µm") == true)
        #expect(RasterFile.resolutionNotTaken(Self.url("res_none.tif")) == nil && RasterFile.resolutionNotTaken(Self.url("res_cm.tif")) == nil
                && RasterFile.resolutionNotTaken(Self.url("plain.png")) == nil)
        #expect(RasterFile.pixelSize(Self.url("res_cm.tif"))?.source.contains("pixels per centimetre") == true)
    }

    @Test func enviHeadersRecordTheirPixelSize() throws {
        #expect(try ENVIImage(Self.url("envi_um.hdr")).pixelSize == PixelSize(x: 1.5, y: 2.5))
        #expect(try SpectralCube.readENVI(Self.url("envi_m.hdr")).pixelSize == PixelSize(6.25))
        let folder = try Self.newFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = try String(contentsOf: Self.url("envi_um.hdr"), encoding: .utf8)
        try FileManager.default.copyItem(at: Self.url("envi_um.img"), to: folder.appendingPathComponent("other.img"))
        // A singular unit reads; no length, a zero side or a map's metres read as none, and the file still opens.
        for (size, expected) in [("{1.5, 2.5, units=Micrometer}", PixelSize(x: 1.5, y: 2.5)), ("{1.5, 0, units=Micrometers}", nil),
                                 ("{0.5, 0.5, units=Degrees}", nil), ("{30, 30, units=Meters}", nil), ("{1.5}", nil)] {
            try Data(header.replacingOccurrences(of: "{1.5, 2.5, units=Micrometers}", with: size).utf8)
                .write(to: folder.appendingPathComponent("other.hdr"))
            #expect(try ENVIImage(folder.appendingPathComponent("other.hdr")).pixelSize == expected, "\(size)")
        }
    }

    @Test func textMapsTakeTheirStageStep() {
        #expect(SpectralCube.stageStep([0, 2, 4], [10, 12.5, 15]) == PixelSize(x: 2, y: 2.5))
        #expect(SpectralCube.stageStep([0, 2, 4], [7]) == PixelSize(2))
        #expect(SpectralCube.stageStep([3], [7]) == nil)
    }

    @Test func pixelSizeTextRoundTrips() {
        #expect(PixelSize(text: "0.25") == PixelSize(0.25))
        #expect(PixelSize(text: "6.25x6.5") == PixelSize(x: 6.25, y: 6.5))
        for bad in ["", "0", "-1", "1x", "x1", "1x2x3", "abc", "nan", "inf", "1e-30", "1e300", "1x1e-9"] { #expect(PixelSize(text: bad) == nil, "\(bad)") }
        #expect(PixelSize(1e-3)!.pixelsPerMetre == (1_000_000_000, 1_000_000_000) && PixelSize(1e5)!.pixelsPerMetre == (10, 10))
        for size in [PixelSize(0.25)!, PixelSize(x: 1.5, y: 0.75)!] { #expect(PixelSize(text: size.text) == size) }
        #expect(PixelSize(2)!.squareMillimetres(250_000) == 1)
        #expect(PixelSize(0.5)!.pixelsPerMetre == (2_000_000, 2_000_000))
    }

    /// A PNG written with metadata: its chunks are whole (CRCs checked), its pixels read back, its
    /// pHYs gives the size back, and its text sits in tEXt (ASCII) or iTXt (beyond).
    @Test func writtenPNGsCarryTheirScaleAndText() throws {
        let folder = try Self.newFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = PNGImage(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 10) })
        let file = folder.appendingPathComponent("a.png")
        try image.write(to: file, metadata: PNGMetadata(text: [.init("Description", "spot é, activation > 0.35")], pixelSize: PixelSize(x: 0.5, y: 0.25)))
        #expect(PNGChunks.diagnosis(of: file) == "")
        #expect(try PNGImage(contentsOf: file) == image)
        let found = RasterFile.pixelSize(file)
        #expect(found?.size == PixelSize(x: 0.5, y: 0.25))
        let bytes = try Data(contentsOf: file)
        #expect(bytes.range(of: Data("tEXtSoftware\u{0}compseg \(compsegVersion)".utf8)) != nil)
        #expect(bytes.range(of: Data("iTXtDescription\u{0}\u{0}\u{0}\u{0}\u{0}spot é".utf8)) != nil)
        // Row by row, the same bytes.
        let rows = folder.appendingPathComponent("b.png")
        let writer = try PNGRowWriter(url: rows, width: 3, height: 2, channels: 3,
                                      metadata: PNGMetadata(text: [.init("Description", "spot é, activation > 0.35")], pixelSize: PixelSize(x: 0.5, y: 0.25)))
        try writer.append(image.pixels)
        try writer.finish()
        #expect(try Data(contentsOf: rows) == Data(contentsOf: file))
        #expect(RasterFile.pixelSize(rows)?.size == PixelSize(x: 0.5, y: 0.25))
    }

    @Test func spreadsheetFormulasAreWrittenAsText() {
        for (given, written) in [("+ve_control", "'+ve_control"), ("-ve", "'-ve"), ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
                                 ("@a", "'@a"), ("\tx", "'\tx"), ("'=a", "''=a"), ("''x", "'''x"), ("spot1", "spot1"), ("'quoted", "'quoted"), ("", ""),
                                 ("\r\nx", "'\r\nx"), ("=\u{301}", "'=\u{301}")] {
            #expect(CSV.text(given) == written, "\(given)")
            #expect(CSV.readText(CSV.text(given)) == given, "\(given)")
        }
    }
}
