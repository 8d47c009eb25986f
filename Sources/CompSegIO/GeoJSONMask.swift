import Foundation

/// A mask drawn as GeoJSON polygons, as QuPath exports annotations: a `FeatureCollection`, a
/// `Feature`, an array of features or a bare geometry. Every `Polygon` and `MultiPolygon` (also
/// within a `GeometryCollection`) counts, whatever its properties say, as every colour of a PNG
/// mask counts: export only the tumor annotations. Points and lines have no area and are passed
/// over; a file that holds them and no polygon is refused.
///
/// Positions are `[x, y]` in the full-resolution image's pixels, y down, pixel (column c, row r)
/// the square [c, c+1]×[r, r+1] (QuPath's convention, and `MaskPolygons`'): a sample pixel is on
/// where its centre lies inside a polygon (its exterior ring and outside its holes, by the
/// even–odd rule; the union over polygons). So the GeoJSON `segment --geojson` writes reads back
/// as the mask it came from, and one drawn on the full-resolution slide comes down to a sample
/// read at a coarser level by the centres of its pixels.
public enum GeoJSONMask {
    /// The largest file read (reading takes about 5–6 times its size in memory: docs/data.md).
    public static let maximumBytes = 1 << 30

    /// The largest coordinate taken (no image is 2³⁰ pixels a side).
    static let maximumCoordinate = Double(1 << 30)

    /// Whether `url` names a GeoJSON file (`.geojson`, or `.json`).
    public static func isGeoJSON(_ url: URL) -> Bool { ["geojson", "json"].contains(url.pathExtension.lowercased()) }

    /// The polygons of `url`, each as its rings of (x, y) positions.
    /// - Throws: `IOError` naming the file and, for a bad geometry, where it is (`features[3].geometry`).
    public static func polygons(contentsOf url: URL) throws -> [[[(x: Double, y: Double)]]] {
        try requireExistingFile(url)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        guard size <= maximumBytes else {
            throw IOError(file: url.path, "is \(size) bytes; a GeoJSON mask may have at most \(maximumBytes)")
        }
        let root: Any
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw IOError(file: url.path, "cannot be read: \(systemReason(error))")
        }
        do { root = try CompactJSON.parse(data) } catch {
            throw IOError(file: url.path, "is not JSON: \(error)")
        }
        var found = Found()
        try collect(root, at: "", into: &found, file: url.path, topLevel: true)
        guard !found.polygons.isEmpty || found.arealess == 0 else {
            throw IOError(file: url.path, "holds \(found.arealess) point or line geometries and no Polygon or MultiPolygon: a mask needs areas")
        }
        return found.polygons
    }

    /// The mask of `url` at `height`×`width`: positions are in the pixels of `fullResolution`
    /// (nil: of the sample itself), each sample pixel on where its centre lies inside a polygon.
    public static func bits(contentsOf url: URL, height: Int, width: Int,
                            fullResolution: (height: Int, width: Int)? = nil) throws -> PixelBits {
        let polygons = try polygons(contentsOf: url)
        let full = fullResolution ?? (height, width)
        guard full.height > 0, full.width > 0 else {
            throw IOError(file: url.path, "the image's full resolution is given as \(full.height)×\(full.width) pixels; expected a size")
        }
        let (sx, sy) = (Double(full.width) / Double(width), Double(full.height) / Double(height))
        var bits = PixelBits(count: height * width)
        for polygon in polygons {
            fill(polygon.map { ring in ring.map { (x: $0.x / sx, y: $0.y / sy) } }, height: height, width: width, into: &bits)
        }
        return bits
    }

    /// Where `url`'s polygons lie, for a truth that marks no pixel: "2 polygons at x -20…48, y 2…44"
    /// (the bounds of every ring `fill` uses); nil when it holds none or cannot be read. Drawn on
    /// another image, or in a coarser level's pixels, polygons can lie wholly outside the image.
    public static func placement(of url: URL) -> String? {
        guard let polygons = try? polygons(contentsOf: url) else { return nil }
        let points = polygons.map { $0.filter { $0.count >= 3 }.flatMap { $0 } }.filter { !$0.isEmpty }
        guard !points.isEmpty else { return nil }
        let all = points.flatMap { $0 }
        func span(_ values: [Double]) -> String { "\(Int(values.min()!.rounded(.down)))…\(Int(values.max()!.rounded(.up)))" }
        return "\(points.count) polygon\(points.count == 1 ? "" : "s") at x \(span(all.map(\.x))), y \(span(all.map(\.y)))"
    }

    // MARK: Reading

    private struct Found {
        var polygons: [[[(x: Double, y: Double)]]] = []
        var arealess = 0
    }

    /// Collects the polygons of a GeoJSON object (`path` says where it is, for errors).
    private static func collect(_ object: Any, at path: String, into found: inout Found, file: String, topLevel: Bool = false) throws {
        func problem(_ text: String) -> IOError { IOError(file: file, (path.isEmpty ? "" : "\(path): ") + text) }
        if topLevel, let array = object as? [Any] {  // an array of features (older QuPath exports)
            for (i, item) in array.enumerated() { try collect(item, at: "[\(i)]", into: &found, file: file) }
            return
        }
        guard let dictionary = object as? [String: Any], let type = dictionary["type"] as? String else {
            throw problem("expected a GeoJSON object with a \"type\" (FeatureCollection, Feature or a geometry)")
        }
        func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
        switch type {
        case "FeatureCollection":
            guard let features = dictionary["features"] as? [Any] else { throw problem("a FeatureCollection needs a \"features\" array") }
            for (i, feature) in features.enumerated() { try collect(feature, at: key("features[\(i)]"), into: &found, file: file) }
        case "Feature":
            guard let geometry = dictionary["geometry"] else { throw problem("a Feature needs a \"geometry\"") }
            if geometry is NSNull { return }  // a feature without a place
            try collect(geometry, at: key("geometry"), into: &found, file: file)
        case "GeometryCollection":
            guard let geometries = dictionary["geometries"] as? [Any] else { throw problem("a GeometryCollection needs a \"geometries\" array") }
            for (i, geometry) in geometries.enumerated() { try collect(geometry, at: key("geometries[\(i)]"), into: &found, file: file) }
        case "Polygon":
            found.polygons.append(try rings(dictionary["coordinates"], at: key("coordinates"), file: file))
        case "MultiPolygon":
            guard let members = dictionary["coordinates"] as? [Any] else { throw problem("a MultiPolygon needs \"coordinates\": an array of polygons") }
            for (i, member) in members.enumerated() { found.polygons.append(try rings(member, at: key("coordinates[\(i)]"), file: file)) }
        case "Point", "MultiPoint", "LineString", "MultiLineString":
            found.arealess += 1
        default:
            throw problem("\"type\" \"\(type)\" is not GeoJSON (expected FeatureCollection, Feature, GeometryCollection, Polygon, MultiPolygon, "
                          + "Point, MultiPoint, LineString or MultiLineString)")
        }
    }

    /// A polygon's rings: arrays of `[x, y]` (a third number, an altitude, is allowed and unused).
    private static func rings(_ object: Any?, at path: String, file: String) throws -> [[(x: Double, y: Double)]] {
        guard let rings = object as? [Any] else { throw IOError(file: file, "\(path): expected an array of rings") }
        return try rings.enumerated().map { r, ring in
            // Positions of numbers only come as [[Double]] (`CompactJSON`); a ring with another item, as [Any].
            let positions: [Any]
            if let rows = ring as? [[Double]] { positions = rows } else if let items = ring as? [Any] { positions = items } else {
                throw IOError(file: file, "\(path)[\(r)]: expected an array of [x, y] positions")
            }
            return try positions.enumerated().map { p, position in
                guard let pair = position as? [Double], pair.count >= 2, pair.count <= 3,
                      abs(pair[0]) <= maximumCoordinate, abs(pair[1]) <= maximumCoordinate else {
                    throw IOError(file: file, "\(path)[\(r)][\(p)]: expected a position [x, y] of pixel coordinates (numbers within "
                                  + "±\(Int(maximumCoordinate))), got \(position)")
                }
                return (pair[0], pair[1])
            }
        }
    }

    // MARK: Filling

    /// Sets the pixels of `bits` (`height`×`width`) whose centres lie inside `polygon` (positions in
    /// sample pixels), by the even–odd rule over its rings: a scanline over each row's centre, with
    /// the edges that span it (each edge holds its upper end and not its lower, so a vertex on the
    /// line is counted once).
    static func fill(_ polygon: [[(x: Double, y: Double)]], height: Int, width: Int, into bits: inout PixelBits) {
        struct Edge { let top: Double, bottom: Double, x: Double, run: Double }
        var edges: [Edge] = []
        for ring in polygon where ring.count >= 3 {
            for k in ring.indices {
                let a = ring[k], b = ring[(k + 1) % ring.count]
                guard a.y != b.y else { continue }
                let (upper, lower) = a.y < b.y ? (a, b) : (b, a)
                edges.append(Edge(top: upper.y, bottom: lower.y, x: upper.x, run: lower.x - upper.x))
            }
        }
        guard !edges.isEmpty else { return }
        edges.sort { $0.top < $1.top }
        let lowest = edges.map(\.bottom).max()!
        /// The first index whose centre (index + 0.5) is at or past `v`, within -1 … `limit` + 1.
        func index(_ v: Double, _ limit: Int) -> Int { Int((min(max(v, -2), Double(limit) + 2) - 0.5).rounded(.up)) }
        // Rows whose centre lies in [top, lowest).
        let first = max(0, index(edges[0].top, height)), last = min(height - 1, index(lowest, height) - 1)
        guard first <= last else { return }
        var next = 0, active: [Edge] = [], crossings: [Double] = []
        for row in first...last {
            let centre = Double(row) + 0.5
            while next < edges.count, edges[next].top <= centre { active.append(edges[next]); next += 1 }
            active.removeAll { $0.bottom <= centre }
            crossings.removeAll(keepingCapacity: true)
            for e in active { crossings.append(e.x + (centre - e.top) / (e.bottom - e.top) * e.run) }
            crossings.sort()
            var k = 0
            while k + 1 < crossings.count {
                // Columns whose centre lies in [a, b).
                let from = max(0, index(crossings[k], width)), to = min(width, index(crossings[k + 1], width))
                if from < to { for column in from..<to { bits.set(row * width + column) } }
                k += 2
            }
        }
    }
}
