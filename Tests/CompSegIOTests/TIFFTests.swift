import Foundation
import Testing
@testable import CompSegIO

@Suite struct TIFFTests {
    @Test func readsFloat32() throws {
        let image = try FloatImage(contentsOf: ioFixture("float32.tif"))
        #expect(image.width == 5 && image.height == 4 && image.channels == 2)
        var expected: [Float] = []
        for y in 0..<4 { for x in 0..<5 { for c in 0..<2 { expected.append(Float(x + 10 * y + 100 * c) + 0.25) } } }
        #expect(image.values == expected)
        #expect(image[x: 3, y: 2, c: 1] == 123.25)
    }

    @Test(arguments: [("rgb8.tif", 3), ("gray8_lzw.tif", 1)])
    func readsCompressed8Bit(name: String, channels: Int) throws {
        let image = try FloatImage(contentsOf: ioFixture(name))
        #expect(image.width == 5 && image.height == 4 && image.channels == channels)
        #expect(image.values == bytePattern(channels: channels).map(Float.init))
    }

    @Test(arguments: [(1, TIFFCompression.none), (3, .deflate), (1, .deflate)])
    func roundTrips(channels: Int, compression: TIFFCompression) throws {
        let (dir, cleanup) = try temporaryFolder("tiff")
        defer { cleanup() }
        let url = dir.appendingPathComponent("out.tif")
        // Tall enough for several strips; includes values float32 must keep exactly.
        let (width, height) = (300, 20)
        let values = (0..<(width * height * channels)).map { Float($0) * 0.001 - 3.5 }
        let image = FloatImage(width: width, height: height, channels: channels, values: values)
        try image.write(to: url, compression: compression)
        #expect(try FloatImage(contentsOf: url) == image)
        #expect(contents(of: dir) == ["out.tif"])
    }

    /// A float map whose pixels pass what a classic TIFF's 32-bit offsets reach (a 33000² slide:
    /// 4.4 GB) is a BigTIFF; smaller ones stay classic, which more readers open.
    /// A TIFF cut before its first directory says so, in both readers (the maps' and the he modality's).
    @Test func aTIFFCutBeforeItsDirectoryIsCalledTruncated() throws {
        let (dir, remove) = try temporaryFolder("cut-tiff")
        defer { remove() }
        let url = dir.appendingPathComponent("cut.tif")
        try Data([0x49, 0x49, 0x2A, 0x00, 0x88, 0x13, 0x00, 0x00, 0, 0, 0, 0]).write(to: url)  // directory at byte 5000
        expectIOError(url, containing: "the file ends at byte 12, before it: it is truncated") { _ = try FloatImage(contentsOf: url) }
        expectIOError(url, containing: "the file ends at byte 12, before it: it is truncated") { _ = try RasterFile.describe(url) }
    }

    @Test func largeMapsAreBigTIFF() throws {
        #expect(FloatTIFFWriter.mode(imageBytes: 33000 * 33000 * 4) == "w8")
        #expect(FloatTIFFWriter.mode(imageBytes: 20000 * 20000 * 4) == "w" && FloatTIFFWriter.mode(imageBytes: 64) == "w")
        #expect(FloatTIFFWriter.mode(imageBytes: (1 << 32) - (200 << 20)) == "w8")
    }

    @Test func deflateShrinksSmoothData() throws {
        let (dir, cleanup) = try temporaryFolder("tiff-size")
        defer { cleanup() }
        let image = FloatImage(width: 64, height: 64, channels: 1, values: [Float](repeating: 1, count: 64 * 64))
        let (plain, packed) = (dir.appendingPathComponent("plain.tif"), dir.appendingPathComponent("packed.tif"))
        try image.write(to: plain)
        try image.write(to: packed, compression: .deflate)
        let size = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int }
        #expect(try size(packed) * 10 < size(plain))
        #expect(try FloatImage(contentsOf: packed) == image)
    }

    @Test func errorsNameTheFileAndProperty() throws {
        let sixteen = ioFixture("gray16.tif")
        expectIOError(sixteen, containing: "16-bit samples are not supported; expected 8-bit or 32-bit float") {
            _ = try FloatImage(contentsOf: sixteen)
        }
        let planar = ioFixture("planar.tif")
        expectIOError(planar, containing: "separate sample planes are not supported") { _ = try FloatImage(contentsOf: planar) }
        let text = ioFixture("not_hdf5.h5")
        expectIOError(text, containing: "not a readable TIFF file (libtiff: ") { _ = try FloatImage(contentsOf: text) }
        let missing = ioFixture("no_such.tif")
        expectIOError(missing, containing: "does not exist") { _ = try FloatImage(contentsOf: missing) }
    }

    @Test func truncatedDataNamesTheStrip() throws {
        let (dir, cleanup) = try temporaryFolder("tiff-cut")
        defer { cleanup() }
        let url = dir.appendingPathComponent("cut.tif")
        // tifffile puts the directory before the pixel data, so cutting the end loses the last strip.
        let data = try Data(contentsOf: ioFixture("float32.tif"))
        try data.prefix(data.count - 20).write(to: url)
        expectIOError(url, containing: "strip 1 cannot be decoded (libtiff: Read error on strip 1") { _ = try FloatImage(contentsOf: url) }
    }
}
