import CompSegTestSupport
import Foundation
import Testing
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
                                    connectivity: c.connectivity == "four" ? .four : .eight, scale: c.scale,
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
}
