import Foundation
import CTIFF

/// libtiff's global warning/error printers, dropped once (per-handle handlers keep the messages).
private let rasterTIFFSilenced: Void = compseg_tiff_silence()

/// The largest strip row or tile `RasterFile` decodes at once (a guard against corrupt tile sizes).
private let maximumPieceBytes = 1 << 30

/// The TIFF side of `RasterFile`: describing pages and SubIFDs, finding levels, and decoding the
/// tiles or strip rows that a region intersects.
enum RasterTIFF {
    static func describe(_ url: URL) throws -> RasterDescription {
        let f = try RasterTIFFFile(url)
        var images: [RasterImageInfo] = []
        try f.select(page: 0, subIFD: nil)
        var page = 0
        while true {
            images.append(f.info(page: page, subIFD: nil))
            let offsets = f.subIFDOffsets()
            for k in offsets.indices {
                try f.select(page: page, subIFD: k)
                images.append(f.info(page: page, subIFD: k))
            }
            if !offsets.isEmpty { try f.select(page: page, subIFD: nil) }
            f.clearError()
            guard TIFFReadDirectory(f.tiff) == 1 else {
                let problem = f.lastError
                guard problem.isEmpty else { throw f.error("page \(page + 1) cannot be read\(problem)") }
                break
            }
            page += 1
        }
        let format: RasterDescription.Format = TIFFIsBigTIFF(f.tiff) != 0 ? .bigTIFF : .tiff
        return RasterDescription(format: format, images: images, levels: levels(of: images))
    }

    /// The level rule of `RasterFile` over `describe`'s images: page 0, then its SubIFDs if it has
    /// any, else the later tiled pages if page 0 is tiled, else every later page.
    static func levels(of images: [RasterImageInfo]) -> [Int] {
        guard let first = images.first else { return [] }
        let subIFDs = images.indices.filter { images[$0].page == 0 && images[$0].subIFD != nil }
        if !subIFDs.isEmpty { return [0] + subIFDs }
        let pages = images.indices.filter { images[$0].subIFD == nil }
        return first.isTiled ? pages.filter { images[$0].isTiled } : pages
    }

    static func read(_ url: URL, level: Int, region: RasterRegion?) throws -> RasterImage {
        let f = try RasterTIFFFile(url)
        let (page, subIFD) = try f.locate(level: level)
        return try read(f, page: page, subIFD: subIFD, what: "level \(level) (\(subIFD.map { "page \(page) SubIFD \($0)" } ?? "page \(page)"))",
                        region: region)
    }

    static func read(_ url: URL, page: Int, subIFD: Int?, region: RasterRegion?) throws -> RasterImage {
        let f = try RasterTIFFFile(url)
        guard page >= 0 else { throw f.error("page \(page) does not exist; pages count from 0") }
        try f.select(page: page, subIFD: subIFD)
        return try read(f, page: page, subIFD: subIFD, what: subIFD.map { "page \(page) SubIFD \($0)" } ?? "page \(page)", region: region)
    }

    /// The image `f` has selected, page `page` (and SubIFD `subIFD`), called `what` in messages.
    private static func read(_ f: RasterTIFFFile, page: Int, subIFD: Int?, what: String, region: RasterRegion?) throws -> RasterImage {
        let info = f.info(page: page, subIFD: subIFD)
        if let why = info.unsupported { throw f.error("\(what): \(why)") }
        let map = try SampleMap(f, info: info, what: what)
        let r = try RasterFile.checkedRegion(region, width: info.width, height: info.height, channels: map.outputs,
                                             stored: (info.samplesPerPixel, info.bitsPerSample), storedShare: info.storedShare, file: f.file, what: what)
        if info.photometricCode == Int(PHOTOMETRIC_YCBCR) {  // JPEG-compressed (SampleMap checked): libtiff converts to RGB
            guard compseg_tiff_set_u16(f.tiff, UInt32(TIFFTAG_JPEGCOLORMODE), UInt16(JPEGCOLORMODE_RGB)) == 1 else {
                throw f.error("\(what): libtiff cannot convert its JPEG YCbCr to RGB\(f.lastError)")
            }
        }
        var values = [Float](repeating: 0, count: r.width * r.height * map.outputs)
        try values.withUnsafeMutableBufferPointer { out in
            let reader = PieceReader(f: f, info: info, map: map, region: r, out: out.baseAddress!, what: what)
            if case .tiles(let w, let h) = info.layout { try reader.readTiles(width: w, height: h) } else { try reader.readStripRows() }
        }
        guard map.alpha != nil else {
            return RasterImage(width: r.width, height: r.height, channels: map.channels, values: values, bitDepth: map.bitDepth)
        }
        return map.separatingAlpha(values, width: r.width, height: r.height)
    }
}

/// An open libtiff handle for reading, with libtiff's last error for it; closes itself.
final class RasterTIFFFile {
    let tiff: OpaquePointer
    let file: String
    private let message: UnsafeMutablePointer<compseg_tiff_message>

    init(_ url: URL) throws {
        _ = rasterTIFFSilenced
        try requireExistingFile(url)
        let message = UnsafeMutablePointer<compseg_tiff_message>.allocate(capacity: 1)
        guard let t = compseg_tiff_open(url.path, "r", message) else {
            defer { message.deallocate() }
            let said = Self.text(of: message)
            throw IOError(file: url.path, "not a readable TIFF file\(said)"
                          + (said.isEmpty ? Self.firstDirectoryProblem(url) : tiffTruncation(said, path: url.path)))
        }
        (tiff, file, self.message) = (t, url.path, message)
    }
    deinit { TIFFClose(tiff); message.deallocate() }

    /// Where libtiff gave no reason: what the header says of the first image directory
    /// ("; its header points to no image directory (offset 0)"), or "".
    static func firstDirectoryProblem(_ url: URL) -> String {
        guard let file = try? BoundedFile(url), let head = try? file.bytes(at: 0, count: min(16, file.length), "header"),
              head.count >= 4 else { return "" }
        let order: ByteOrder = head.raw[0] == 0x49 ? .little : .big
        let bigTIFF = (try? head.integer(UInt16.self, at: 2, "version", order)) == 43
        guard let offset = bigTIFF ? try? head.integer(UInt64.self, at: 8, "offset", order)
                : (try? head.integer(UInt32.self, at: 4, "offset", order)).map(UInt64.init) else { return "; the file ends inside its header" }
        if offset == 0 { return "; its header points to no image directory (offset 0)" }
        if offset >= UInt64(file.length) {
            return "; its first image directory lies at byte \(offset), past the end of the file (\(file.length) bytes): it is truncated"
        }
        return ""
    }

    /// libtiff's last error for this handle, as " (libtiff: …)", or "" when it said nothing.
    var lastError: String { Self.text(of: message) }
    func clearError() { message.pointee.text.0 = 0 }
    private static func text(of message: UnsafeMutablePointer<compseg_tiff_message>) -> String {
        var text = withUnsafeBytes(of: message.pointee.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        // libtiff prints a failed read's -1 (or a negative count) as an unsigned 64-bit number: "got none".
        text.replace(/got 18446744\d{12} bytes/) { _ in "got none" }
        return text.isEmpty ? "" : " (libtiff: \(text))"
    }
    func error(_ text: String) -> IOError { IOError(file: file, text) }

    /// "; the file ends at byte N, before the end of its data (bytes A..<B): truncated" where the
    /// tile or strip `strile`'s data runs past the end of the file; "" otherwise.
    func truncation(of strile: UInt32) -> String {
        let (offset, count) = (TIFFGetStrileOffset(tiff, strile), TIFFGetStrileByteCount(tiff, strile))
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? UInt64, overflow || end > size
        else { return "" }
        return "; the file ends at byte \(size), before the end of its data (bytes \(offset)..<\(offset &+ count)): truncated"
    }

    func u32(_ tag: Int32) -> UInt32? { var v: UInt32 = 0; return compseg_tiff_get_u32(tiff, UInt32(tag), &v) == 1 ? v : nil }
    func u16(_ tag: Int32) -> UInt16? { var v: UInt16 = 0; return compseg_tiff_get_u16(tiff, UInt32(tag), &v) == 1 ? v : nil }
    func defaultedU16(_ tag: Int32) -> UInt16? {
        var v: UInt16 = 0
        return compseg_tiff_get_defaulted_u16(tiff, UInt32(tag), &v) == 1 ? v : nil
    }

    /// The current directory's SubIFD offsets (none when it has no SubIFD tag).
    func subIFDOffsets() -> [UInt64] {
        var count: UInt16 = 0
        var offsets: UnsafeMutablePointer<UInt64>? = nil
        guard compseg_tiff_get_subifds(tiff, &count, &offsets) == 1, let offsets else { return [] }
        return Array(UnsafeBufferPointer(start: offsets, count: Int(count)))
    }

    /// Makes page `page` (counted from 0), or its SubIFD `subIFD`, the current directory.
    func select(page: Int, subIFD: Int?) throws {
        clearError()
        guard let directory = tdir_t(exactly: page), TIFFSetDirectory(tiff, directory) == 1 else {
            throw error("page \(page) cannot be read\(lastError)")
        }
        guard let k = subIFD else { return }
        let offsets = subIFDOffsets()
        guard k >= 0, k < offsets.count else { throw error("page \(page) has \(offsets.count) SubIFDs; SubIFD \(k) does not exist") }
        guard TIFFSetSubDirectory(tiff, offsets[k]) == 1 else {
            throw error("page \(page)'s SubIFD \(k) (at byte \(offsets[k])) cannot be read\(lastError)")
        }
    }

    /// Selects level `level` (see `RasterFile`) and says which image it is.
    func locate(level: Int) throws -> (page: Int, subIFD: Int?) {
        guard level >= 0 else { throw error("level \(level) does not exist; levels count from 0") }
        try select(page: 0, subIFD: nil)
        if level == 0 { return (0, nil) }
        let subIFDs = subIFDOffsets().count
        if subIFDs > 0 {
            guard level <= subIFDs else {
                throw error("has \(subIFDs + 1) levels (page 0 and its \(subIFDs) SubIFDs); level \(level) does not exist")
            }
            try select(page: 0, subIFD: level - 1)
            return (0, level - 1)
        }
        let tiledOnly = TIFFIsTiled(tiff) != 0
        var (page, found) = (0, 0)
        while true {
            clearError()
            guard TIFFReadDirectory(tiff) == 1 else {
                let problem = lastError
                guard problem.isEmpty else { throw error("page \(page + 1) cannot be read\(problem)") }
                let kind = tiledOnly ? "page 0 and \(found) later tiled page\(found == 1 ? "" : "s")" : "\(page + 1) page\(page == 0 ? "" : "s")"
                throw error("has \(found + 1) level\(found == 0 ? "" : "s") (\(kind)); level \(level) does not exist")
            }
            page += 1
            if !tiledOnly || TIFFIsTiled(tiff) != 0 {
                found += 1
                if found == level { return (page, nil) }
            }
        }
    }

    /// Why the current directory is no grey or colour picture: two or more extra samples that are
    /// not alpha (a multichannel image, such as fluorescence markers, whose channels beyond the
    /// first would be dropped without a word); nil otherwise. One unspecified extra sample is
    /// taken as it comes (writers often leave an alpha unspecified).
    private func multichannelProblem(samplesPerPixel spp: Int, photometric: Int) -> String? {
        let colourSamples = photometric == Int(PHOTOMETRIC_RGB) || photometric == Int(PHOTOMETRIC_YCBCR) ? 3 : 1
        guard spp - colourSamples >= 2 else { return nil }
        var count: UInt16 = 0
        var types: UnsafeMutablePointer<UInt16>? = nil
        let declared = compseg_tiff_get_extrasamples(tiff, &count, &types) == 1 && types != nil
            ? Array(UnsafeBufferPointer(start: types, count: Int(count))) : []
        let alpha = declared.filter { $0 == UInt16(EXTRASAMPLE_ASSOCALPHA) || $0 == UInt16(EXTRASAMPLE_UNASSALPHA) }.count
        let others = spp - colourSamples - alpha
        guard others >= 2 else { return nil }
        return "SamplesPerPixel (277) = \(spp): \(colourSamples) \(colourSamples == 3 ? "colour samples" : "grey sample") and \(others) "
            + "extra samples that are not alpha, so a multichannel image (such as fluorescence markers), not a grey or RGB "
            + "picture; expected at most one extra sample"
    }

    /// Where the current directory is tiled and its TileOffsets or TileByteCounts list fewer tiles
    /// than the image has, why it is refused: libtiff pads the lists with zeros, which read as
    /// tiles never stored (a sparse file's white glass), so the missing part would pass silently.
    func shortTileIndex() -> String? {
        guard TIFFIsTiled(tiff) != 0 else { return nil }
        let tiles = UInt64(TIFFNumberOfTiles(tiff))  // planes included; from the image size (libtiff may trim its strile count)
        for (tag, name) in [(UInt16(TIFFTAG_TILEOFFSETS), "TileOffsets"), (UInt16(TIFFTAG_TILEBYTECOUNTS), "TileByteCounts")] {
            if let count = declaredCount(of: tag), count < tiles {
                return "its \(name) lists \(count) of its \(tiles) tiles: the file is damaged (the tiles it does not list are not in it)"
            }
        }
        return nil
    }

    /// The count the current directory's entry for `tag` declares, read from the file (libtiff
    /// gives the values, not how many the file held); nil where it has no such entry or cannot be read.
    func declaredCount(of tag: UInt16) -> UInt64? {
        guard let bounded = try? BoundedFile(URL(fileURLWithPath: file)), let mark = try? bounded.bytes(at: 0, count: 2, "byte order") else { return nil }
        let order: ByteOrder = mark.raw == [0x49, 0x49] ? .little : .big
        let big = TIFFIsBigTIFF(tiff) != 0, directory = Int(clamping: TIFFCurrentDirOffset(tiff))
        // Classic TIFF: a 2-byte entry count, entries of 12 bytes (tag, type, 4-byte count, value); BigTIFF: 8, 20, 8-byte count.
        let (countBytes, entryBytes) = big ? (8, 20) : (2, 12)
        func unsigned(_ bytes: Bytes, at offset: Int, wide: Bool, narrow: Int) throws -> UInt64 {
            if wide { return try bytes.integer(UInt64.self, at: offset, "count", order) }
            return narrow == 2 ? UInt64(try bytes.integer(UInt16.self, at: offset, "count", order))
                : UInt64(try bytes.integer(UInt32.self, at: offset, "count", order))
        }
        do {
            let head = try bounded.bytes(at: directory, count: countBytes, "directory")
            let entries = Int(min(try unsigned(head, at: 0, wide: big, narrow: 2), 4096))
            let table = try bounded.bytes(at: directory + countBytes, count: entries * entryBytes, "entries")
            for k in 0..<entries where try table.integer(UInt16.self, at: k * entryBytes, "tag", order) == tag {
                return try unsigned(table, at: k * entryBytes + 4, wide: big, narrow: 4)
            }
        } catch { return nil }
        return nil
    }

    /// The current directory as `RasterImageInfo`, with the reason `RasterFile` refuses it, if any.
    func info(page: Int, subIFD: Int?) -> RasterImageInfo {
        let width = Int(u32(TIFFTAG_IMAGEWIDTH) ?? 0), height = Int(u32(TIFFTAG_IMAGELENGTH) ?? 0)
        let spp = Int(defaultedU16(TIFFTAG_SAMPLESPERPIXEL) ?? 1)
        let bits = Int(defaultedU16(TIFFTAG_BITSPERSAMPLE) ?? 1)
        let format = Int(defaultedU16(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT))
        let photometric = u16(TIFFTAG_PHOTOMETRIC).map(Int.init) ?? -1
        let compression = Int(defaultedU16(TIFFTAG_COMPRESSION) ?? UInt16(COMPRESSION_NONE))
        let separate = defaultedU16(TIFFTAG_PLANARCONFIG).map(Int32.init) == PLANARCONFIG_SEPARATE
        let layout: RasterImageInfo.Layout = TIFFIsTiled(tiff) != 0
            ? .tiles(width: Int(u32(TIFFTAG_TILEWIDTH) ?? 0), height: Int(u32(TIFFTAG_TILELENGTH) ?? 0))
            : .strips(rowsPerStrip: min(height, Int(u32(TIFFTAG_ROWSPERSTRIP) ?? UInt32(height))))
        let unsupported = TIFFNames.problem(width: width, height: height, samplesPerPixel: spp, bits: bits, sampleFormat: format,
                                            photometric: photometric, compression: compression, separate: separate, layout: layout)
            ?? multichannelProblem(samplesPerPixel: spp, photometric: photometric) ?? shortTileIndex()
        var info = RasterImageInfo(page: page, subIFD: subIFD, width: width, height: height, samplesPerPixel: spp, bitsPerSample: bits,
                               photometric: TIFFNames.photometric(photometric), photometricCode: photometric,
                               compression: TIFFNames.compression(compression), compressionCode: compression,
                               separatePlanes: separate, layout: layout, subfileType: Int(u32(TIFFTAG_SUBFILETYPE) ?? 0),
                               unsupported: unsupported)
        info.extraSamples = extraSamples()
        info.storedShare = storedShare()
        return info
    }

    /// The share of the current directory's strips or tiles with a byte count above 0.
    private func storedShare() -> Double {
        // From the image size (libtiff may trim its strile count where the first has none stored).
        let pieces = TIFFIsTiled(tiff) != 0 ? TIFFNumberOfTiles(tiff) : TIFFNumberOfStrips(tiff)
        guard pieces > 0 else { return 1 }
        let stored = (0..<pieces).reduce(0) { $0 + (TIFFGetStrileByteCount(tiff, $1) > 0 ? 1 : 0) }
        return Double(stored) / Double(pieces)
    }

    /// The current directory's extra samples (ExtraSamples, 338) in words: "associated alpha",
    /// "unassociated alpha", "unspecified"; nil when it declares none.
    private func extraSamples() -> String? {
        var count: UInt16 = 0
        var types: UnsafeMutablePointer<UInt16>? = nil
        guard compseg_tiff_get_extrasamples(tiff, &count, &types) == 1, let types, count > 0 else { return nil }
        return UnsafeBufferPointer(start: types, count: Int(count)).map { type in
            switch Int32(type) {
            case EXTRASAMPLE_ASSOCALPHA: "associated alpha"
            case EXTRASAMPLE_UNASSALPHA: "unassociated alpha"
            default: "unspecified"
            }
        }.joined(separator: ", ")
    }
}

/// Tag values' names, and which combinations `RasterFile` reads.
enum TIFFNames {
    static func compression(_ code: Int) -> String {
        switch code {
        case 1: "none"
        case 2: "CCITT RLE"
        case 3: "CCITT Group 3"
        case 4: "CCITT Group 4"
        case 5: "LZW"
        case 6: "old-style JPEG"
        case 7: "JPEG"
        case 8, 32946: "Deflate"
        case 32773: "PackBits"
        case 33003, 33005, 34712: "JPEG 2000"
        case 34887: "LERC"
        case 34925: "LZMA"
        case 50000: "ZSTD"
        case 50001: "WebP"
        case 50002: "JPEG XL"
        default: "compression \(code)"
        }
    }

    static func photometric(_ code: Int) -> String {
        switch code {
        case -1: "missing"
        case 0: "min-is-white"
        case 1: "min-is-black"
        case 2: "RGB"
        case 3: "palette"
        case 4: "transparency mask"
        case 5: "separated (CMYK)"
        case 6: "YCbCr"
        case 8: "CIE L*a*b*"
        case 9: "ICC L*a*b*"
        case 10: "ITU L*a*b*"
        case 32803: "colour filter array"
        case 32844: "LogL"
        case 32845: "LogLuv"
        case 34892: "linear raw"
        default: "photometric \(code)"
        }
    }

    static func sampleFormat(_ code: Int) -> String {
        switch code {
        case 1: "unsigned integer"
        case 2: "signed integer"
        case 3: "IEEE floating point"
        case 4: "undefined"
        case 5: "complex integer"
        case 6: "complex floating point"
        default: "sample format \(code)"
        }
    }

    /// Why `RasterFile` cannot read an image with these fields (naming the tag and its value), or nil.
    static func problem(width: Int, height: Int, samplesPerPixel spp: Int, bits: Int, sampleFormat: Int,
                        photometric: Int, compression: Int, separate: Bool, layout: RasterImageInfo.Layout) -> String? {
        guard width > 0, height > 0 else { return "ImageWidth (256) × ImageLength (257) = \(width)×\(height) has no pixels" }
        guard bits == 8 || bits == 16 else {
            let kind = sampleFormat == 1 || sampleFormat == 4 ? "" : " (\(self.sampleFormat(sampleFormat)) samples)"
            return "BitsPerSample (258) = \(bits)\(kind) is not supported; expected 8 or 16 bit unsigned integers"
        }
        guard sampleFormat == 1 || sampleFormat == 4 else {
            return "SampleFormat (339) = \(sampleFormat) (\(self.sampleFormat(sampleFormat))) is not supported; expected 1 (unsigned integer)"
        }
        let jpeg = compression == Int(COMPRESSION_JPEG)
        switch photometric {
        case 0, 1, 3: guard spp >= 1 else { return "SamplesPerPixel (277) = 0" }
        case 2: guard spp >= 3 else { return "SamplesPerPixel (277) = \(spp) is too few for RGB; expected 3 or more" }
        case 6:
            guard jpeg else {
                return "PhotometricInterpretation (262) = 6 (YCbCr) is supported only with JPEG compression, not Compression (259) = \(compression) (\(self.compression(compression)))"
            }
            guard spp == 3, !separate else { return "JPEG YCbCr needs 3 contiguous samples per pixel; this has \(spp)\(separate ? " in separate planes" : "")" }
        default:
            return "PhotometricInterpretation (262) = \(photometric) (\(self.photometric(photometric))) is not supported; expected 0 (min-is-white), 1 (min-is-black), 2 (RGB), 3 (palette) or 6 (YCbCr, JPEG-compressed)"
        }
        if jpeg && bits != 8 { return "BitsPerSample (258) = \(bits) with JPEG compression is not supported; expected 8" }
        guard TIFFIsCODECConfigured(UInt16(clamping: compression)) == 1 else {
            return "Compression (259) = \(compression) (\(self.compression(compression))) is not supported by this libtiff"
        }
        switch layout {
        case .tiles(let w, let h): guard w > 0, h > 0 else { return "TileWidth (322) × TileLength (323) = \(w)×\(h) is empty" }
        case .strips(let rows): guard rows > 0 else { return "RowsPerStrip (278) = 0" }
        case .rows: break
        }
        return nil
    }
}

/// How one TIFF image's samples become output channels: output channel k is `tables[k][sample]`
/// of stored sample `sources[k]` (palette: three tables of the index sample). An alpha sample
/// (ExtraSamples (338) = 1 associated or 2 unassociated) is read as one more output, after the colours.
struct SampleMap {
    /// The colour channels: 1 grey or 3 RGB.
    let channels: Int
    private(set) var sources: [Int]
    private(set) var tables: [[Float]]
    let bitDepth: Int
    /// The stored sample that holds opacity, and whether the colours are premultiplied by it.
    let alpha: (sample: Int, associated: Bool)?
    /// Values per output pixel: the colours, and the opacity when there is one.
    var outputs: Int { sources.count }
    /// Grey stored min-is-white: values are 1 − sample.
    let minIsWhite: Bool

    init(_ f: RasterTIFFFile, info: RasterImageInfo, what: String) throws {
        let levels = 1 << info.bitsPerSample
        let top = Float(levels - 1)
        minIsWhite = info.photometricCode == Int(PHOTOMETRIC_MINISWHITE)
        switch info.photometricCode {
        case Int(PHOTOMETRIC_PALETTE):
            var red: UnsafeMutablePointer<UInt16>? = nil, green: UnsafeMutablePointer<UInt16>? = nil, blue: UnsafeMutablePointer<UInt16>? = nil
            guard compseg_tiff_get_colormap(f.tiff, &red, &green, &blue) == 1, let red, let green, let blue else {
                throw f.error("\(what): a palette image without ColorMap (320)")
            }
            let maps = [red, green, blue].map { (map: UnsafeMutablePointer<UInt16>) in Array(UnsafeBufferPointer(start: map, count: levels)) }
            // As libtiff's RGBA interface: a map whose entries all lie below 256 was written as 8-bit.
            let eightBit = maps.allSatisfy { $0.allSatisfy { $0 < 256 } }
            let scale: Float = eightBit ? 255 : 65535
            (channels, sources, bitDepth) = (3, [0, 0, 0], eightBit ? 8 : 16)
            tables = maps.map { $0.map { Float($0) / scale } }
        case Int(PHOTOMETRIC_MINISWHITE):
            (channels, sources, bitDepth) = (1, [0], info.bitsPerSample)
            tables = [(0..<levels).map { (top - Float($0)) / top }]
        case Int(PHOTOMETRIC_MINISBLACK):
            (channels, sources, bitDepth) = (1, [0], info.bitsPerSample)
            tables = [(0..<levels).map { Float($0) / top }]
        default:  // RGB, or JPEG YCbCr that libtiff delivers as RGB
            let table = (0..<levels).map { Float($0) / top }
            (channels, sources, bitDepth, tables) = (3, [0, 1, 2], info.bitsPerSample, [table, table, table])
        }
        alpha = Self.alphaSample(f, info: info, colourSamples: info.photometricCode == Int(PHOTOMETRIC_RGB) ? 3 : 1)
        if let alpha {
            sources.append(alpha.sample)
            tables.append((0..<levels).map { Float($0) / top })
        }
    }

    /// The first extra sample marked as alpha, after the `colourSamples` colour samples; none for
    /// palette and JPEG YCbCr images, or when the extra samples are unspecified (0) or absent.
    private static func alphaSample(_ f: RasterTIFFFile, info: RasterImageInfo, colourSamples: Int) -> (sample: Int, associated: Bool)? {
        guard info.photometricCode != Int(PHOTOMETRIC_PALETTE), info.photometricCode != Int(PHOTOMETRIC_YCBCR),
              info.samplesPerPixel > colourSamples else { return nil }
        var count: UInt16 = 0
        var types: UnsafeMutablePointer<UInt16>? = nil
        guard compseg_tiff_get_extrasamples(f.tiff, &count, &types) == 1, let types else { return nil }
        let extras = Array(UnsafeBufferPointer(start: types, count: min(Int(count), info.samplesPerPixel - colourSamples)))
        guard let k = extras.firstIndex(where: { $0 == UInt16(EXTRASAMPLE_ASSOCALPHA) || $0 == UInt16(EXTRASAMPLE_UNASSALPHA) }) else { return nil }
        return (colourSamples + k, extras[k] == UInt16(EXTRASAMPLE_ASSOCALPHA))
    }

    /// Decoded pixels (colours, then opacity) as a `RasterImage` with `alpha`; premultiplied
    /// colours are divided by their opacity (at most 1), so `values` are the colours as seen.
    func separatingAlpha(_ decoded: [Float], width: Int, height: Int) -> RasterImage {
        let n = width * height
        var colours = [Float](repeating: 0, count: n * channels), opacity = [Float](repeating: 1, count: n)
        let associated = alpha?.associated ?? false
        for p in 0..<n {
            let a = decoded[p * outputs + channels]
            opacity[p] = a
            for c in 0..<channels {
                let v = decoded[p * outputs + c]
                guard associated else { colours[p * channels + c] = v; continue }
                let stored = minIsWhite ? 1 - v : v  // min-is-white values are inverted samples
                let seen = a > 0 ? min(1, stored / a) : 0
                colours[p * channels + c] = minIsWhite ? 1 - seen : seen
            }
        }
        return RasterImage(width: width, height: height, channels: channels, values: colours, bitDepth: bitDepth, alpha: opacity)
    }
}

/// Decodes the pieces (tiles, or rows of strips) of the current directory that `region` covers
/// into `out` (region.height × region.width × map.channels floats).
private struct PieceReader {
    let f: RasterTIFFFile
    let info: RasterImageInfo
    let map: SampleMap
    let region: RasterRegion
    let out: UnsafeMutablePointer<Float>
    let what: String

    var bytesPerSample: Int { info.bitsPerSample / 8 }
    /// Samples per pixel in one decoded piece: all of them, or one in separate planes.
    var samplesInPiece: Int { info.separatePlanes ? 1 : info.samplesPerPixel }
    /// The planes to decode: one for contiguous samples, else each plane an output channel needs.
    var planes: [Int] { info.separatePlanes ? Array(Set(map.sources)).sorted() : [0] }

    /// Converts `count` pixels starting at `source` (a decoded piece's pixel) of plane `plane`
    /// into the output at region pixel (`x`, `y`).
    func convert(_ source: UnsafeRawPointer, count: Int, plane: Int, x: Int, y: Int) {
        let target = out + (y * region.width + x) * map.outputs
        let stride = samplesInPiece
        for k in 0..<map.outputs where !info.separatePlanes || map.sources[k] == plane {
            let sample = info.separatePlanes ? 0 : map.sources[k]
            map.tables[k].withUnsafeBufferPointer { table in
                if bytesPerSample == 1 {
                    let s = source.assumingMemoryBound(to: UInt8.self)
                    for i in 0..<count { target[i * map.outputs + k] = table[Int(s[i * stride + sample])] }
                } else {
                    for i in 0..<count {
                        let v = source.loadUnaligned(fromByteOffset: (i * stride + sample) * 2, as: UInt16.self)
                        target[i * map.outputs + k] = table[Int(v)]
                    }
                }
            }
        }
    }

    /// Sets `count` output pixels at region pixel (`x`, `y`) as a tile the file does not store:
    /// white, and transparent where the image has opacity (as slide viewers show such tiles).
    func unscanned(count: Int, plane: Int, x: Int, y: Int) {
        let target = out + (y * region.width + x) * map.outputs
        for k in 0..<map.outputs where !info.separatePlanes || map.sources[k] == plane {
            let value: Float = map.alpha != nil && k == map.channels ? 0 : 1
            for i in 0..<count { target[i * map.outputs + k] = value }
        }
    }

    /// Bytes of `count` items of `size` bytes, or an error when that overflows or exceeds the limit.
    func pieceBytes(_ dims: [Int], _ name: String) throws -> Int {
        var total = 1
        for d in dims {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p <= maximumPieceBytes else { throw f.error("\(what): one \(name) would need more than \(maximumPieceBytes) bytes") }
            total = p
        }
        return total
    }

    /// Where the image is Deflate-compressed and zlib finds the stream of strip or tile `strile`
    /// damaged, its reason (libtiff stops before the stream's checksum: damage in mid-stream would
    /// decode to other pixels without a word); nil otherwise. Costs a second inflate of each.
    func deflateDamage(_ strile: UInt32, tiled: Bool) -> String? {
        guard info.compressionCode == Int(COMPRESSION_ADOBE_DEFLATE) || info.compressionCode == Int(COMPRESSION_DEFLATE) else { return nil }
        var why = [CChar](repeating: 0, count: 256)
        guard compseg_tiff_deflate_sound(f.tiff, strile, tiled ? 1 : 0, &why, why.count) == 0 else { return nil }
        return String(cString: why)
    }

    /// Decodes each tile that intersects the region, once per needed plane.
    func readTiles(width tw: Int, height th: Int) throws {
        let rowBytes = try pieceBytes([tw, samplesInPiece, bytesPerSample], "tile row")
        let tileBytes = try pieceBytes([rowBytes, th], "tile")
        guard TIFFTileSize64(f.tiff) == UInt64(tileBytes) else {
            throw f.error("\(what): libtiff expects tiles of \(TIFFTileSize64(f.tiff)) bytes, not \(tw)×\(th)×\(samplesInPiece)×\(bytesPerSample)\(f.lastError)")
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: tileBytes, alignment: 16)
        defer { buffer.deallocate() }
        let (x0, y0, x1, y1) = (region.x, region.y, region.x + region.width, region.y + region.height)
        for ty in stride(from: y0 / th * th, to: y1, by: th) {
            for tx in stride(from: x0 / tw * tw, to: x1, by: tw) {
                let (left, right, top, bottom) = (max(tx, x0), min(tx + tw, x1), max(ty, y0), min(ty + th, y1))
                // The decoded bytes this tile must deliver: up to the last pixel the region uses.
                let needed = (bottom - 1 - ty) * rowBytes + (right - tx) * samplesInPiece * bytesPerSample
                for plane in planes {
                    let tile = TIFFComputeTile(f.tiff, UInt32(tx), UInt32(ty), 0, UInt16(plane))
                    // A tile the file does not store (a sparse TIFF: offset and byte count 0) is glass the scanner skipped.
                    if TIFFGetStrileByteCount(f.tiff, tile) == 0 && TIFFGetStrileOffset(f.tiff, tile) == 0 {
                        for y in top..<bottom { unscanned(count: right - left, plane: plane, x: left - x0, y: y - y0) }
                        continue
                    }
                    f.clearError()
                    let got = TIFFReadEncodedTile(f.tiff, tile, buffer, tmsize_t(tileBytes))
                    guard got >= needed, f.lastError.isEmpty else {  // a message after a full read: libjpeg's damaged data
                        throw f.error("\(what): tile \(tile) (x \(tx), y \(ty)\(planes.count > 1 ? ", plane \(plane)" : "")) cannot be decoded\(got >= 0 ? ": \(got) of \(needed) bytes" : "")\(f.lastError)\(f.truncation(of: tile))")
                    }
                    if let damage = deflateDamage(tile, tiled: true) {
                        throw f.error("\(what): tile \(tile) (x \(tx), y \(ty)) holds damaged Deflate data (\(damage))")
                    }
                    for y in top..<bottom {
                        convert(buffer + (y - ty) * rowBytes + (left - tx) * samplesInPiece * bytesPerSample,
                                count: right - left, plane: plane, x: left - x0, y: y - y0)
                    }
                }
            }
        }
    }

    /// Decodes the region's rows one at a time, each plane in turn, reading each strip forward from
    /// its first row (libtiff cannot seek inside a compressed strip); keeps one row in memory.
    func readStripRows() throws {
        guard case .strips(let rowsPerStrip) = info.layout else { return }
        let rowBytes = try pieceBytes([info.width, samplesInPiece, bytesPerSample], "row")
        guard TIFFScanlineSize64(f.tiff) == UInt64(rowBytes) else {
            throw f.error("\(what): libtiff expects rows of \(TIFFScanlineSize64(f.tiff)) bytes, not \(info.width)×\(samplesInPiece)×\(bytesPerSample)\(f.lastError)")
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 16)
        defer { buffer.deallocate() }
        let (y0, y1) = (region.y, region.y + region.height)
        for plane in planes {
            for y in (y0 / rowsPerStrip * rowsPerStrip)..<y1 {
                if y % rowsPerStrip == 0 {
                    let strip = TIFFComputeStrip(f.tiff, UInt32(y), UInt16(plane))
                    if let damage = deflateDamage(strip, tiled: false) {
                        throw f.error("\(what): row \(y) (strip \(strip)) holds damaged Deflate data (\(damage))")
                    }
                }
                f.clearError()
                guard TIFFReadScanline(f.tiff, buffer, UInt32(y), UInt16(plane)) == 1, f.lastError.isEmpty else {
                    let strip = TIFFComputeStrip(f.tiff, UInt32(y), UInt16(plane))
                    throw f.error("\(what): row \(y) (strip \(strip)\(planes.count > 1 ? ", plane \(plane)" : "")) cannot be decoded\(f.lastError)\(f.truncation(of: strip))")
                }
                if y >= y0 {
                    convert(buffer + region.x * samplesInPiece * bytesPerSample, count: region.width, plane: plane, x: 0, y: y - y0)
                }
            }
        }
    }
}
