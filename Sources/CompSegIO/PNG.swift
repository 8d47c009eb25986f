import Foundation
import CPNG

/// An 8-bit image as PNG stores it: `pixels` holds height × width × channels bytes, row-major with
/// the channels of a pixel together (`pixels[(y * width + x) * channels + c]`). Channels: 1 gray,
/// 3 RGB, 4 RGBA.
public struct PNGImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition([1, 3, 4].contains(channels), "PNGImage channels must be 1, 3 or 4, not \(channels)")
        precondition(width > 0 && height > 0 && pixels.count == width * height * channels,
                     "PNGImage \(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// The byte of channel `c` at column `x`, row `y`.
    public subscript(x x: Int, y y: Int, c c: Int) -> UInt8 { pixels[(y * width + x) * channels + c] }

    /// libpng's format code for `channels`.
    private static func format(channels: Int) -> UInt32 {
        switch channels {
        case 1: 0  // PNG_FORMAT_GRAY
        case 3: UInt32(PNG_FORMAT_FLAG_COLOR)  // PNG_FORMAT_RGB
        default: UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)  // PNG_FORMAT_RGBA (Swift skips the macro)
        }
    }
}

extension PNGImage {
    /// Reads any PNG (any bit depth, palette or not), converted to 8 bits: gray stays gray (1),
    /// RGB and palette become RGB (3), anything with alpha or transparency becomes RGBA (4).
    /// - Throws: `IOError` naming the file: missing, not a PNG, or libpng's message (truncated, corrupt).
    public init(contentsOf url: URL) throws {
        let path = url.path
        try FileSignature.requirePNG(url)
        var image = png_image()
        compseg_png_image_init(&image)
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw IOError(file: path, "not a readable PNG: \(Self.message(of: image))\(PNGChunks.diagnosis(of: url))")
        }
        let colourMapped = image.format & UInt32(PNG_FORMAT_FLAG_COLORMAP) != 0
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let isColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let channels = hasAlpha ? 4 : isColor ? 3 : 1
        image.format = Self.format(channels: channels)
        let (width, height) = (Int(image.width), Int(image.height))
        let stored = PNGChunks.storedSamples(of: url) ?? (channels, 8)
        try requirePlausibleSize([width, height, stored.channels], bitsPerSample: stored.bits, file: path, what: "the image")
        if colourMapped { try RasterPNG.checkPaletteIndexes(url) }
        var pixels = [UInt8](repeating: 0, count: compseg_png_image_size(&image))
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else { throw IOError(file: path, "cannot decode the image data: \(Self.message(of: image))\(PNGChunks.diagnosis(of: url))") }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// libpng's simplified description of this image, for writing it (free it with `png_image_free`).
    private var described: png_image {
        var image = png_image()
        compseg_png_image_init(&image)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = Self.format(channels: channels)
        return image
    }

    /// The PNG file's bytes, encoded in memory (for a report that embeds the picture).
    /// - Throws: `IOError` with libpng's message.
    public func encoded() throws -> Data {
        var image = described
        defer { png_image_free(&image) }
        var size = 0
        // First the size, then the bytes.
        let sized = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
        guard sized != 0 else { throw IOError(file: "a PNG in memory", "cannot be encoded: \(Self.message(of: image))") }
        var bytes = Data(count: size)
        let ok = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw IOError(file: "a PNG in memory", "cannot be encoded: \(Self.message(of: image))") }
        return bytes.prefix(size)
    }

    /// libpng's error text (`png_image.message`, a fixed C char array).
    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension PNGImage {
    /// A ground-truth or tissue mask from a PNG: true where a pixel is neither black (every colour
    /// channel 0) nor transparent (alpha 0), so grey 0/1 or 0/255 masks, colour labels on black and
    /// drawings on a transparent layer all read as meant; H×W row-major.
    ///
    /// A picture of the file's `fullResolution` size (drawn on the full-resolution slide of a
    /// sample read at a coarser pyramid level or scale) is brought down to `height`×`width`: each
    /// sample pixel covers a block of picture pixels and is true when at least half of them are.
    /// - Throws: `IOError` naming the file when it cannot be read or is of neither size.
    public static func mask(contentsOf url: URL, height: Int, width: Int,
                            fullResolution: (height: Int, width: Int)? = nil) throws -> [Bool] {
        let bits = try maskBits(contentsOf: url, height: height, width: width, fullResolution: fullResolution)
        return (0..<(height * width)).map { bits[$0] }
    }

    /// Checks that the PNG at `url` decodes to its last row, as `maskBits` reads it (a row at a
    /// time, bits kept: a slide-sized truth mask is not held as pixels unless it is interlaced).
    /// - Throws: `IOError` naming the file: not a PNG, or the first row that cannot be decoded.
    public static func checkDecodes(_ url: URL) throws {
        try FileSignature.requirePNG(url)
        let reader = try RasterPNG.Reader(url, expand: 3)
        let (height, width) = withExtendedLifetime(reader) { (Int(reader.r.pointee.height), Int(reader.r.pointee.width)) }
        _ = try maskBits(contentsOf: url, height: height, width: width)
    }

    /// `mask`, held as bits: for a slide, an eighth of the memory. The samples are read as stored
    /// (16-bit ones too, not converted to 8 bits of light, where a 1 would turn black), row by
    /// row (an interlaced file is decoded whole once), with tRNS transparency as alpha.
    public static func maskBits(contentsOf url: URL, height: Int, width: Int,
                                fullResolution: (height: Int, width: Int)? = nil) throws -> PixelBits {
        try FileSignature.requirePNG(url)
        let reader = try RasterPNG.Reader(url, expand: 3)
        let p = reader.r.pointee
        let (H, W, channels, bytes) = (Int(p.height), Int(p.width), Int(p.channels), Int(p.depth) / 8)
        let full: (height: Int, width: Int)? = fullResolution.flatMap { $0 == (height, width) ? nil : $0 }
        guard (H, W) == (height, width) || full.map({ (H, W) == $0 }) == true else {
            throw IOError(file: url.path, "the picture is \(H)×\(W) pixels (height×width); expected the "
                          + "sample's \(height)×\(width)" + (full.map { " or the full-resolution image's \($0.height)×\($0.width)" } ?? "")
                          + ((W, H) == (height, width) || full.map({ (W, H) == $0 }) == true
                             ? " (its height and width swapped: drawn on the image turned a quarter, or saved transposed)" : ""))
        }
        try requirePlausibleSize([W, H, PNGChunks.storedChannels(colourType: Int(p.color_type))], bitsPerSample: Int(p.bit_depth),
                                 file: url.path, what: "the image")
        guard (1...4).contains(channels), bytes == 1 || bytes == 2, p.row_bytes == W * channels * bytes else {
            throw IOError(file: url.path, "libpng delivers \(channels) samples of \(p.depth) bits in rows of \(p.row_bytes) bytes; "
                          + "expected 1–4 samples of 8 or 16 bits")
        }
        if p.color_type == PNG_COLOR_TYPE_PALETTE { try RasterPNG.checkPaletteIndexes(url) }
        let rowBytes = Int(p.row_bytes), hasAlpha = channels % 2 == 0, colours = hasAlpha ? channels - 1 : channels

        // The rows in order: read one at a time, or from the whole interlaced image.
        var whole: UnsafeMutablePointer<UInt8>?
        let row = UnsafeMutablePointer<UInt8>.allocate(capacity: max(rowBytes, 1))
        defer { row.deallocate(); whole?.deallocate() }
        if p.interlace != PNG_INTERLACE_NONE {
            let (total, overflow) = rowBytes.multipliedReportingOverflow(by: H)
            guard !overflow, total <= RasterFile.maximumValues else {
                throw IOError(file: url.path, "an interlaced \(W)×\(H) PNG is too large to decode at once")
            }
            let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
            whole = pixels
            var rows: [UnsafeMutablePointer<UInt8>?] = (0..<H).map { pixels + $0 * rowBytes }
            guard compseg_png_read_image(reader.r, &rows) == 1 else {
                throw IOError(file: url.path, "the interlaced image cannot be decoded: \(reader.message)\(PNGChunks.diagnosis(of: url))")
            }
        }
        var on = [Bool](repeating: false, count: W)
        /// Reads picture row `y` into `on`: neither black (every colour sample 0) nor transparent (alpha 0).
        func read(_ y: Int) throws {
            let samples: UnsafePointer<UInt8>
            if let whole { samples = UnsafePointer(whole + y * rowBytes) } else {
                guard compseg_png_read_row(reader.r, row) == 1 else {
                    throw IOError(file: url.path, "row \(y) cannot be decoded: \(reader.message)\(PNGChunks.diagnosis(of: url))")
                }
                samples = UnsafePointer(row)
            }
            for x in 0..<W {
                let base = x * channels * bytes
                func nonzero(_ c: Int) -> Bool { bytes == 1 ? samples[base + c] != 0 : samples[base + 2 * c] | samples[base + 2 * c + 1] != 0 }
                on[x] = (!hasAlpha || nonzero(colours)) && (0..<colours).contains(where: nonzero)
            }
        }

        var bits = PixelBits(count: height * width)
        if (H, W) == (height, width) {
            for y in 0..<H {
                try read(y)
                for x in 0..<W where on[x] { bits.set(y * W + x) }
            }
            return bits
        }
        // Brought down: rows `i·H/h ..< (i+1)·H/h` and columns likewise (integer division, so the
        // blocks tile the picture) of each pixel's block vote; it is on when at least half are.
        guard H >= height, W >= width else {  // a block would be empty
            throw IOError(file: url.path, "the picture is \(H)×\(W) pixels (height×width), smaller than the sample's \(height)×\(width): "
                          + "a full-resolution picture is at least the sample's size")
        }
        let columns = (0..<width).map { j in (j * W / width)..<((j + 1) * W / width) }
        for i in 0..<height {
            let rows = (i * H / height)..<((i + 1) * H / height)
            var counts = [Int](repeating: 0, count: width)
            for y in rows {
                try read(y)
                for (j, span) in columns.enumerated() { for x in span where on[x] { counts[j] += 1 } }
            }
            for j in 0..<width where 2 * counts[j] >= rows.count * columns[j].count { bits.set(i * width + j) }
        }
        return bits
    }
}
