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
        try requirePlausibleSize([width, height, channels], file: path, what: "the image")
        if colourMapped { try RasterPNG.checkPaletteIndexes(url) }
        var pixels = [UInt8](repeating: 0, count: compseg_png_image_size(&image))
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else { throw IOError(file: path, "cannot decode the image data: \(Self.message(of: image))\(PNGChunks.diagnosis(of: url))") }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Writes an 8-bit PNG atomically (temporary file in the same folder, then rename).
    /// - Throws: `IOError` naming the file with libpng's message.
    public func write(to url: URL) throws {
        try writeAtomically(to: url) { temporary in
            var image = png_image()
            compseg_png_image_init(&image)
            defer { png_image_free(&image) }
            image.width = UInt32(width)
            image.height = UInt32(height)
            image.format = Self.format(channels: channels)
            let ok = pixels.withUnsafeBytes { png_image_write_to_file(&image, temporary, 0, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw IOError(file: url.path, "cannot be written as PNG: \(Self.message(of: image))") }
        }
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

    /// `mask`, held as bits: for a slide, an eighth of the memory (the file is decoded whole once).
    public static func maskBits(contentsOf url: URL, height: Int, width: Int,
                                fullResolution: (height: Int, width: Int)? = nil) throws -> PixelBits {
        let png = try PNGImage(contentsOf: url)
        let full: (height: Int, width: Int)? = fullResolution.flatMap { $0 == (height, width) ? nil : $0 }
        guard (png.height, png.width) == (height, width) || full.map({ (png.height, png.width) == $0 }) == true else {
            throw IOError(file: url.path, "the picture is \(png.height)×\(png.width) pixels (height×width); expected the "
                          + "sample's \(height)×\(width)" + (full.map { " or the full-resolution image's \($0.height)×\($0.width)" } ?? ""))
        }
        let (c, colours) = (png.channels, png.channels == 4 ? 3 : png.channels)
        func isOn(_ p: Int) -> Bool { (c != 4 || png.pixels[p * c + 3] != 0) && (0..<colours).contains { png.pixels[p * c + $0] != 0 } }
        var bits = PixelBits(count: height * width)
        if png.height == height, png.width == width {
            for p in 0..<(height * width) where isOn(p) { bits.set(p) }
            return bits
        }
        // Brought down: rows `i·H/h ..< (i+1)·H/h` and columns likewise (integer division, so the
        // blocks tile the picture) of each pixel's block vote; it is on when at least half are.
        let (H, W) = (png.height, png.width)
        for i in 0..<height {
            let (y0, y1) = (i * H / height, (i + 1) * H / height)
            for j in 0..<width {
                let (x0, x1) = (j * W / width, (j + 1) * W / width)
                var on = 0
                for y in y0..<y1 { for x in x0..<x1 where isOn(y * W + x) { on += 1 } }
                if 2 * on >= (y1 - y0) * (x1 - x0) { bits.set(i * width + j) }
            }
        }
        return bits
    }
}

/// A mask held as bits (pixel p is bit p & 7 of byte p >> 3): an eighth of a `[Bool]`, for slides.
public struct PixelBits: Sendable {
    public private(set) var bytes: [UInt8]
    public init(count: Int) { bytes = [UInt8](repeating: 0, count: (count + 7) / 8) }
    @inline(__always) public subscript(p: Int) -> Bool { bytes[p >> 3] & (1 << UInt8(p & 7)) != 0 }
    @inline(__always) public mutating func set(_ p: Int) { bytes[p >> 3] |= 1 << UInt8(p & 7) }
}
