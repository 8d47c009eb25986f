import CompSegTestSupport
import Foundation
import Testing
@testable import CompSegIO

/// TIFF and PNG of every common kind against what independent writers wrote
/// (`tools/make_raster_fixtures.py`: tifffile, imagecodecs, pypng, PIL → `Tests/Fixtures/raster`).
@Suite struct RasterTests {
    struct Manifest: Decodable {
        struct Level: Decodable {
            var bits, channels, width, height, page: Int
            var divisor: Double
            var expected: String
            var subifd: Int?
            var tolerance: Int
            /// The opacity plane, where the file has one (`expected/a*.bin`).
            var alpha: String?
        }
        struct File: Decodable { var format: String; var images: Int; var levels: [Level] }
        var files: [String: File]
        var unsupported: [String: String]

        static let shared: Manifest? = try? JSONDecoder().decode(Manifest.self, from: Data(contentsOf: raster("manifest.json")))
    }

    static func raster(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("raster/\(name)") }
    static let files = Manifest.shared.map { $0.files.keys.sorted() } ?? []

    /// The expected samples of one level, as stored: little-endian u8 or u16, H×W×C.
    static func expected(_ level: Manifest.Level, file: String? = nil) throws -> [Float] {
        let data = try Data(contentsOf: raster("expected/\(file ?? level.expected)"))
        let values: [Float] = level.bits == 16
            ? stride(from: 0, to: data.count, by: 2).map { Float(UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8) }
            : data.map { Float($0) }
        return values.map { $0 / Float(level.divisor) }
    }

    /// Pages of one size are noted as a stack, not a pyramid; a pyramid's levels are not.
    @Test func aStackOfPagesIsNoted() throws {
        #expect(try RasterFile.describe(Self.raster("multipage_strips.tif")).description
                    .contains("note: 3 levels have one size: a stack of pages (channels, z-planes or times), not a pyramid"))
        #expect(try !RasterFile.describe(Self.raster("pyramid_subifds.tif")).description.contains("note:"))
        // A pyramid stored smallest first: its larger level is noted.
        func image(_ page: Int, _ side: Int) -> RasterImageInfo {
            RasterImageInfo(page: page, subIFD: nil, width: side, height: side, samplesPerPixel: 3, bitsPerSample: 8, photometric: "RGB",
                            photometricCode: 2, compression: "none", compressionCode: 1, separatePlanes: false,
                            layout: .tiles(width: 16, height: 16), subfileType: 0, unsupported: nil)
        }
        let upward = RasterDescription(format: .tiff, images: [image(0, 64), image(1, 128)], levels: [0, 1])
        #expect(upward.description.contains("note: level 1 (128×128) is larger than level 0 (64×64)"), "\(upward)")
    }

    /// Every level of every file: size, channels, depth, and pixels exactly, except JPEG within
    /// 3/255 (here both decoders are libjpeg-turbo and agree exactly; another libjpeg may round
    /// its upsampling or IDCT differently).
    @Test(arguments: files) func readsWhatTheIndependentWriterWrote(_ name: String) throws {
        let file = try #require(Manifest.shared?.files[name])
        let description = try RasterFile.describe(Self.raster(name))
        #expect(description.format.rawValue == file.format && description.images.count == file.images && description.levels.count == file.levels.count)
        for (index, level) in file.levels.enumerated() {
            let image = try RasterFile.read(Self.raster(name), level: index)
            #expect([image.width, image.height, image.channels, image.bitDepth] == [Int]([level.width, level.height, level.channels, level.bits]),
                    "\(name) level \(index)")
            let expected = try Self.expected(level)
            #expect(expected.count == image.values.count, "\(name) level \(index)")
            let worst = zip(expected, image.values).map { Swift.abs($0 - $1) }.max() ?? 0
            let levels = level.tolerance < 0 ? 3 : level.tolerance  // the manifest marks JPEG (lossy) levels with -1
            #expect(worst <= Float(levels) / Float(level.divisor) + 1e-7, "\(name) level \(index): \(worst)")
            #expect(try image.alpha == level.alpha.map { try Self.expected(level, file: $0) }, "\(name) level \(index): alpha")
            #expect(description.images[description.levels[index]].page == level.page)
        }
    }

    @Test(arguments: ["rgb8_lzw_tiles.tif", "rgb8_none_strips.tif", "rgb8_planar_deflate_strips.tif", "rgb8_jpeg_ycbcr_strips.tif",
                      "rgb8_interlaced.png", "rgb16_bigendian_none_strips.tif", "pyramid_subifds.tif"])
    func regionsEqualCropsOfTheWholeLevel(_ name: String) throws {
        let levels = try RasterFile.describe(Self.raster(name)).levels.count
        for level in 0..<levels {
            let whole = try RasterFile.read(Self.raster(name), level: level)
            for (x, y, w, h) in [(0, 0, 1, 1), (whole.width - 1, whole.height - 1, 1, 1), (3, 5, min(17, whole.width - 3), min(11, whole.height - 5))] {
                let region = try RasterFile.read(Self.raster(name), level: level, region: (x, y, w, h))
                #expect(region == whole.cropped(x: x, y: y, width: w, height: h), "\(name) level \(level) region \((x, y, w, h))")
            }
        }
    }

    /// `RasterBands` gives each band as the whole level's rows, whatever the order: overlapping
    /// bands down the image (as a tiled walk reads them), the same band again, a jump back up; a
    /// PNG walked downward is decoded once, each row once, and the jump back decodes from its top
    /// (an interlaced one is decoded whole once and kept).
    @Test(arguments: files)
    func bandsEqualTheWholeLevelsRows(_ name: String) throws {
        let levels = try RasterFile.describe(Self.raster(name)).levels.count
        for level in 0..<levels {
            let whole = try RasterFile.read(Self.raster(name), level: level), bands = try RasterBands(Self.raster(name), level: level)
            #expect(bands.width == whole.width && bands.height == whole.height)
            let rows = min(7, whole.height), step = max(1, rows - 2)
            var walk = stride(from: 0, to: whole.height - rows + 1, by: step).map { ($0, rows) }
            if walk.last!.0 + rows < whole.height { walk.append((whole.height - rows, rows)) }
            for (y, count) in walk + [walk.last!, (0, 1), (whole.height / 2, whole.height - whole.height / 2)] {
                #expect(try bands.rows(y, count: count) == whole.cropped(x: 0, y: y, width: whole.width, height: count),
                        "\(name) level \(level) rows \(y)..<\(y + count)")
                if (y, count) == walk.last!, let decoded = bands.decodedRows {
                    #expect(decoded == whole.height, "\(name): \(decoded) rows decoded for a walk down \(whole.height)")
                }
            }
            if let decoded = bands.decodedRows, whole.height > 1 {
                // The jump back to row 0 decodes from the top again, and the last band continues from there.
                #expect(decoded == (name.contains("interlaced") ? 1 : 2) * whole.height, "\(name): \(decoded) rows decoded in all")
            }
        }
    }

    /// An image read by where it is stored (page, SubIFD) is the level it is, for every level of
    /// every fixture; pages that are no level read too (a thumbnail); others are named.
    @Test(arguments: files)
    func pagesReadAsTheirLevels(_ name: String) throws {
        let url = Self.raster(name), description = try RasterFile.describe(url)
        for (level, index) in description.levels.enumerated() {
            let image = description.images[index]
            #expect(try RasterFile.read(url, page: image.page, subIFD: image.subIFD) == RasterFile.read(url, level: level), "\(name) level \(level)")
        }
        for image in description.images where image.unsupported == nil && !description.levels.contains(where: { description.images[$0] == image }) {
            let read = try RasterFile.read(url, page: image.page, subIFD: image.subIFD)
            #expect(read.width == image.width && read.height == image.height, "\(name) \(image)")
        }
        let pages = (description.images.map(\.page).max() ?? 0) + 1
        #expect { try RasterFile.read(url, page: pages) } throws: { "\($0)".contains("page \(pages)") }
        #expect { try RasterFile.read(url, page: 0, subIFD: 5) } throws: { "\($0)".contains("SubIFD") }
    }

    /// A PNG cut short is refused when opened (its header pass), naming where it ends; one damaged
    /// half-way: its bands above the damage read, one below it is refused naming the row, and the
    /// reader starts afresh for the next band, which reads as before.
    @Test func aDamagedPNGsBandsReadUpToTheDamage() throws {
        let (dir, remove) = try temporaryFolder("bands")
        defer { remove() }
        var generator = SystemRandomNumberGenerator()
        let pixels = (0..<(64 * 2000)).map { _ in UInt8.random(in: 0...255, using: &generator) }  // noise: rows compress little
        let whole = dir.appendingPathComponent("whole.png"), cut = dir.appendingPathComponent("cut.png")
        try PNGImage(width: 64, height: 2000, channels: 1, pixels: pixels).write(to: whole)
        let bytes = try Data(contentsOf: whole)
        try bytes.prefix(bytes.count / 2).write(to: cut)
        #expect { _ = try RasterBands(cut) } throws: { "\($0)".contains("cut.png: not a readable PNG (the file ends at byte \(bytes.count / 2), inside chunk IDAT") }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0xFF
        try flipped.write(to: cut)
        let bands = try RasterBands(cut)
        let top = try bands.rows(0, count: 10)
        #expect(top == (try RasterFile.read(whole, region: (0, 0, 64, 10))))
        #expect { _ = try bands.rows(1990, count: 10) } throws: { "\($0)".contains("cut.png") && "\($0)".contains("cannot be decoded") }
        #expect(try bands.rows(1, count: 10) == (try RasterFile.read(whole, region: (0, 1, 64, 10))), "row 10 decoded afresh")
    }

    /// Alpha (a PNG's, a palette's transparency, a TIFF's alpha extra sample) comes apart from the
    /// colours, in whole images and regions; `rgb` composites over white, so a transparent
    /// background is empty slide. (The opacity itself is checked against the writer's above.)
    @Test(arguments: ["rgba8.png", "rgba16_interlaced.png", "greya8.png", "palette4_trns.png", "rgba8_planar_none_strips.tif",
                      "rgba16_deflate_strips.tif", "greya8_deflate_tiles.tif"])
    func alphaIsKeptApartAndCompositedOverWhite(_ name: String) throws {
        let image = try RasterFile.read(Self.raster(name))
        let alpha = try #require(image.alpha)
        if name.hasSuffix(".tif") {  // inspect says so: "extra samples: associated alpha"
            #expect(try RasterFile.describe(Self.raster(name)).description.contains(name.hasPrefix("rgba16") ? "extra samples: associated alpha"
                                                                                     : "extra samples: unassociated alpha"))
        }
        #expect(alpha.count == image.width * image.height && alpha.contains { $0 < 1 } && alpha.allSatisfy { $0 >= 0 && $0 <= 1 })
        let rgb = image.rgb
        #expect(rgb.channels == 3 && rgb.alpha == nil)
        for p in 0..<alpha.count {
            for c in 0..<3 {
                let stored = image.values[p * image.channels + (image.channels == 1 ? 0 : c)]
                #expect(Swift.abs(rgb.values[3 * p + c] - (stored * alpha[p] + 1 - alpha[p])) < 1e-6)
            }
        }
        let region = try RasterFile.read(Self.raster(name), region: (x: 3, y: 2, width: 9, height: 7))
        #expect(region == image.cropped(x: 3, y: 2, width: 9, height: 7))
        #expect(try RasterFile.read(Self.raster("rgb8.png")).alpha == nil)
    }

    @Test func unsupportedVariantsAndBadRequestsAreNamed() throws {
        let manifest = try #require(Manifest.shared)
        for (name, reason) in manifest.unsupported {
            #expect {
                try RasterFile.read(Self.raster(name))
            } throws: { error in
                (error as? IOError).map { $0.file.hasSuffix(name) && $0.message.contains(reason) } ?? false
            }
        }
        #expect {
            try RasterFile.read(Self.raster("float32_rgb.tif"))
        } throws: { error in
            "\(error)".contains("BitsPerSample (258) = 32 (IEEE floating point samples) is not supported; expected 8 or 16 bit unsigned integers")
        }
        // A palette index past the palette: refused by the 8-bit reader (truth masks) too, and by a band reader.
        for name in ["palette8_bad_index.png", "palette8_bad_index_interlaced.png"] {
            let reason = try #require(manifest.unsupported[name])
            #expect { try PNGImage(contentsOf: Self.raster(name)) } throws: { "\($0)".contains(reason) && "\($0)".contains(name) }
            #expect { try RasterBands(Self.raster(name)) } throws: { "\($0)".contains(reason) }
        }
        // Palettes with fewer colours than their depth allows, every index inside: read by both readers.
        for name in ["palette2_partial.png", "palette4_partial_trns_interlaced.png"] {
            #expect(try PNGImage(contentsOf: Self.raster(name)).width == 37)
            #expect(try RasterBands(Self.raster(name)).rows(0, count: 29).height == 29)
        }
        let tiled = Self.raster("rgb8_lzw_tiles.tif")
        #expect(throws: IOError.self) { try RasterFile.read(tiled, level: 5) }
        #expect(throws: IOError.self) { try RasterFile.read(tiled, level: -1) }
        #expect(throws: IOError.self) { try RasterFile.read(tiled, region: (30, 20, 20, 20)) }
        #expect(throws: IOError.self) { try RasterFile.read(Self.raster("README.md")) }
    }

    /// Files of other formats are named by their format; others, and empty ones, by their first bytes.
    @Test func otherFormatsAreNamed() throws {
        let (dir, cleanup) = try temporaryFolder("raster-other")
        defer { cleanup() }
        let cases: [(bytes: [UInt8], says: String)] = [
            ([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10] + Array("JFIF".utf8), "is a JPEG file, not a TIFF or PNG (starts with bytes FF D8 FF E0"),
            (Array("BM".utf8) + [0x36, 0, 0, 0], "is a BMP file"), (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "is a WebP file"),
            ([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A], "is an HDF5 file, not a TIFF or PNG (starts with bytes 89 48 44 46 0D 0A 1A 0A); "
                + "spectral images are read by the infrared and raman modalities"),
            (Array("ENVI\nsamples = 4".utf8), "is neither a TIFF nor a PNG file (starts with bytes 45 4E 56 49 0A 73 61 6D); spectral images"),
            (Array("hello, world".utf8), "is neither a TIFF nor a PNG file (starts with bytes 68 65 6C 6C 6F 2C 20 77)"),
            ([], "is neither a TIFF nor a PNG file (starts with bytes none: empty file)"),
        ]
        for (i, c) in cases.enumerated() {
            let file = dir.appendingPathComponent("image\(i).png")
            try Data(c.bytes).write(to: file)
            #expect { try RasterFile.describe(file) } throws: { "\($0)".contains("image\(i).png: \(c.says)") }
        }
    }

    /// Files cut short or with a broken first IFD offset only ever read or throw an IOError.
    @Test func truncatedAndCorruptFilesNeverCrash() throws {
        let (dir, cleanup) = try temporaryFolder("raster-cut")
        defer { cleanup() }
        for name in Self.files {
            let data = try Data(contentsOf: Self.raster(name))
            let target = dir.appendingPathComponent(name)
            var variants = [0, 8, 16, data.count / 4, data.count / 2, data.count - 1].map { data.prefix($0) }
            if name.hasSuffix(".tif"), data.count > 8, data[0] == 0x49 {  // little-endian classic TIFF: IFD offset at 4
                for offset: UInt32 in [0, 9, UInt32(data.count), .max] {
                    var bad = data
                    withUnsafeBytes(of: offset.littleEndian) { bad.replaceSubrange(4..<8, with: $0) }
                    variants.append(bad)
                }
            }
            for variant in variants {
                try variant.write(to: target)
                do { _ = try RasterFile.read(target) } catch is IOError {}
            }
        }
    }

    /// JPEG data damaged where libjpeg notices (extraneous bytes before a marker: 40 bytes changed
    /// here), which it decodes around with only a warning, is refused, not read as shifted blocks.
    /// (Damage within the entropy-coded data alone decodes to other pixels without a word: JPEG
    /// holds no checksum.)
    @Test(arguments: ["rgb8_jpeg_ycbcr_strips.tif"])
    func damagedJPEGDataIsRefused(_ name: String) throws {
        let (dir, cleanup) = try temporaryFolder("raster-jpeg-damage")
        defer { cleanup() }
        var data = try Data(contentsOf: Self.raster(name))
        for i in (data.count / 2)..<(data.count / 2 + 40) { data[i] ^= 0x5A }
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        expectIOError(url, containing: "cannot be decoded") { _ = try RasterFile.read(url) }
    }

    /// Deflate data damaged in mid-stream, which inflates to other bytes until zlib's checksum at
    /// its end (which libtiff never reads), is refused, naming the strip or tile.
    @Test(arguments: ["rgb8_deflate_strips.tif", "grey16_deflate_tiles.tif"])
    func damagedDeflateDataIsRefused(_ name: String) throws {
        let (dir, cleanup) = try temporaryFolder("raster-deflate-damage")
        defer { cleanup() }
        let url = dir.appendingPathComponent(name)
        let data = try Data(contentsOf: Self.raster(name))
        _ = try RasterFile.read(Self.raster(name))  // sound as written
        var refused = 0
        for start in stride(from: data.count / 3, to: data.count * 2 / 3, by: max(1, data.count / 12)) {
            var damaged = data
            for i in start..<min(start + 8, damaged.count) { damaged[i] ^= 0x5A }
            try damaged.write(to: url)
            do { _ = try RasterFile.read(url) } catch let e as IOError {
                refused += 1
                #expect(e.message.contains("cannot be decoded") || e.message.contains("holds damaged Deflate data") || e.message.contains("not a readable"), "\(e)")
            }
        }
        #expect(refused >= 3, "damage went unseen in \(name)")
    }

    /// The size check weighs what a file must decode against its bytes: a slide with most tiles
    /// unstored (white glass) or a 1-bit image decodes less than its pixel count says, and passes;
    /// the same pixels as 8-bit samples, all stored, in so few bytes, cannot be.
    @Test func theSizeCheckWeighsStoredTilesAndBits() throws {
        let file = Self.raster("rgb8_sparse_deflate_tiles.tif").path  // a few kilobytes
        #expect(throws: IOError.self) { try requirePlausibleSize([4096, 4096, 3], file: file, what: "a slide") }
        try requirePlausibleSize([4096, 4096, 3], storedShare: 2.0 / 65536, file: file, what: "a slide")
        // ... but not 262144² in those bytes, however few of its tiles it stores.
        #expect(throws: IOError.self) { try requirePlausibleSize([262144, 262144, 3], storedShare: 1.0 / 65536, file: file, what: "a slide") }
        try requirePlausibleSize([4096, 4096, 1], bitsPerSample: 1, file: file, what: "a mask")
        #expect { try requirePlausibleSize([4096, 4096, 3], storedShare: 0, file: file, what: "a slide") } throws: {
            "\($0)".contains("stores none of its strips or tiles")
        }
    }

    /// A header whose first directory is at offset 0, or past the end, says so where libtiff gives no reason.
    @Test func aHeaderWithoutADirectoryIsNamed() throws {
        let (dir, cleanup) = try temporaryFolder("raster-no-ifd")
        defer { cleanup() }
        let url = dir.appendingPathComponent("empty.tif")
        try Data([0x49, 0x49, 0x2A, 0, 0, 0, 0, 0]).write(to: url)
        expectIOError(url, containing: "not a readable TIFF file") { _ = try RasterFile.read(url) }
        do { _ = try RasterFile.read(url) } catch let e as IOError {
            #expect(e.message.contains("(libtiff:") || e.message.contains("its header points to no image directory (offset 0)"), "\(e)")
        }
    }

    /// A tile index cut short (TileOffsets and TileByteCounts listing 2 of the tiles) is refused,
    /// naming the list, not read with the unlisted tiles as white glass.
    @Test func aShortTileIndexIsRefused() throws {
        let (dir, cleanup) = try temporaryFolder("raster-short-index")
        defer { cleanup() }
        var data = try Data(contentsOf: Self.raster("rgb8_sparse_deflate_tiles.tif"))
        #expect(data.prefix(4) == Data([0x49, 0x49, 0x2A, 0x00]))  // little-endian classic TIFF
        func number(_ at: Int, _ size: Int) -> Int { (0..<size).reduce(0) { $0 | Int(data[at + $1]) << (8 * $1) } }
        let ifd = number(4, 4), entries = number(ifd, 2)
        var tiles = 0
        for k in 0..<entries {
            let entry = ifd + 2 + 12 * k
            guard [324, 325].contains(number(entry, 2)) else { continue }
            tiles = number(entry + 4, 4)
            data.replaceSubrange((entry + 4)..<(entry + 8), with: [2, 0, 0, 0])  // 2 entries: still out of line
        }
        #expect(tiles > 2)
        let url = dir.appendingPathComponent("short.tif")
        try data.write(to: url)
        expectIOError(url, containing: "its TileOffsets lists 2 of its \(tiles) tiles: the file is damaged") { _ = try RasterFile.read(url) }
        #expect(try RasterFile.describe(url).images[0].unsupported?.contains("TileOffsets lists 2") == true)
    }

    @Test func onlyTheTilesARegionTouchesAreDecoded() throws {
        let (dir, cleanup) = try temporaryFolder("raster-tiles")
        defer { cleanup() }
        let name = "grey8_none_tiles.tif"
        let cut = dir.appendingPathComponent(name)
        try Data(contentsOf: Self.raster(name)).prefix(896).write(to: cut)
        #expect(try RasterFile.read(cut, region: (0, 0, 1, 1)).values.count == 1)
        // The tile past the cut is named, and why it cannot be read.
        #expect { try RasterFile.read(cut) } throws: { error in
            "\(error)".contains("cannot be decoded") && "\(error)".contains("; the file ends at byte 896, before the end of its data (bytes ")
                && "\(error)".hasSuffix("): truncated")
        }
    }
}
