import CompSegTestSupport
import Foundation
import Testing
import CompSegCore
@testable import CompSegIO

/// Masks as GeoJSON polygons for QuPath: the committed files, which shapely judged valid with
/// areas equal to the pixel counts (`tools/make_geojson_fixtures.py`, `tools/check_geojson.py`),
/// are reproduced byte for byte.
@Suite struct MaskPolygonsTests {
    struct Case: Decodable {
        var mask: String, classification: String, colour: [UInt8], width: Int, height: Int, scale: Double
        var origin: [Double], connectivity: String, pixels: Int
        var all_valid: Bool
    }

    static func fixture(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("geojson/\(name)") }
    static let cases: [String: Case] = {
        guard let data = try? Data(contentsOf: fixture("expected.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.compactMapValues { value in
            guard let entry = value as? [String: Any] else { return nil }  // "written_by", "judge"
            return (try? JSONSerialization.data(withJSONObject: entry)).flatMap { try? JSONDecoder().decode(Case.self, from: $0) }
        }
    }()

    @Test(arguments: cases.keys.sorted()) func reproducesTheCheckedFiles(_ name: String) throws {
        let c = try #require(Self.cases[name])
        #expect(c.all_valid)
        let pixels = try PNGImage.mask(contentsOf: Self.fixture(c.mask), height: c.height, width: c.width)
        let polygons = MaskPolygons(width: c.width, height: c.height, pixels: pixels,
                                    connectivity: c.connectivity == "four" ? .four : .eight, scale: (c.scale, c.scale),
                                    origin: (c.origin[0], c.origin[1]))
        #expect(polygons.pixelCount == c.pixels && pixels.filter { $0 }.count == c.pixels)
        let text = polygons.geoJSON(classification: c.classification, colour: (c.colour[0], c.colour[1], c.colour[2]))
        #expect(text == (try Data(contentsOf: Self.fixture(name))), "\(name) differs from the checked file")
    }

    @Test func smallCases() throws {
        let one = MaskPolygons(width: 1, height: 1, pixels: [true])
        #expect(one.features.first?.polygons.first?.exterior.map { [$0.x, $0.y] } == [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]])
        let empty = MaskPolygons(width: 3, height: 2, pixels: [Bool](repeating: false, count: 6)).geoJSON()
        #expect(String(decoding: empty, as: UTF8.self).trimmingCharacters(in: .newlines) == #"{"type":"FeatureCollection","features":[]}"#)
        let diagonal = [true, false, false, true]
        #expect(MaskPolygons(width: 2, height: 2, pixels: diagonal, connectivity: .eight).count == 1)
        #expect(MaskPolygons(width: 2, height: 2, pixels: diagonal, connectivity: .four).count == 2)
        let ring = MaskPolygons(width: 3, height: 3, pixels: [true, true, true, true, false, true, true, true, false])
        #expect(ring.count == 1 && ring.features[0].polygons[0].holes.count == 1 && ring.pixelCount == 7)
        let (dir, cleanup) = try temporaryFolder("geojson")
        defer { cleanup() }
        try one.write(to: dir.appendingPathComponent("one.geojson"))
        #expect(contents(of: dir) == ["one.geojson"])
        #expect(throws: IOError.self) { try one.write(to: dir.appendingPathComponent("missing/one.geojson")) }
    }

    /// Random masks of several densities, full of holes, islands in holes and corner contacts:
    /// each feature is one connected component (8- or 4-connected), its area its pixel count, each
    /// polygon with the holes of its own component, as a flood fill finds them.
    @Test func featuresAreTheConnectedComponents() {
        var seed: UInt64 = 12345
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for (density, connectivity) in [(0.3, MaskPolygons.Connectivity.eight), (0.55, .eight), (0.75, .four), (0.5, .four)] {
            let (w, h) = (61, 47)
            let mask = (0..<(w * h)).map { _ in Double(next() % 1000) / 1000 < density }
            // Component sizes by flood fill.
            var seen = [Bool](repeating: false, count: w * h), sizes: [Int] = []
            for start in mask.indices where mask[start] && !seen[start] {
                var stack = [start], size = 0
                seen[start] = true
                while let p = stack.popLast() {
                    size += 1
                    let (y, x) = (p / w, p % w)
                    for dy in -1...1 { for dx in -1...1 where (dy, dx) != (0, 0) && (connectivity == .eight || dy == 0 || dx == 0) {
                        let (yy, xx) = (y + dy, x + dx)
                        guard yy >= 0, yy < h, xx >= 0, xx < w, mask[yy * w + xx], !seen[yy * w + xx] else { continue }
                        seen[yy * w + xx] = true
                        stack.append(yy * w + xx)
                    } }
                }
                sizes.append(size)
            }
            let polygons = MaskPolygons(width: w, height: h, pixels: mask, connectivity: connectivity)
            #expect(polygons.features.map(\.pixelCount) == sizes, "density \(density), \(connectivity)")
            #expect(polygons.pixelCount == mask.filter { $0 }.count)
        }
    }

    /// `minimumArea` leaves out the features of fewer full-resolution pixels (pixels × scale²), a
    /// feature's parts counted together; the rest are written as without it, as valid JSON.
    @Test func leavesOutSpecks() throws {
        // A 2×2 block (4 pixels), a lone pixel, and a diagonal pair (one feature of 2 with `.eight`).
        let rows = ["XX...X", "XX....", "......", "...X..", "....X."]
        let mask = rows.flatMap { $0.map { $0 == "X" } }
        let polygons = MaskPolygons(width: 6, height: 5, pixels: mask)
        func areas(_ data: Data) throws -> Int {
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (json?["features"] as? [Any])?.count ?? -1
        }
        #expect(polygons.count == 3)
        #expect(try areas(polygons.geoJSON()) == 3 && areas(polygons.geoJSON(minimumArea: 2)) == 2)
        #expect(try areas(polygons.geoJSON(minimumArea: 3)) == 1 && areas(polygons.geoJSON(minimumArea: 5)) == 0)
        let kept = String(decoding: polygons.geoJSON(minimumArea: 3), as: UTF8.self)
        #expect(kept.contains("[[[0,0],[2,0],[2,2],[0,2],[0,0]]]") && !kept.contains("[5,0]"), "\(kept)")
        // At scale 4 a pixel is 16 full-resolution pixels: the lone one is kept at 16, left out at 17.
        let scaled = MaskPolygons(width: 6, height: 5, pixels: mask, scale: (4, 4))
        #expect(try areas(scaled.geoJSON(minimumArea: 16)) == 3 && areas(scaled.geoJSON(minimumArea: 17)) == 2)
    }

    /// A mask read at a reduced size is written in the full-resolution pixels along each axis with
    /// its own factor: 101×64 read at half is 51×32, whose rows stand for 101/51 rows each (one
    /// factor, 2, put the bottom edge at 102, past the image).
    @Test func eachAxisScalesByItsOwnFactor() throws {
        let scale = Sample.pixelScale(in: [Sample.fullResolutionKey: "101x64"], height: 51, width: 32)
        #expect(scale.x == 2 && scale.y == 101.0 / 51)
        let full = MaskPolygons(width: 32, height: 51, pixels: [Bool](repeating: true, count: 51 * 32), scale: scale)
        let ring = try #require(full.features.first?.polygons.first?.exterior)
        #expect(ring.map { full.position(of: $0) }.map { [$0.x, $0.y] } == [[0, 0], [64, 0], [64, 101], [0, 101], [0, 0]])
        #expect(String(decoding: full.geoJSON(), as: UTF8.self).contains("[[[0,0],[64,0],[64,101],[0,101],[0,0]]]"))
        #expect(Sample.pixelScale(in: [Sample.pixelScaleKey: "4"], height: 5, width: 5) == (4, 4))
        #expect(Sample.pixelScale(in: [:], height: 5, width: 5) == (1, 1))
    }
}
