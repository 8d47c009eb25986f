import Foundation

/// A truth or tissue mask file, as a manifest names it: a PNG picture (`PNGImage.maskBits`:
/// on where neither black nor transparent) or GeoJSON polygons (`GeoJSONMask`: `.geojson` or
/// `.json`, QuPath's annotations), of the sample's size or drawn on its file's full resolution.
public enum MaskFile {
    /// The mask at `height`×`width`, as bits.
    /// - Throws: `IOError` naming the file: missing, unreadable, or (a PNG) of neither size.
    public static func bits(contentsOf url: URL, height: Int, width: Int,
                            fullResolution: (height: Int, width: Int)? = nil) throws -> PixelBits {
        GeoJSONMask.isGeoJSON(url) ? try GeoJSONMask.bits(contentsOf: url, height: height, width: width, fullResolution: fullResolution)
            : try PNGImage.maskBits(contentsOf: url, height: height, width: width, fullResolution: fullResolution)
    }

    /// `bits`, H×W row-major.
    public static func mask(contentsOf url: URL, height: Int, width: Int,
                            fullResolution: (height: Int, width: Int)? = nil) throws -> [Bool] {
        let bits = try bits(contentsOf: url, height: height, width: width, fullResolution: fullResolution)
        return (0..<(height * width)).map { bits[$0] }
    }

    /// Checks, before any work, that `url` reads whole: GeoJSON's polygons, a PNG decoded to its
    /// last row (a file cut short or damaged is found here, not after hours of work; sizes are
    /// checked when a sample's mask is made). A file is read once in a process, as its path, size
    /// and modification time say: a command that checks its manifest twice decodes it once.
    public static func checkReads(_ url: URL) throws {
        try checked.run(url) {
            try FileSignature.requireMask(url)
            if GeoJSONMask.isGeoJSON(url) { _ = try GeoJSONMask.polygons(contentsOf: url) } else { try PNGImage.checkDecodes(url) }
        }
    }

    private static let checked = OncePerFileVersion()
}
