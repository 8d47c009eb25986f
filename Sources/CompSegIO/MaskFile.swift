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

    /// Checks cheaply that `url` starts as its kind does: a PNG's signature, or JSON's `{` or `[`.
    public static func requireSignature(_ url: URL) throws {
        guard GeoJSONMask.isGeoJSON(url) else { return try FileSignature.requirePNG(url) }
        let head = try FileHandle(forReadingFrom: url).read(upToCount: 4096) ?? Data()
        guard let first = head.first(where: { !" \t\r\n".utf8.contains($0) && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            throw IOError(file: url.path, head.isEmpty ? "is empty, not GeoJSON" : "is not GeoJSON (it does not start with { or [)")
        }
    }

    /// Checks, before any work, that `url` is a file of its kind: a PNG by its signature, GeoJSON
    /// by reading its polygons (sizes are checked when a sample's mask is made).
    public static func check(_ url: URL) throws {
        if GeoJSONMask.isGeoJSON(url) { _ = try GeoJSONMask.polygons(contentsOf: url) } else { try FileSignature.requirePNG(url) }
    }
}
