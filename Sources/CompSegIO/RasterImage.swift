import Foundation

/// An image's pixels as the network sees them: `values` holds height × width × channels floats in
/// [0, 1], row-major with the channels of a pixel together (`values[(y * width + x) * channels + c]`).
///
/// Channels: 1 (grey) or 3 (RGB). A value is the stored sample divided by its largest value,
/// exactly `Float(sample) / 255` or `Float(sample) / 65535` (min-is-white grey: `(max - sample) / max`).
public struct RasterImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 for grey, 3 for RGB.
    public var channels: Int
    public var values: [Float]
    /// The precision the values came from: 16 for 16-bit samples (and TIFF palettes, whose colour
    /// maps are 16-bit), otherwise 8.
    public var bitDepth: Int
    /// Each pixel's opacity (H×W, 0 transparent … 1 opaque) where the file stores one (PNG with
    /// alpha or transparency, TIFF with an alpha extra sample); nil otherwise. `values` are the
    /// colours as stored (a TIFF's premultiplied colours divided by their opacity).
    public var alpha: [Float]?

    public init(width: Int, height: Int, channels: Int, values: [Float], bitDepth: Int, alpha: [Float]? = nil) {
        precondition(channels == 1 || channels == 3, "RasterImage channels must be 1 or 3, not \(channels)")
        precondition(bitDepth == 8 || bitDepth == 16, "RasterImage bitDepth must be 8 or 16, not \(bitDepth)")
        precondition(width > 0 && height > 0 && values.count == width * height * channels,
                     "RasterImage \(width)×\(height)×\(channels) needs \(width * height * channels) values, got \(values.count)")
        precondition(alpha == nil || alpha!.count == width * height, "RasterImage alpha needs \(width * height) values")
        (self.width, self.height, self.channels, self.values, self.bitDepth, self.alpha) = (width, height, channels, values, bitDepth, alpha)
    }

    /// The value of channel `c` at column `x`, row `y`.
    public subscript(x x: Int, y y: Int, c c: Int) -> Float { values[(y * width + x) * channels + c] }

    /// The same pixels as RGB: a grey value repeated in all three channels, transparent pixels
    /// composited over white (the empty slide: not tissue); an opaque RGB image unchanged.
    public var rgb: RasterImage {
        guard channels == 1 || alpha != nil else { return self }
        let n = width * height
        var out = [Float](repeating: 0, count: n * 3)
        for p in 0..<n {
            let a = alpha?[p] ?? 1
            for c in 0..<3 { out[3 * p + c] = values[p * channels + (channels == 1 ? 0 : c)] * a + (1 - a) }
        }
        return RasterImage(width: width, height: height, channels: 3, values: out, bitDepth: bitDepth)
    }

    /// The pixels of columns `x..<x+width`, rows `y..<y+height` (which must lie inside the image).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RasterImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "crop (\(x), \(y), \(w)×\(h)) lies outside the \(width)×\(height) image")
        var out: [Float] = []
        out.reserveCapacity(w * h * channels)
        for row in y..<(y + h) {
            out += values[((row * width + x) * channels)..<((row * width + x + w) * channels)]
        }
        let opacity = alpha.map { a in (y..<(y + h)).flatMap { a[($0 * width + x)..<($0 * width + x + w)] } }
        return RasterImage(width: w, height: h, channels: channels, values: out, bitDepth: bitDepth, alpha: opacity)
    }
}

/// A rectangle of pixels: columns `x..<x+width`, rows `y..<y+height`.
public typealias RasterRegion = (x: Int, y: Int, width: Int, height: Int)

/// Reads RGB and grey images, such as H&E histology slides, from TIFF (including BigTIFF, tiled
/// pyramids and SVS-like files) and PNG.
///
/// **Levels.** `level` 0 is the first image (TIFF page 0, or the PNG). Further levels are:
/// 1. page 0's SubIFDs in stored order, when it has any (OME-TIFF pyramids; later pages are then
///    other planes or series and are not levels);
/// 2. otherwise, when page 0 is tiled, each later page that is tiled too (SVS-like files: the
///    thumbnail, label and macro images are in strips and so are skipped);
/// 3. otherwise (page 0 in strips), every later page in order (a multi-page stack or a strip pyramid).
/// `describe(_:)` lists every image and which are levels.
///
/// **What is read.** 8- and 16-bit unsigned samples; TIFF grey (min-is-black, min-is-white), RGB,
/// palette, and JPEG-compressed YCbCr (converted to RGB by libtiff); contiguous or separate planes;
/// strips or tiles; any compression this libtiff decodes (none, LZW, Deflate, PackBits, JPEG, …).
/// PNG of every colour type and bit depth, interlaced or not. Grey stays one channel (`RasterImage.rgb`
/// expands it); palette becomes RGB; alpha (a PNG's, its palette transparency, or a TIFF extra
/// sample marked associated or unassociated alpha) is kept apart as `alpha` (`rgb` composites over
/// white); one other extra sample is dropped, and an image with two or more (a multichannel image, such as fluorescence markers) is refused.
/// Refused with an `IOError` naming the tag and value: other bit depths (1, 2, 4, 12, 32, …),
/// signed or floating-point samples, other photometric interpretations (CMYK, CIE L*a*b*, uncompressed
/// YCbCr, …), codecs this libtiff lacks.
public enum RasterFile {
    /// Outputs larger than this many values (8 GiB of floats) are refused: read a region instead.
    public static let maximumValues = 1 << 31

    /// What a file holds: every image (TIFF pages and their SubIFDs) with its size, samples, bits,
    /// photometric interpretation, compression and layout, and which images are the levels.
    /// - Throws: `IOError` naming the file when it is missing, neither TIFF nor PNG, or unreadable.
    public static func describe(_ url: URL) throws -> RasterDescription {
        switch try FileSignature.raster(of: url) {
        case .png: try RasterPNG.describe(url)
        case .tiff: try RasterTIFF.describe(url)
        }
    }

    /// Reads level `level` (0 = full resolution; see the type's comment), or only `region` of it.
    ///
    /// TIFF regions and levels decode only the tiles (or the rows of the strips) they intersect.
    /// A PNG has no index, so a region of a PNG decodes the rows down to the region's last row
    /// (keeping one row at a time), or the whole image when interlaced. Safe to call from several
    /// threads at once (each call opens its own handle).
    /// - Parameters:
    ///   - url: a TIFF or PNG file (recognised by its first bytes, not its name).
    ///   - level: which level (`describe(_:).levels`); a PNG has only level 0.
    ///   - region: columns `x..<x+width`, rows `y..<y+height` of that level; nil for all of it.
    /// - Returns: the pixels, `region.height × region.width × channels` (grey 1, otherwise 3).
    /// - Throws: `IOError` naming the file: missing, not TIFF or PNG, truncated or corrupt, a variant
    ///   that is not supported (which tag, which value), a level that does not exist, a region
    ///   outside the level.
    public static func read(_ url: URL, level: Int = 0, region: RasterRegion? = nil) throws -> RasterImage {
        switch try FileSignature.raster(of: url) {
        case .png:
            guard level == 0 else { throw IOError(file: url.path, "a PNG has only level 0; level \(level) does not exist") }
            return try RasterPNG.read(url, region: region)
        case .tiff:
            return try RasterTIFF.read(url, level: level, region: region)
        }
    }

    /// One image of the file by where it is stored, as `describe(_:).images` lists them: TIFF page
    /// `page` (counted from 0) or its SubIFD `subIFD`, levels or not (a multi-page stack's planes,
    /// one marker a page, or a pyramidal OME-TIFF's channel pages); a PNG has only page 0.
    /// - Throws: `IOError` as `read(_:level:region:)` does, naming a page or SubIFD that does not exist.
    public static func read(_ url: URL, page: Int, subIFD: Int? = nil, region: RasterRegion? = nil) throws -> RasterImage {
        switch try FileSignature.raster(of: url) {
        case .png:
            guard page == 0, subIFD == nil else {
                throw IOError(file: url.path, "a PNG has only page 0 and no SubIFDs; page \(page)\(subIFD.map { " SubIFD \($0)" } ?? "") does not exist")
            }
            return try RasterPNG.read(url, region: region)
        case .tiff:
            return try RasterTIFF.read(url, page: page, subIFD: subIFD, region: region)
        }
    }

    /// `region`, or the whole `width`×`height` image, after checking that it lies inside the image,
    /// that its output (`channels` per pixel) stays under `maximumValues`, and that the file is
    /// large enough to hold that many samples (`requirePlausibleSize`).
    /// `stored`: the samples a pixel stores and their bits, where they differ from the `channels` bytes a pixel reads as.
    static func checkedRegion(_ region: RasterRegion?, width: Int, height: Int, channels: Int, stored: (channels: Int, bits: Int)? = nil,
                              storedShare: Double = 1, file: String, what: String) throws -> RasterRegion {
        let r = region ?? (0, 0, width, height)
        guard r.width > 0, r.height > 0, r.x >= 0, r.y >= 0, r.x <= width - r.width, r.y <= height - r.height else {
            throw IOError(file: file, "region (x \(r.x), y \(r.y), \(r.width)×\(r.height)) does not lie inside the \(width)×\(height) pixels of \(what)")
        }
        try requirePlausibleSize([r.width, r.height, stored?.channels ?? channels], bitsPerSample: stored?.bits ?? 8, storedShare: storedShare, file: file,
                                 what: region == nil ? what : "the region (x \(r.x), y \(r.y)) read of \(what) (\(width)×\(height))")
        let (pixels, o1) = r.width.multipliedReportingOverflow(by: r.height)
        let (count, o2) = pixels.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, count <= maximumValues else {
            throw IOError(file: file, "\(what): \(r.width)×\(r.height)×\(channels) values exceed the limit of \(maximumValues); read a region")
        }
        return r
    }
}
