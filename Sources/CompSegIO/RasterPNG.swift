import Foundation
import CPNG

/// The PNG side of `RasterFile`, with libpng's low-level API (through `compseg_png_reader`, whose
/// C functions catch libpng's longjmp) so 16-bit samples arrive as stored, not as linear light.
enum RasterPNG {
    /// An open `compseg_png_reader` at a fixed address (libpng keeps a pointer to it); closes itself.
    final class Reader {
        let r = UnsafeMutablePointer<compseg_png_reader>.allocate(capacity: 1)
        let file: String

        /// `expand`: as `compseg_png_open`'s (0 as stored, 1 samples of 8 or 16 bits, 2 palette indexes, 3 as 1 with tRNS as alpha).
        init(_ url: URL, expand: Int32) throws {
            try requireExistingFile(url)
            file = url.path
            r.initialize(to: compseg_png_reader())
            guard compseg_png_open(r, file, expand) == 1 else {
                throw IOError(file: file, "not a readable PNG: \(message)\(PNGChunks.diagnosis(of: url))")
            }
        }
        deinit { compseg_png_close(r); r.deallocate() }

        /// libpng's last error.
        var message: String {
            let text = withUnsafeBytes(of: r.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return text.isEmpty ? "libpng gave no reason" : text
        }
    }

    static let colourTypes: [Int32: (name: String, samples: Int)] = [
        PNG_COLOR_TYPE_GRAY: ("grey", 1), PNG_COLOR_TYPE_GRAY_ALPHA: ("grey+alpha", 2), PNG_COLOR_TYPE_RGB: ("RGB", 3),
        PNG_COLOR_TYPE_RGB_ALPHA: ("RGBA", 4), PNG_COLOR_TYPE_PALETTE: ("palette", 1),
    ]

    /// Checks that every pixel of a palette PNG indexes a colour its palette (PLTE) has: libpng
    /// reads a larger index as black without a word (libpng 1.6.39, with its index check on or
    /// off, and `png_get_palette_max` stays 0). Decodes the indexes once more, once per file (as
    /// its path, size and modification time say) in a process; other PNGs pass untouched, and so
    /// do palettes with a colour for every index the bit depth allows.
    /// - Throws: `IOError` naming the file, the first index past the palette, its row and the
    ///   palette's size.
    static func checkPaletteIndexes(_ url: URL) throws {
        try checkedPalettes.run(url) { try checkIndexes(url) }
    }

    /// `checkPaletteIndexes`' check itself.
    private static func checkIndexes(_ url: URL) throws {
        let reader = try Reader(url, expand: 2)
        let p = reader.r.pointee
        guard p.color_type == PNG_COLOR_TYPE_PALETTE else { return }
        let colours = Int(compseg_png_palette_size(reader.r)), width = Int(p.width)
        try requirePlausibleSize([width, Int(p.height), 1], bitsPerSample: Int(p.bit_depth), file: reader.file, what: "the PNG")
        guard colours < 1 << Int(p.bit_depth) else { return }  // every index there is has a colour
        guard p.channels == 1, p.depth == 8, p.row_bytes == width else {
            throw IOError(file: reader.file, "libpng delivers palette indexes in rows of \(p.row_bytes) bytes, expected \(width)")
        }
        let row = UnsafeMutablePointer<UInt8>.allocate(capacity: max(width, 1))
        row.initialize(repeating: 0, count: max(width, 1))  // an interlaced pass fills some pixels of a row
        defer { row.deallocate() }
        for k in 0..<(Int(p.passes) * Int(p.height)) {
            guard compseg_png_read_row(reader.r, row) == 1 else {
                throw IOError(file: reader.file, "row \(k % Int(p.height)) cannot be decoded: \(reader.message)\(PNGChunks.diagnosis(of: url))")
            }
            if let x = (0..<width).first(where: { Int(row[$0]) >= colours }) {
                throw IOError(file: reader.file, "a pixel has palette index \(row[x]), but the palette (PLTE) has \(colours) colours "
                              + "(0–\(colours - 1)): the file is corrupt (row \(k % Int(p.height))\(p.passes > 1 ? ", in an interlaced pass" : ""))")
            }
        }
    }

    /// The palette PNGs checked so far.
    private static let checkedPalettes = OncePerFileVersion()

    static func describe(_ url: URL) throws -> RasterDescription {
        let reader = try Reader(url, expand: 0)
        try PNGChunks.requireWhole(url)
        let p = reader.r.pointee
        let type = colourTypes[p.color_type] ?? ("colour type \(p.color_type)", 0)
        let image = RasterImageInfo(page: 0, subIFD: nil, width: Int(p.width), height: Int(p.height), samplesPerPixel: type.samples,
                                    bitsPerSample: Int(p.bit_depth), photometric: type.name, photometricCode: Int(p.color_type),
                                    compression: "Deflate", compressionCode: 0, separatePlanes: false,
                                    layout: .rows(interlaced: p.interlace != PNG_INTERLACE_NONE), subfileType: 0, unsupported: nil)
        return RasterDescription(format: .png, images: [image], levels: [0])
    }

    /// Reads the PNG, or `region` of it: decodes rows down to the region's last one (one row kept at
    /// a time), or the whole image when it is interlaced.
    static func read(_ url: URL, region: RasterRegion?) throws -> RasterImage {
        try Cursor(url).read(region)
    }

    /// A PNG open for reading downward: each read continues decoding where the last stopped, and
    /// rows of the last whole-width read that a later one asks for again are taken from it (bands
    /// of tiles overlap), so a walk down the image in bands decodes each row once. A read that
    /// starts above both decodes from the top again: any order is right. An interlaced PNG is
    /// decoded whole at the first read and kept for the others.
    final class Cursor {
        private let url: URL
        private var reader: Reader
        /// The row the reader decodes next.
        private var next = 0
        /// The last whole-width read: its first row and its pixels.
        private var last: (y: Int, image: RasterImage)?
        /// Rows decoded so far, for the tests: a walk down the image decodes each row once.
        private(set) var decodedRows = 0
        /// An interlaced image's decoded rows, once read.
        private var interlacedPixels: UnsafeMutablePointer<UInt8>?
        let width: Int, height: Int
        /// Samples per pixel as libpng delivers them (1–4), and their bytes (1 or 2).
        private let stored: Int, bytes: Int
        /// Samples a pixel stores and their bits (1–16), as the file holds them, which bound what it can hold.
        private let storedChannels: Int, storedBits: Int
        private let interlaced: Bool
        private let rowBytes: Int
        /// Sample value → [0, 1].
        private let table: [Float]

        init(_ url: URL) throws {
            self.url = url
            reader = try Reader(url, expand: 3)
            let p = reader.r.pointee
            let (width, height, stored, delivered) = (Int(p.width), Int(p.height), Int(p.channels), Int(p.depth))
            guard [1, 2, 3, 4].contains(stored), delivered == 8 || delivered == 16 else {
                throw IOError(file: reader.file, "libpng delivers \(stored) samples of \(delivered) bits per pixel; expected 1–4 of 8 or 16")
            }
            guard p.row_bytes == width * stored * delivered / 8 else {
                throw IOError(file: reader.file, "libpng delivers rows of \(p.row_bytes) bytes, expected \(width * stored * delivered / 8)")
            }
            (self.width, self.height, self.stored, bytes, rowBytes) = (width, height, stored, delivered / 8, p.row_bytes)
            interlaced = p.interlace != PNG_INTERLACE_NONE
            (storedChannels, storedBits) = (PNGChunks.storedChannels(colourType: Int(p.color_type)), Int(p.bit_depth))
            if p.color_type == PNG_COLOR_TYPE_PALETTE { try RasterPNG.checkPaletteIndexes(url) }
            let top = Float((1 << delivered) - 1)
            table = (0..<(1 << delivered)).map { Float($0) / top }
        }

        /// Grey (1) or RGB (3): alpha (the 2nd or 4th sample) goes to `alpha`.
        private var channels: Int { stored <= 2 ? 1 : 3 }

        func read(_ region: RasterRegion?) throws -> RasterImage {
            let r = try RasterFile.checkedRegion(region, width: width, height: height, channels: channels,
                                                 stored: (storedChannels, storedBits), file: reader.file, what: "the PNG")
            let wholeWidth = r.x == 0 && r.width == width
            if wholeWidth, let last, last.y == r.y, last.image.height == r.height { return last.image }
            var values = [Float](repeating: 0, count: r.width * r.height * channels)
            var alpha = [Float](repeating: 1, count: stored > channels ? r.width * r.height : 0)
            if interlaced {
                let pixels = try decodeInterlaced()
                for y in r.y..<(r.y + r.height) { convert(pixels + y * rowBytes, y: y - r.y, r, &values, &alpha) }
            } else {
                var y = r.y
                if wholeWidth, let last, last.y <= r.y, r.y < last.y + last.image.height {
                    let rows = min(r.height, last.y + last.image.height - r.y), from = r.y - last.y
                    values.replaceSubrange(0..<(rows * width * channels),
                                           with: last.image.values[(from * width * channels)..<((from + rows) * width * channels)])
                    if let kept = last.image.alpha { alpha.replaceSubrange(0..<(rows * width), with: kept[(from * width)..<((from + rows) * width)]) }
                    y += rows
                }
                if y < r.y + r.height {
                    if next > y {
                        reader = try Reader(url, expand: 3)
                        next = 0
                    }
                    let row = UnsafeMutablePointer<UInt8>.allocate(capacity: rowBytes)
                    defer { row.deallocate() }
                    while next < r.y + r.height {
                        guard compseg_png_read_row(reader.r, row) == 1 else {
                            defer { next = height + 1 }  // a later read starts afresh
                            throw IOError(file: reader.file, "row \(next) cannot be decoded: \(reader.message)\(PNGChunks.diagnosis(of: url))")
                        }
                        if next >= y { convert(row, y: next - r.y, r, &values, &alpha) }
                        next += 1
                        decodedRows += 1
                    }
                }
            }
            let image = RasterImage(width: r.width, height: r.height, channels: channels, values: values, bitDepth: bytes * 8,
                                    alpha: alpha.isEmpty ? nil : alpha)
            if wholeWidth { last = (r.y, image) }
            return image
        }

        deinit { interlacedPixels?.deallocate() }

        /// The interlaced image's rows as decoded (`rowBytes` each), decoded at the first call.
        private func decodeInterlaced() throws -> UnsafeMutablePointer<UInt8> {
            if let interlacedPixels { return interlacedPixels }
            reader = try Reader(url, expand: 3)  // afresh: an earlier attempt may have failed midway
            let (total, overflow) = rowBytes.multipliedReportingOverflow(by: height)
            guard !overflow, total <= RasterFile.maximumValues else {
                throw IOError(file: reader.file, "an interlaced \(width)×\(height) PNG is too large to decode at once")
            }
            let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
            var rows: [UnsafeMutablePointer<UInt8>?] = (0..<height).map { pixels + $0 * rowBytes }
            guard compseg_png_read_image(reader.r, &rows) == 1 else {
                pixels.deallocate()
                throw IOError(file: reader.file, "the interlaced image cannot be decoded: \(reader.message)\(PNGChunks.diagnosis(of: url))")
            }
            decodedRows += height
            interlacedPixels = pixels
            return pixels
        }

        /// Converts `r`'s columns of a decoded row (16-bit samples big-endian, as PNG stores them)
        /// into row `y` of the region's `values` and `alpha`.
        private func convert(_ row: UnsafePointer<UInt8>, y: Int, _ r: RasterRegion, _ values: inout [Float], _ alpha: inout [Float]) {
            let (stored, channels, bytes) = (stored, channels, bytes)
            values.withUnsafeMutableBufferPointer { out in
                alpha.withUnsafeMutableBufferPointer { opacity in
                    table.withUnsafeBufferPointer { table in
                        func sample(_ i: Int) -> Float { table[bytes == 1 ? Int(row[i]) : Int(row[i]) << 8 | Int(row[i + 1])] }
                        var o = y * r.width * channels
                        for x in r.x..<(r.x + r.width) {
                            for c in 0..<channels {
                                out[o] = sample((x * stored + c) * bytes)
                                o += 1
                            }
                            if stored > channels { opacity[y * r.width + x - r.x] = sample((x * stored + channels) * bytes) }
                        }
                    }
                }
            }
        }
    }
}
