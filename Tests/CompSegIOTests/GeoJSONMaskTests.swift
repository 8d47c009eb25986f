import Foundation
import Testing
@testable import CompSegIO
import CompSegTestSupport

/// Truth and tissue masks drawn as GeoJSON polygons (QuPath's annotations): each pixel on where its
/// centre lies inside a polygon, by the even–odd rule over its rings.
@Suite struct GeoJSONMaskTests {
    static func fixture(_ path: String) -> URL { fixturesDirectory.appendingPathComponent(path) }

    /// Annotations written by hand (tools/make_geojson_mask_fixtures.py), the mask computed there
    /// by counting ring crossings: triangles and diamonds off the pixel grid, a hole, a frame with
    /// an island in its hole, an unclosed ring, a line (no area) and a feature without geometry.
    @Test func readsHandDrawnAnnotationsAsTheirIndependentMask() throws {
        let expected = try PNGImage.mask(contentsOf: Self.fixture("masks/annotations_expected.png"), height: 30, width: 40)
        let read = try MaskFile.mask(contentsOf: Self.fixture("masks/annotations.geojson"), height: 30, width: 40)
        #expect(read == expected)
        #expect(read.filter { $0 }.count == 493)
    }

    /// The GeoJSON `segment --geojson` writes (MaskPolygons' golden files, judged by shapely) reads
    /// back as the mask it came from: holes, corners where parts meet, 4- and 8-connected features.
    @Test(arguments: [("nested", 12, 12), ("nested-four", 12, 12), ("diagonals", 6, 8), ("diagonals-four", 6, 8)])
    func compsegsOwnGeoJSONReadsBackAsItsMask(name: String, height: Int, width: Int) throws {
        let png = name.replacingOccurrences(of: "-four", with: "")
        let expected = try PNGImage.mask(contentsOf: Self.fixture("geojson/\(png).png"), height: height, width: width)
        #expect(try MaskFile.mask(contentsOf: Self.fixture("geojson/\(name).geojson"), height: height, width: width) == expected)
    }

    /// Drawn on the full-resolution slide and read for a sample at a coarser level: positions are
    /// divided by the scale, and each sample pixel's centre decides.
    @Test func fullResolutionPolygonsComeDownToTheSample() throws {
        let (h, w) = (9, 13)
        var pixels = [Bool](repeating: false, count: h * w)
        for p in pixels.indices where (p / w - 4) * (p / w - 4) + (p % w - 6) * (p % w - 6) < 12 || p % w == 1 { pixels[p] = true }
        let (dir, cleanup) = try temporaryFolder("geojson-mask")
        defer { cleanup() }
        let url = dir.appendingPathComponent("truth.geojson")
        try MaskPolygons(width: w, height: h, pixels: pixels, scale: (4, 4)).write(to: url)
        #expect(try MaskFile.mask(contentsOf: url, height: h, width: w, fullResolution: (4 * h, 4 * w)) == pixels)
        #expect(try MaskFile.mask(contentsOf: url, height: 4 * h, width: 4 * w).filter { $0 }.count == 16 * pixels.filter { $0 }.count)
    }

    /// Polygons outside the image (drawn on the full-resolution slide, read for a sample without
    /// its full resolution; or on another image) mark nothing, and `placement` says where they lie;
    /// one that reaches past an edge is clipped.
    @Test func polygonsOutsideTheImageMarkNothingAndSayWhere() throws {
        let (dir, cleanup) = try temporaryFolder("geojson-outside")
        defer { cleanup() }
        func square(_ x: Double, _ y: Double, _ side: Double) -> String {
            "[[[\(x), \(y)], [\(x + side), \(y)], [\(x + side), \(y + side)], [\(x), \(y + side)]]]"
        }
        let far = dir.appendingPathComponent("far.geojson")
        try Data("{\"type\": \"MultiPolygon\", \"coordinates\": [\(square(40, 36, 8)), \(square(-20, 2, 20)), [[]]]}".utf8).write(to: far)
        #expect(try !MaskFile.mask(contentsOf: far, height: 12, width: 16).contains(true))
        #expect(GeoJSONMask.placement(of: far) == "2 polygons at x -20…48, y 2…44")
        // The same positions at a full resolution of 64×48 mark pixels of a 16×12 sample.
        #expect(try MaskFile.mask(contentsOf: far, height: 12, width: 16, fullResolution: (48, 64)).contains(true))
        let edge = dir.appendingPathComponent("edge.geojson")
        try Data("{\"type\": \"Polygon\", \"coordinates\": \(square(14, 10, 6))}".utf8).write(to: edge)
        let clipped = try MaskFile.mask(contentsOf: edge, height: 12, width: 16)
        #expect(clipped.filter { $0 }.count == 4, "the 2×2 pixels inside the image")
        let empty = dir.appendingPathComponent("empty.geojson")
        try Data("{\"type\": \"FeatureCollection\", \"features\": []}".utf8).write(to: empty)
        #expect(GeoJSONMask.placement(of: empty) == nil)
    }

    /// Files that are not GeoJSON masks are refused, naming the file and where the problem is.
    @Test func badFilesAreNamed() throws {
        let (dir, cleanup) = try temporaryFolder("geojson-bad")
        defer { cleanup() }
        let cases: [(String, String)] = [
            ("not json", "is not JSON"),
            ("{\"type\": \"Feature\"}", "a Feature needs a \"geometry\""),
            ("{\"type\": \"Circle\"}", "\"type\" \"Circle\" is not GeoJSON"),
            ("[1, 2]", "[0]: expected a GeoJSON object with a \"type\""),
            ("{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"geometry\": {\"type\": \"Polygon\", "
             + "\"coordinates\": [[[0, 0], [4, \"x\"], [4, 4]]]}}]}",
             "features[0].geometry.coordinates[0][1]: expected a position [x, y] of pixel coordinates"),
            ("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1e300, 0], [4, 4]]]}", "coordinates[0][1]: expected a position"),
            ("{\"type\": \"MultiPoint\", \"coordinates\": [[1, 2]]}", "holds 1 point or line geometries and no Polygon or MultiPolygon"),
        ]
        for (k, (text, message)) in cases.enumerated() {
            let url = dir.appendingPathComponent("bad\(k).geojson")
            try Data(text.utf8).write(to: url)
            expectIOError(url, containing: message) { _ = try MaskFile.bits(contentsOf: url, height: 4, width: 4) }
        }
        let empty = dir.appendingPathComponent("empty.geojson")
        try Data("{\"type\": \"FeatureCollection\", \"features\": []}".utf8).write(to: empty)
        #expect(try MaskFile.mask(contentsOf: empty, height: 2, width: 2) == [false, false, false, false], "no annotation: no tumor")
        // Rings of fewer than 3 positions bound no area: read as nothing (evaluate warns of a cancer truth that marks none).
        let degenerate = dir.appendingPathComponent("degenerate.geojson")
        try Data(#"{"type": "MultiPolygon", "coordinates": [[[]], [[[0, 0], [4, 4]]]]}"#.utf8).write(to: degenerate)
        #expect(try MaskFile.mask(contentsOf: degenerate, height: 2, width: 2) == [false, false, false, false])
        let png = dir.appendingPathComponent("mask.json")
        try PNGImage(width: 1, height: 1, channels: 1, pixels: [1]).write(to: png)
        expectIOError(png, containing: "is not GeoJSON (it does not start with { or [)") { try FileSignature.requireMask(png) }
    }
}
