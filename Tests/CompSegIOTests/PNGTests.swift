import Foundation
import Testing
@testable import CompSegIO
import CompSegTestSupport

@Suite struct PNGTests {
    @Test(arguments: [("gray.png", 1), ("rgb.png", 3), ("rgba.png", 4)])
    func readsWhatPILWrote(name: String, channels: Int) throws {
        let image = try PNGImage(contentsOf: ioFixture(name))
        #expect(image.width == 5 && image.height == 4 && image.channels == channels)
        #expect(image.pixels == bytePattern(channels: channels))
        #expect(image[x: 4, y: 3, c: channels - 1] == UInt8((4 + 30 + 100 * (channels - 1)) % 256))
    }

    @Test func expandsAPaletteToRGB() throws {
        let image = try PNGImage(contentsOf: ioFixture("palette.png"))
        let palette: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]
        #expect(image.channels == 3 && image.width == 5 && image.height == 4)
        var expected: [UInt8] = []
        for y in 0..<4 { for x in 0..<5 { expected += palette[(x + y) % 4] } }
        #expect(image.pixels == expected)
    }

    @Test(arguments: [1, 3, 4])
    func roundTrips(channels: Int) throws {
        let (dir, cleanup) = try temporaryFolder("png")
        defer { cleanup() }
        let url = dir.appendingPathComponent("out.png")
        let pixels = (0..<(7 * 3 * channels)).map { UInt8(($0 * 37 + 11) % 256) }
        let image = PNGImage(width: 7, height: 3, channels: channels, pixels: pixels)
        try image.write(to: url)
        try PNGImage(width: 7, height: 3, channels: channels, pixels: pixels.map { 255 - $0 }).write(to: url)  // replaces
        #expect(try PNGImage(contentsOf: url).pixels == pixels.map { 255 - $0 })
        #expect(contents(of: dir) == ["out.png"])
    }

    /// Row by row, in uneven pieces: the same file as written whole; nothing at the path until
    /// `finish`, and nothing left behind by a writer given too few rows or too many.
    @Test(arguments: [1, 3, 4])
    func writesRowByRow(channels: Int) throws {
        let (dir, cleanup) = try temporaryFolder("rows")
        defer { cleanup() }
        let (w, h) = (9, 7), url = dir.appendingPathComponent("rows.png")
        let pixels = (0..<(w * h * channels)).map { UInt8(($0 * 53 + 7) % 256) }
        let writer = try PNGRowWriter(url: url, width: w, height: h, channels: channels)
        for (first, count) in [(0, 2), (2, 1), (3, 4)] { try writer.append(Array(pixels[(first * w * channels)..<((first + count) * w * channels)])) }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        try writer.finish()
        #expect(try PNGImage(contentsOf: url) == PNGImage(width: w, height: h, channels: channels, pixels: pixels))
        #expect(throws: IOError.self) { try writer.append(Array(pixels.prefix(w * channels))) }

        do {  // the writers are gone at the end of this scope: their temporary files with them
            let short = try PNGRowWriter(url: dir.appendingPathComponent("short.png"), width: w, height: h, channels: channels)
            try short.append(Array(pixels.prefix(w * channels)))
            #expect { try short.finish() } throws: { "\($0)".contains("1 of 7 rows were given") }
            let long = try PNGRowWriter(url: dir.appendingPathComponent("long.png"), width: w, height: 1, channels: channels)
            #expect(throws: IOError.self) { try long.append(Array(pixels.prefix(2 * w * channels))) }
            #expect(throws: IOError.self) { try long.append([1, 2]) }  // not whole rows
        }
        #expect(contents(of: dir) == ["rows.png"])
    }

    /// A mask is true where a pixel is neither black nor transparent: a grey 0/1 mask, a green
    /// label on black and a red drawing on a transparent white layer all read as drawn.
    @Test func masksReadColourLabelsAndTransparentLayers() throws {
        let (dir, cleanup) = try temporaryFolder("mask")
        defer { cleanup() }
        let drawn = [false, true, true, false, false, true]
        let cases: [(Int, (Bool) -> [UInt8])] = [
            (1, { [$0 ? 1 : 0] }),
            (3, { $0 ? [0, 255, 0] : [0, 0, 0] }),
            (4, { $0 ? [255, 0, 0, 255] : [255, 255, 255, 0] }),
        ]
        for (channels, pixel) in cases {
            let url = dir.appendingPathComponent("mask\(channels).png")
            try PNGImage(width: 3, height: 2, channels: channels, pixels: drawn.flatMap(pixel)).write(to: url)
            #expect(try PNGImage.mask(contentsOf: url, height: 2, width: 3) == drawn, "\(channels) channels")
        }
    }

    /// Masks as labs save them (pypng, `tools/make_mask_fixtures.py`): the faintest value of 16
    /// bits (1 of 65535) is on, as stored; transparency, by alpha, a tRNS colour key or a
    /// palette's alpha, is off, however bright; a 16-bit picture twice as fine comes down.
    @Test(arguments: ["grey16_01", "grey16_01_interlaced", "greya16", "rgb16", "grey8_trns", "rgb8_trns", "palette_trns", "grey1",
                      "grey16_full"])
    func masksReadAsStoredWithTheirTransparency(name: String) throws {
        let url = fixturesDirectory.appendingPathComponent("masks/\(name).png")
        let drawn = (0..<20).map { p in (p % 5 + 2 * (p / 5)) % 3 == 0 }
        let full: (height: Int, width: Int)? = name.hasSuffix("_full") ? (8, 10) : nil
        #expect(try PNGImage.mask(contentsOf: url, height: 4, width: 5, fullResolution: full) == drawn)
    }

    /// A 1-bit truth of a whole slide holds 8 pixels a byte before compression: 4096² with one
    /// small tumour in 2 KB is read, not refused as more pixels than its file can hold.
    @Test func aLargeSparseOneBitMaskIsRead() throws {
        for name in ["grey1_4096_sparse", "palette1_trns_4096_sparse"] {  // a palette's one index a pixel, transparency or not
            let url = fixturesDirectory.appendingPathComponent("masks/\(name).png")
            let mask = try PNGImage.mask(contentsOf: url, height: 4096, width: 4096)
            #expect(mask.filter { $0 }.count == 10_000 && mask[2050 * 4096 + 1050] && !mask[1050 * 4096 + 2050], "\(name)")
            #expect(try RasterBands(url).rows(2000, count: 100).height == 100)
        }
    }

    /// A mask drawn on the full-resolution image of a sample read at a coarser level (or scale)
    /// comes down to the sample's size by majority over each block (ties true); a picture of any
    /// other size is refused, naming both sizes it could have.
    @Test func fullResolutionMasksComeDownToTheSample() throws {
        let (dir, cleanup) = try temporaryFolder("mask-down")
        defer { cleanup() }
        // 4×6 drawn at twice the sample's 2×3: the blocks hold 4, 2, 1 | 0, 3, 4 set pixels.
        let full: [UInt8] = [1, 1, 1, 0, 0, 0,
                             1, 1, 1, 0, 1, 0,
                             0, 0, 1, 0, 1, 1,
                             0, 0, 1, 1, 1, 1].map { $0 * 255 }
        let url = dir.appendingPathComponent("full.png")
        try PNGImage(width: 6, height: 4, channels: 1, pixels: full).write(to: url)
        #expect(try PNGImage.mask(contentsOf: url, height: 2, width: 3, fullResolution: (4, 6)) == [true, true, false, false, true, true])
        // 5×7 (a level that rounded 2.5×3.5 down): blocks of rows 0–1 | 2–4, columns 0–1 | 2–3 | 4–6.
        let odd = dir.appendingPathComponent("odd.png")
        try PNGImage(width: 7, height: 5, channels: 1, pixels: (0..<35).map { $0 % 7 < 2 ? 255 : 0 }).write(to: odd)
        #expect(try PNGImage.mask(contentsOf: odd, height: 2, width: 3, fullResolution: (5, 7)) == [true, false, false, true, false, false])
        // 1003×2000 drawn for a sample read at a quarter (250×500).
        let large = dir.appendingPathComponent("large.png")
        try PNGImage(width: 2000, height: 1003, channels: 1, pixels: (0..<(1003 * 2000)).map { $0 % 2000 < 1000 ? 255 : 0 }).write(to: large)
        let quarter = try PNGImage.mask(contentsOf: large, height: 250, width: 500, fullResolution: (1003, 2000))
        #expect(quarter.count == 125_000 && quarter.enumerated().allSatisfy { $0.element == ($0.offset % 500 < 250) })
        // Without a full resolution, or of another size than both: refused.
        expectIOError(url, containing: "the picture is 4×6 pixels (height×width); expected the sample's 2×3") {
            _ = try PNGImage.mask(contentsOf: url, height: 2, width: 3)
        }
        expectIOError(url, containing: "expected the sample's 2×3 or the full-resolution image's 4×7") {
            _ = try PNGImage.mask(contentsOf: url, height: 2, width: 3, fullResolution: (4, 7))
        }
        // A "full resolution" below the sample's size would leave blocks empty: refused.
        expectIOError(url, containing: "smaller than the sample's 8×12") {
            _ = try PNGImage.mask(contentsOf: url, height: 8, width: 12, fullResolution: (4, 6))
        }
    }

    /// libpng says only "Read Error" or "CRC error" of a file cut short or damaged; the message
    /// then says where the chunks break, through both readers and the check of a mask file.
    @Test func brokenFilesSayWhereTheChunksBreak() throws {
        let (dir, cleanup) = try temporaryFolder("png-broken")
        defer { cleanup() }
        let whole = dir.appendingPathComponent("whole.png")
        try PNGImage(width: 40, height: 30, channels: 3, pixels: (0..<3600).map { UInt8(($0 * 37) % 251) }).write(to: whole)
        let data = try Data(contentsOf: whole)
        #expect(PNGChunks.diagnosis(of: whole) == "")
        #expect(PNGChunks.crc32(Array("IEND".utf8)) == 0xAE42_6082)  // the CRC every PNG's IEND chunk carries
        let cut = dir.appendingPathComponent("cut.png"), open = dir.appendingPathComponent("open.png")
        let damaged = dir.appendingPathComponent("damaged.png")
        try data.prefix(data.count - 40).write(to: cut)
        try data.prefix(data.count - 12).write(to: open)  // every chunk whole, IEND missing: libpng reads it
        var flipped = data
        flipped[data.count - 30] ^= 0xFF  // inside the last IDAT's data
        try flipped.write(to: damaged)
        let idat = data.count - 12 - (try #require(Self.lastIDATSize(data)))
        for (file, text) in [(cut, "the file ends at byte \(data.count - 40), inside chunk IDAT that starts at byte \(idat)"),
                             (damaged, "chunk IDAT at byte \(idat) fails its CRC check: the file is damaged")] {
            expectIOError(file, containing: text) { _ = try PNGImage(contentsOf: file) }
            expectIOError(file, containing: text) { _ = try RasterFile.read(file) }
            expectIOError(file, containing: text) { try PNGImage.checkDecodes(file) }  // the check a truth file gets, row by row
        }
        try PNGImage.checkDecodes(whole)
        try PNGImage.checkDecodes(fixturesDirectory.appendingPathComponent("masks/grey16_01_interlaced.png"))
        #expect(PNGChunks.diagnosis(of: open)
                    == " (the file ends at byte \(data.count - 12) without the closing IEND chunk, after chunk IDAT at byte \(idat): truncated)")
        // The header pass (describe) finds a file cut inside a chunk, before any row is decoded; a
        // damaged chunk, or one whose last chunk is whole without IEND, is found when decoded.
        expectIOError(cut, containing: "not a readable PNG (the file ends at byte \(data.count - 40), inside chunk IDAT") {
            _ = try RasterFile.describe(cut)
        }
        for file in [whole, open, damaged] { #expect(try RasterFile.describe(file).images[0].width == 40) }
    }

    /// An IHDR whose fields no PNG has (libpng: "Invalid IHDR data") is named field by field,
    /// through both readers; the IHDR of a written file passes.
    @Test func invalidHeaderFieldsAreNamed() throws {
        let (dir, cleanup) = try temporaryFolder("png-ihdr")
        defer { cleanup() }
        let good = dir.appendingPathComponent("good.png")
        try PNGImage(width: 4, height: 3, channels: 3, pixels: [UInt8](repeating: 9, count: 36)).write(to: good)
        let data = try Data(contentsOf: good)
        #expect(PNGChunks.headerProblem(Array(data[16..<29])) == nil)  // IHDR data: bytes 16…28
        for (offset, value, text) in [(16, [0x7F, 0xFF, 0xFF, 0xFF], "width 2147483647; expected 1 to 1000000 pixels"),
                                      (20, [0, 0, 0, 0], "height 0; expected 1 to 1000000"),
                                      (24, [7], "bit depth 7 with colour type 2 (RGB); expected 8, 16"),
                                      (25, [5], "colour type 5; expected 0, 2, 3, 4 or 6"),
                                      (28, [2], "interlace method 2")] as [(Int, [UInt8], String)] {
            var bad = data
            bad.replaceSubrange(offset..<(offset + value.count), with: value)
            let crc = PNGChunks.crc32(bad[12..<29])  // type and data
            bad.replaceSubrange(29..<33, with: withUnsafeBytes(of: crc.bigEndian, Array.init))
            let file = dir.appendingPathComponent("bad\(offset).png")
            try bad.write(to: file)
            expectIOError(file, containing: "(IHDR: \(text)") { _ = try PNGImage(contentsOf: file) }
            expectIOError(file, containing: "(IHDR: \(text)") { _ = try RasterFile.read(file) }
        }
    }

    /// The size of the chunk before IEND (the last IDAT in a file CompSeg wrote).
    static func lastIDATSize(_ data: Data) -> Int? {
        var offset = 8, last: Int?
        while offset + 8 <= data.count {
            let length = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self) == "IEND" { return last }
            (last, offset) = (length + 12, offset + length + 12)
        }
        return nil
    }

    @Test func errorsNameTheFile() throws {
        let missing = ioFixture("no_such.png")
        expectIOError(missing, containing: "does not exist") { _ = try PNGImage(contentsOf: missing) }
        let text = ioFixture("not_hdf5.h5")
        expectIOError(text, containing: "not a PNG file") { _ = try PNGImage(contentsOf: text) }
        let truncated = ioFixture("truncated.png")
        expectIOError(truncated, containing: "cannot decode the image data: ") { _ = try PNGImage(contentsOf: truncated) }
        let (dir, cleanup) = try temporaryFolder("png-error")
        defer { cleanup() }
        let unwritable = dir.appendingPathComponent("no/folder/out.png")
        expectIOError(unwritable, containing: "cannot be written: folder \(dir.path)/no/folder does not exist") {
            try PNGImage(width: 1, height: 1, channels: 1, pixels: [0]).write(to: unwritable)
        }
    }
}
