import Foundation

/// The outlines of a binary mask as polygons with holes, traced along pixel edges, and the GeoJSON
/// that QuPath imports as annotations.
///
/// **Coordinates.** A corner of the pixel grid is `(x, y)`: `x` the column (0…`width`), `y` the row
/// (0…`height`), y pointing down; pixel (column c, row r) is the unit square [c, c+1]×[r, r+1], as in
/// QuPath. Corners are integers, so a polygon's area equals its pixel count exactly. GeoJSON
/// positions are `origin + (scale.x·x, scale.y·y)`: a mask computed at a reduced resolution (or of
/// a region) is written in the full-resolution image's pixels (each axis its own factor: a
/// reduced image's height and width round apart).
///
/// **Connectivity.** Each polygon is one 4-connected set of foreground (true) pixels: one exterior
/// ring, and one interior ring (hole) per background region it encloses (background is
/// 8-connected). Where two pixels of a polygon meet only at a corner, no ring passes that corner
/// twice: a hole there touches the exterior, or another hole, at that one point, which the OGC simple
/// feature rules allow — every polygon is valid for shapely/GEOS and for JTS (QuPath).
/// With `.eight` (the default, as `Mask.removingSpecks`) a feature is an 8-connected component: a
/// `Polygon` when it is a single 4-connected part, otherwise a `MultiPolygon` of its parts, which
/// touch at corners only (a pixel diagonal; a part may also lie in another's hole). With `.four`
/// every feature is one `Polygon`, and diagonal neighbours are separate features.
///
/// **Rings.** Closed (first corner == last), listing only the corners where the outline turns, each
/// starting at its top-most, then left-most corner. Exterior rings have positive signed (shoelace)
/// area in (x, y), holes negative: counter-clockwise and clockwise in RFC 7946's sense and for
/// shapely (`orient(polygon, 1.0)` leaves them as they are) — which, drawn with y down, looks the
/// other way round. Features come in the order of their first pixel (row-major); the parts of a
/// feature likewise; the holes of a polygon by their first corner.
///
/// **Cost.** O(`width`·`height`) time; besides the rings, about 1 byte per pixel, plus 12 bytes
/// per run of foreground in a row when some polygon has a hole or (with `.eight`) parts meet at a
/// corner (component labels).
public struct MaskPolygons: Sendable, Equatable {
    /// Which foreground pixels form one feature: edge neighbours only, or also corner neighbours.
    public enum Connectivity: Sendable, Equatable { case four, eight }

    /// A corner of the pixel grid (y down).
    public struct Corner: Hashable, Sendable, CustomStringConvertible {
        public var x: Int
        public var y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
        public var description: String { "(\(x), \(y))" }
    }

    /// One 4-connected set of pixels: its exterior ring and holes, closed, in grid corners.
    public struct Polygon: Sendable, Equatable {
        public var exterior: [Corner]
        public var holes: [[Corner]]
        /// Pixels in the polygon: its area in grid units.
        public var pixelCount: Int
    }

    /// One GeoJSON feature: one polygon, or with `.eight` several that meet at corners.
    public struct Feature: Sendable, Equatable {
        public var polygons: [Polygon]
        public var pixelCount: Int
    }

    public let width: Int
    public let height: Int
    public let connectivity: Connectivity
    /// Full-resolution pixels per mask pixel, along x (columns) and y (rows).
    public let scaleX: Double
    public let scaleY: Double
    /// The GeoJSON position of grid corner (0, 0).
    public let originX: Double
    public let originY: Double

    // Flat storage: rings' corners (not closed), then index ranges: ring r is
    // corners[ringStarts[r]..<ringStarts[r+1]]; polygon p is rings polygonStarts[p]..<[p+1], the
    // first its exterior; feature f is polygons featureStarts[f]..<[f+1].
    private var corners: [GridPoint] = []
    private var ringStarts: [Int] = [0]
    private var polygonStarts: [Int] = [0]
    private var featureStarts: [Int] = [0]
    private var polygonPixelCounts: [Int] = []

    /// Traces the polygons of a mask.
    /// - Parameters:
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - pixels: `height`×`width`, row-major; true is foreground (tumour).
    ///   - connectivity: what one feature is (see the type's documentation).
    ///   - scale: GeoJSON units (full-resolution pixels) per mask pixel along x and y; > 0.
    ///   - origin: the GeoJSON position of the mask's top-left corner.
    public init(width: Int, height: Int, pixels: [Bool], connectivity: Connectivity = .eight,
                scale: (x: Double, y: Double) = (1, 1), origin: (x: Double, y: Double) = (0, 0)) {
        precondition(width >= 0 && height >= 0, "mask size \(height)×\(width) is negative")
        precondition(pixels.count == width * height,
                     "mask has \(pixels.count) pixels, not height×width = \(height)×\(width)")
        self.init(width: width, height: height, connectivity: connectivity, scale: scale, origin: origin) { pixels[$0] }
    }

    /// Traces the polygons of a mask given pixel by pixel: `isSet(p)` for p = row·`width` + column
    /// (a slide's mask held as bits, never as one `Bool` a pixel).
    public init(width: Int, height: Int, connectivity: Connectivity = .eight, scale: (x: Double, y: Double) = (1, 1),
                origin: (x: Double, y: Double) = (0, 0), isSet: (Int) -> Bool) {
        precondition(width >= 0 && height >= 0, "mask size \(height)×\(width) is negative")
        precondition(scale.x > 0 && scale.x.isFinite && scale.y > 0 && scale.y.isFinite, "scale \(scale) must be positive and finite")
        precondition(origin.x.isFinite && origin.y.isFinite
                     && (origin.x + scale.x * Double(width)).isFinite && (origin.y + scale.y * Double(height)).isFinite,
                     "origin \(origin) and scale \(scale) give coordinates that are not finite")
        precondition(width < Int(Int32.max) && height < Int(Int32.max), "mask \(height)×\(width) is too large")
        self.width = width
        self.height = height
        self.connectivity = connectivity
        (scaleX, scaleY) = scale
        self.originX = origin.x
        self.originY = origin.y
        guard width > 0, height > 0 else { return }
        assemble(traceRings(width: width, height: height, isSet: isSet))
    }

    /// The number of features (GeoJSON Features).
    public var count: Int { featureStarts.count - 1 }

    /// The features, materialised as arrays (for tests and small masks; `geoJSON` reads the flat storage).
    public var features: [Feature] {
        (0..<count).map { f in
            let polygons = (featureStarts[f]..<featureStarts[f + 1]).map { p in
                let rings = (polygonStarts[p]..<polygonStarts[p + 1]).map { r -> [Corner] in
                    let ring = corners[ringStarts[r]..<ringStarts[r + 1]].map { Corner(x: Int($0.x), y: Int($0.y)) }
                    return ring + [ring[0]]
                }
                return Polygon(exterior: rings[0], holes: Array(rings.dropFirst()), pixelCount: polygonPixelCounts[p])
            }
            return Feature(polygons: polygons, pixelCount: polygons.reduce(0) { $0 + $1.pixelCount })
        }
    }

    /// The total number of foreground pixels: the polygons' total area in grid units.
    public var pixelCount: Int { polygonPixelCounts.reduce(0, +) }

    /// The GeoJSON position of a grid corner: `origin + (scale.x·x, scale.y·y)`.
    public func position(of corner: Corner) -> (x: Double, y: Double) {
        (originX + scaleX * Double(corner.x), originY + scaleY * Double(corner.y))
    }
}

// MARK: - GeoJSON

extension MaskPolygons {
    /// A GeoJSON FeatureCollection (RFC 7946) with one Feature per feature, for QuPath's import:
    /// geometry a `Polygon`, or a `MultiPolygon` for an 8-connected feature of several parts;
    /// properties `{"objectType": "annotation", "classification": {"name": …, "color": [r, g, b]}}`
    /// (QuPath's import expects a colour with every classification). Compact JSON with a fixed key order, one
    /// Feature per line; integral coordinates are written as integers. An empty mask gives
    /// `{"type":"FeatureCollection","features":[]}`.
    /// - Parameters:
    ///   - name: the classification's name.
    ///   - colour: the classification's colour, 8-bit RGB.
    ///   - minimumArea: features of a smaller area, in GeoJSON units (pixels × scale.x × scale.y), are left out:
    ///     specks a reader would otherwise import by the thousand.
    public func geoJSON(classification name: String = "Tumor",
                        colour: (red: UInt8, green: UInt8, blue: UInt8) = (200, 0, 0), minimumArea: Double = 0) -> Data {
        var whole = Data()
        emitGeoJSON(classification: name, colour: colour, minimumArea: minimumArea) { whole.append(contentsOf: $0) }
        return whole
    }

    /// The text of `geoJSON(classification:colour:minimumArea:)`, handed to `emit` a megabyte or
    /// so at a time, so that a large mask's GeoJSON is never whole in memory.
    func emitGeoJSON(classification name: String, colour: (red: UInt8, green: UInt8, blue: UInt8), minimumArea: Double,
                     _ emit: ([UInt8]) throws -> Void) rethrows {
        var out: [UInt8] = []
        let chunk = 1 << 20
        out.reserveCapacity(chunk + (1 << 16))
        out += Array(#"{"type":"FeatureCollection","features":["#.utf8)
        let properties = Array((#"},"properties":{"objectType":"annotation","classification":{"name":"#
            + Self.jsonString(name) + #","color":[\#(colour.red),\#(colour.green),\#(colour.blue)]}}}"#).utf8)
        let polygon = Array(#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":"#.utf8)
        let multiPolygon = Array(#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":["#.utf8)
        let integral = scaleX == 1 && scaleY == 1 && originX == 0 && originY == 0
        var written = 0
        for f in 0..<count {
            let polygons = featureStarts[f]..<featureStarts[f + 1]
            guard Double(polygonPixelCounts[polygons].reduce(0, +)) * scaleX * scaleY >= minimumArea else { continue }
            if written > 0 { out.append(UInt8(ascii: ",")) }
            written += 1
            out.append(UInt8(ascii: "\n"))
            out += polygons.count > 1 ? multiPolygon : polygon
            for p in polygons {
                if p != polygons.lowerBound { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "["))
                for r in polygonStarts[p]..<polygonStarts[p + 1] {
                    if r != polygonStarts[p] { out.append(UInt8(ascii: ",")) }
                    out.append(UInt8(ascii: "["))
                    let ring = ringStarts[r]..<ringStarts[r + 1]
                    for i in ring {
                        appendPosition(corners[i], integral: integral, to: &out)
                        out.append(UInt8(ascii: ","))
                        if out.count >= chunk { try emit(out); out.removeAll(keepingCapacity: true) }
                    }
                    appendPosition(corners[ring.lowerBound], integral: integral, to: &out)
                    out.append(UInt8(ascii: "]"))
                }
                out.append(UInt8(ascii: "]"))
            }
            if polygons.count > 1 { out.append(UInt8(ascii: "]")) }
            out += properties
        }
        out += Array((written == 0 ? "]}\n" : "\n]}\n").utf8)
        try emit(out)
    }

    /// Writes `geoJSON(classification:colour:minimumArea:)` to `url` atomically and durably (temporary file in
    /// the same folder, fsync, rename), a part at a time.
    /// - Throws: `IOError` naming the file when it cannot be written.
    public func write(to url: URL, classification name: String = "Tumor",
                      colour: (red: UInt8, green: UInt8, blue: UInt8) = (200, 0, 0), minimumArea: Double = 0) throws {
        try writeDurably(to: url) { write in try emitGeoJSON(classification: name, colour: colour, minimumArea: minimumArea, write) }
    }

    /// `[X,Y]` for a grid corner, each coordinate an integer when it is one.
    private func appendPosition(_ p: GridPoint, integral: Bool, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        if integral {
            Self.appendInteger(Int(p.x), to: &out)
            out.append(UInt8(ascii: ","))
            Self.appendInteger(Int(p.y), to: &out)
        } else {
            Self.appendNumber(originX + scaleX * Double(p.x), to: &out)
            out.append(UInt8(ascii: ","))
            Self.appendNumber(originY + scaleY * Double(p.y), to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func appendNumber(_ v: Double, to out: inout [UInt8]) {
        if v == v.rounded(), abs(v) < 9e15 {
            appendInteger(Int(v), to: &out)
        } else {
            out += Array(v.description.utf8)  // shortest round-trip form; exponents such as 1e-05 are valid JSON
        }
    }

    private static func appendInteger(_ v: Int, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var m = v.magnitude, n = 0
            repeat { digits[n] = UInt8(ascii: "0") + UInt8(m % 10); m /= 10; n += 1 } while m > 0
            while n > 0 { n -= 1; out.append(digits[n]) }
        }
    }

    /// A JSON string literal, quoted, with `"`, `\` and control characters escaped.
    static func jsonString(_ s: String) -> String {
        var result = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

// MARK: - Tracing

/// A grid corner as stored.
private struct GridPoint: Equatable, Sendable {
    var x: Int32
    var y: Int32
}

/// A corner met while tracing: the direction the outline leaves it in (0: +x, 1: +y, 2: −x, 3: −y)
/// and whether only two diagonal pixels are foreground there (the only corners a ring can pass twice).
private struct TraceCorner {
    var x: Int32
    var y: Int32
    var direction: Int
    var diagonal: Bool
}

/// A traced simple ring: its corners in `Traced.corners`, twice its signed area, and one of its
/// pixels (padded index) to find its component.
private struct Loop {
    var start: Int
    var count: Int
    var doubleArea: Int
    var pixel: Int
}

/// Every ring of a mask, in the order traced, with what grouping them needs.
private struct Traced {
    /// The mask padded by one background pixel on every side; bit 0 foreground.
    var grid: [UInt8]
    var stride: Int
    var loops: [Loop] = []
    var corners: [GridPoint] = []
    /// Padded indices of the two foreground pixels at each corner where only they meet diagonally,
    /// flat (p, q, p, q, …).
    var diagonalPairs: [Int] = []
}

/// Next direction for (2×2 neighbourhood code × 4 + incoming direction); 255 where no edge leaves.
/// Code bits: 1 upper-left, 2 upper-right, 4 lower-left, 8 lower-right pixel of the corner. A
/// boundary edge has its foreground pixel on the side `(d + 1) % 4` of its direction d, so that
/// exteriors get positive shoelace area; the outline turns towards that side when it can, then goes
/// straight, then turns away: where only two diagonal pixels are foreground it keeps to the same
/// pixel — foreground 4-connected, background 8-connected.
private let nextDirection: [UInt8] = {
    var table = [UInt8](repeating: 255, count: 64)
    for code in 0..<16 {
        let (ul, ur, ll, lr) = (code & 1 != 0, code & 2 != 0, code & 4 != 0, code & 8 != 0)
        let leaves = [lr && !ur, ll && !lr, ul && !ll, ur && !ul]
        for d in 0..<4 {
            if let out = [(d + 1) & 3, d, (d + 3) & 3].first(where: { leaves[$0] }) { table[code * 4 + d] = UInt8(out) }
        }
    }
    return table
}()

/// Follows the pixel edges of every ring, starting each at the first untraced top edge in row-major
/// order (so exteriors come in the order of their component's first pixel), and splits rings that
/// pass a diagonal corner twice into simple rings.
private func traceRings(width: Int, height: Int, isSet: (Int) -> Bool) -> Traced {
    let stride = width + 2
    var traced = Traced(grid: [UInt8](repeating: 0, count: stride * (height + 2)), stride: stride)
    var loops: [Loop] = [], corners: [GridPoint] = [], pairs: [Int] = []
    var trace: [TraceCorner] = [], stack: [TraceCorner] = [], diagonalKeys: [Int] = []
    var onStack: [Int: Int] = [:]

    /// Stores a simple ring, rotated to start at its top-most, then left-most corner.
    func store(_ ring: ArraySlice<TraceCorner>) {
        var doubleArea = 0
        var first = ring.startIndex
        var previous = ring[ring.endIndex - 1]
        for i in ring.indices {
            let p = ring[i]
            doubleArea += Int(previous.x) * Int(p.y) - Int(p.x) * Int(previous.y)
            previous = p
            if p.y < ring[first].y || (p.y == ring[first].y && p.x < ring[first].x) { first = i }
        }
        let head = ring[ring.startIndex]
        let offset = head.direction == 0 ? stride + 1 : head.direction == 1 ? stride : head.direction == 2 ? 0 : 1
        loops.append(Loop(start: corners.count, count: ring.count, doubleArea: doubleArea,
                          pixel: Int(head.y) * stride + Int(head.x) + offset))
        for p in ring[first...] { corners.append(GridPoint(x: p.x, y: p.y)) }
        for p in ring[..<first] { corners.append(GridPoint(x: p.x, y: p.y)) }
    }

    traced.grid.withUnsafeMutableBufferPointer { g in
        for r in 0..<height {
            let row = (r + 1) * stride + 1, source = r * width
            for c in 0..<width where isSet(source + c) { g[row + c] = 1 }
        }
        nextDirection.withUnsafeBufferPointer { next in
            func code(_ b: Int) -> Int {
                Int(g[b] & 1) | Int(g[b + 1] & 1) << 1 | Int(g[b + stride] & 1) << 2 | Int(g[b + stride + 1] & 1) << 3
            }
            for r in 0..<height {
                for c in 0..<width {
                    // A foreground pixel under background whose top edge no ring has passed (bit 1).
                    let i = (r + 1) * stride + c + 1
                    guard g[i] == 1, g[i - stride] & 1 == 0 else { continue }
                    trace.removeAll(keepingCapacity: true)
                    diagonalKeys.removeAll(keepingCapacity: true)
                    let (sx, sy) = (Int32(c), Int32(r))
                    var (x, y) = (sx, sy)
                    var base = r * stride + c  // padded index of the corner's upper-left pixel
                    var d = 0
                    // Bit 2 of a corner's upper-left pixel: this ring has passed that diagonal corner.
                    var repeats = false
                    if code(base) == 9 { diagonalKeys.append(base); g[base] |= 4 }
                    trace.append(TraceCorner(x: sx, y: sy, direction: 0, diagonal: code(base) == 9))
                    while true {
                        switch d {
                        case 0: g[base + stride + 1] |= 2; x += 1; base += 1
                        case 1: y += 1; base += stride
                        case 2: x -= 1; base -= 1
                        default: y -= 1; base -= stride
                        }
                        let k = code(base)
                        let nd = Int(next[k * 4 + d])
                        if x == sx && y == sy && nd == 0 { break }
                        if nd != d {
                            let diagonal = k == 6 || k == 9
                            if diagonal {
                                if g[base] & 4 != 0 { repeats = true } else { g[base] |= 4; diagonalKeys.append(base) }
                                // Each such corner is passed twice; the pass coming in along +x or +y records it.
                                if d < 2 {
                                    pairs.append(k == 9 ? base : base + 1)
                                    pairs.append(k == 9 ? base + stride + 1 : base + stride)
                                }
                            }
                            trace.append(TraceCorner(x: x, y: y, direction: nd, diagonal: diagonal))
                        }
                        d = nd
                    }
                    if d == 0 { trace.removeFirst() }  // the start was not a corner (cannot happen; for safety)
                    for k in diagonalKeys { g[k] &= ~4 }
                    guard repeats else { store(trace[...]); continue }
                    // Split at the corners passed twice: each return to a corner on the stack closes a ring.
                    stack.removeAll(keepingCapacity: true)
                    onStack.removeAll(keepingCapacity: true)
                    for p in trace {
                        let key = Int(p.y) * stride + Int(p.x)
                        if p.diagonal, let k = onStack[key] {
                            store(stack[k...])
                            for q in stack[(k + 1)...] where q.diagonal { onStack[Int(q.y) * stride + Int(q.x)] = nil }
                            stack.removeSubrange((k + 1)...)
                            stack[k].direction = p.direction
                        } else {
                            if p.diagonal { onStack[key] = stack.count }
                            stack.append(p)
                        }
                    }
                    store(stack[...])
                }
            }
        }
    }
    traced.loops = loops
    traced.corners = corners
    traced.diagonalPairs = pairs
    return traced
}

/// 4-connected component labels of a padded grid's foreground, held by runs (union–find over
/// each row's runs of foreground, one raster pass): memory grows with the runs, not the pixels.
/// `root(of:)` gives a pixel's component, 0…`labelCount`−1.
private struct ComponentLabels {
    /// Row r's runs are `rowStart[r] ..< rowStart[r + 1]`: columns `runBegin ..< runEnd` (padded), and their labels.
    var rowStart: [Int] = [0], runBegin: [Int32] = [], runEnd: [Int32] = [], runLabel: [Int32] = []
    var parent: [Int32] = []
    let stride: Int
    var labelCount: Int { parent.count }

    init(_ traced: Traced, width: Int, height: Int) {
        stride = traced.stride
        rowStart.append(0)  // row 0: padding
        traced.grid.withUnsafeBufferPointer { g in
            for r in 1...height {
                let base = r * stride
                var previous = rowStart[r - 1]  // the row above's runs, walked once
                var c = 1
                while c <= width {
                    guard g[base + c] & 1 != 0 else { c += 1; continue }
                    let begin = c
                    while c <= width && g[base + c] & 1 != 0 { c += 1 }
                    // Runs above that share a column with [begin, c): the same component.
                    while previous < rowStart[r] && Int(runEnd[previous]) <= begin { previous += 1 }
                    var label: Int32 = -1, k = previous
                    while k < rowStart[r] && Int(runBegin[k]) < c {
                        let root = Self.find(runLabel[k], &parent)
                        if label < 0 { label = root } else if root != label {
                            parent[Int(max(root, label))] = min(root, label)
                            label = min(root, label)
                        }
                        k += 1
                    }
                    if label < 0 { label = Int32(parent.count); parent.append(label) }
                    runBegin.append(Int32(begin)); runEnd.append(Int32(c)); runLabel.append(label)
                }
                rowStart.append(runBegin.count)
            }
        }
    }

    static func find(_ label: Int32, _ parent: inout [Int32]) -> Int32 {
        var a = label
        while parent[Int(a)] != a {
            parent[Int(a)] = parent[Int(parent[Int(a)])]
            a = parent[Int(a)]
        }
        return a
    }

    /// The component of a foreground pixel (padded index).
    mutating func root(of pixel: Int) -> Int {
        let (r, c) = (pixel / stride, Int32(pixel % stride))
        var (low, high) = (rowStart[r], rowStart[r + 1])
        while low < high {  // the first run ending after c
            let mid = (low + high) / 2
            if runEnd[mid] <= c { low = mid + 1 } else { high = mid }
        }
        precondition(low < rowStart[r + 1] && runBegin[low] <= c, "MaskPolygons: pixel \(pixel) is not foreground")
        return Int(Self.find(runLabel[low], &parent))
    }
}

extension MaskPolygons {
    /// Groups the traced rings into polygons (an exterior and the holes of the same 4-connected
    /// component) and the polygons into features, and stores them in order.
    private mutating func assemble(_ traced: Traced) {
        let loops = traced.loops
        let exteriors = loops.indices.filter { loops[$0].doubleArea > 0 }  // in order of first pixel
        let holes = loops.indices.filter { loops[$0].doubleArea < 0 }
        var ownerOfHole = [Int](repeating: 0, count: holes.count)  // exterior index
        var featureOf = Array(exteriors.indices)  // exterior → the feature's first exterior
        if !holes.isEmpty || (connectivity == .eight && !traced.diagonalPairs.isEmpty) {
            var components = ComponentLabels(traced, width: width, height: height)
            var exteriorOfLabel = [Int](repeating: -1, count: components.labelCount)
            for (e, l) in exteriors.enumerated() {
                let label = components.root(of: loops[l].pixel)
                precondition(exteriorOfLabel[label] < 0, "MaskPolygons: two exteriors for one component")
                exteriorOfLabel[label] = e
            }
            for (h, l) in holes.enumerated() { ownerOfHole[h] = exteriorOfLabel[components.root(of: loops[l].pixel)] }
            if connectivity == .eight {
                var parent = exteriors.indices.map(Int32.init)
                let pairs = traced.diagonalPairs
                for k in Swift.stride(from: 0, to: pairs.count, by: 2) {
                    let a = ComponentLabels.find(Int32(exteriorOfLabel[components.root(of: pairs[k])]), &parent)
                    let b = ComponentLabels.find(Int32(exteriorOfLabel[components.root(of: pairs[k + 1])]), &parent)
                    if a != b { parent[Int(max(a, b))] = min(a, b) }  // the first exterior represents
                }
                for e in exteriors.indices { featureOf[e] = Int(ComponentLabels.find(Int32(e), &parent)) }
            }
        }
        // Holes grouped by exterior (counting sort), each group by first corner; exteriors grouped by feature.
        let holesByOwner = Self.grouped(holes.indices, by: ownerOfHole, groups: exteriors.count)
        var holeOrder = holesByOwner.order
        for e in exteriors.indices where holesByOwner.starts[e + 1] - holesByOwner.starts[e] > 1 {
            holeOrder[holesByOwner.starts[e]..<holesByOwner.starts[e + 1]].sort { a, b in
                let (p, q) = (traced.corners[loops[holes[a]].start], traced.corners[loops[holes[b]].start])
                return p.y < q.y || (p.y == q.y && p.x < q.x)
            }
        }
        let parts = Self.grouped(exteriors.indices, by: featureOf, groups: exteriors.count)

        corners.reserveCapacity(traced.corners.count)
        ringStarts.reserveCapacity(loops.count + 1)
        traced.corners.withUnsafeBufferPointer { source in
            func append(_ loop: Loop) {
                corners.append(contentsOf: UnsafeBufferPointer(rebasing: source[loop.start..<(loop.start + loop.count)]))
                ringStarts.append(corners.count)
            }
            for f in exteriors.indices where parts.starts[f] < parts.starts[f + 1] {
                for e in parts.order[parts.starts[f]..<parts.starts[f + 1]] {
                    let exterior = loops[exteriors[e]]
                    append(exterior)
                    var doubleArea = exterior.doubleArea
                    for h in holeOrder[holesByOwner.starts[e]..<holesByOwner.starts[e + 1]] {
                        append(loops[holes[h]])
                        doubleArea += loops[holes[h]].doubleArea
                    }
                    polygonStarts.append(ringStarts.count - 1)
                    polygonPixelCounts.append(doubleArea / 2)
                }
                featureStarts.append(polygonStarts.count - 1)
            }
        }
    }

    /// A stable counting sort: `items` ordered by `group[item]`, and where each group starts.
    private static func grouped(_ items: Range<Int>, by group: [Int], groups: Int) -> (order: [Int], starts: [Int]) {
        var starts = [Int](repeating: 0, count: groups + 1)
        for i in items { starts[group[i] + 1] += 1 }
        for g in 0..<groups { starts[g + 1] += starts[g] }
        var next = starts, order = [Int](repeating: 0, count: items.count)
        for i in items { order[next[group[i]]] = i; next[group[i]] += 1 }
        return (order, starts)
    }
}
