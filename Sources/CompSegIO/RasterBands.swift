import Foundation

/// One level of a TIFF or PNG read in bands of whole rows, as a walk down a large image reads it
/// (tile by tile, a band of tiles at a time): the last band is kept, so the tiles across a band
/// read it once, and a PNG, which has no index, is decoded from its top once for a walk down the
/// image instead of again for every band (`RasterPNG.Cursor`; a palette PNG's indexes are checked
/// in one pass more, once per process). Bands may come in any order; top
/// to bottom is the fast one. Memory: one band, rows × width × channels floats (a whole
/// interlaced PNG, which cannot be decoded by rows, is held while this lives).
public final class RasterBands: @unchecked Sendable {
    public let url: URL
    public let level: Int
    public let description: RasterDescription
    public let width: Int, height: Int
    private let png: RasterPNG.Cursor?
    /// A TIFF's last band (the PNG cursor keeps its own).
    private var last: (y: Int, image: RasterImage)?
    private let lock = NSLock()

    /// - Throws: `IOError` naming the file: missing, not TIFF or PNG, or without `level`.
    public init(_ url: URL, level: Int = 0) throws {
        description = try RasterFile.describe(url)
        guard level < description.levels.count else {
            throw IOError(file: url.path, "level \(level) does not exist; the file has \(description.levels.count) levels")
        }
        let info = description.images[description.levels[level]]
        // Each band is checked as it is read; the whole image is checked here, before any work, as
        // `inspect` checks it (a small file declaring a vast image of empty tiles would be walked for minutes).
        try requirePlausibleSize([info.width, info.height, info.samplesPerPixel], bitsPerSample: info.bitsPerSample,
                                 storedShare: info.storedShare, file: url.path, what: "level \(level)")
        (self.url, self.level, width, height) = (url, level, info.width, info.height)
        png = description.format == .png ? try RasterPNG.Cursor(url) : nil
    }

    /// The rows of a PNG decoded so far (nil for a TIFF), for the tests.
    var decodedRows: Int? { lock.withLock { png?.decodedRows } }

    /// Rows `y ..< y + count`, whole width, as `RasterFile.read` gives them.
    public func rows(_ y: Int, count: Int) throws -> RasterImage {
        try lock.withLock {
            let region = (x: 0, y: y, width: width, height: count)
            if let png { return try png.read(region) }
            if let last, last.y == y, last.image.height == count { return last.image }
            let image = try RasterFile.read(url, level: level, region: region)
            last = (y, image)
            return image
        }
    }
}
