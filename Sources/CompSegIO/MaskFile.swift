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

    /// Checks, before any work, that `url` is a file of its kind: a PNG by its signature, GeoJSON
    /// by reading its polygons (sizes are checked when a sample's mask is made).
    public static func check(_ url: URL) throws {
        if GeoJSONMask.isGeoJSON(url) { _ = try GeoJSONMask.polygons(contentsOf: url) } else { try FileSignature.requirePNG(url) }
    }

    /// Checks that `url` reads whole: GeoJSON's polygons, a PNG decoded to its last row (a file cut
    /// short or damaged is found here, not after hours of work).
    public static func checkReads(_ url: URL) throws {
        try FileSignature.requireMask(url)
        if GeoJSONMask.isGeoJSON(url) { _ = try GeoJSONMask.polygons(contentsOf: url) } else { try PNGImage.checkDecodes(url) }
    }
}
