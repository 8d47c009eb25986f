import Foundation
import Testing
@testable import CompSegIO

/// The JSON reader of GeoJSON masks reads what `JSONSerialization` reads, numbers packed, and
/// names where a file stops being JSON.
@Suite struct CompactJSONTests {
    /// `value` with Foundation's numbers as Double and packed arrays unpacked, for comparison.
    static func plain(_ value: Any) -> Any {
        switch value {
        case let n as [Double]: return n.map { $0 as Any }
        case let rows as [[Double]]: return rows.map { $0.map { $0 as Any } as Any }
        case let items as [Any]: return items.map(plain)
        case let members as [String: Any]: return members.mapValues(plain)
        default: return value
        }
    }

    @Test func readsWhatFoundationReads() throws {
        let text = """
            \u{FEFF}{"type": "FeatureCollection", "name": "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\n\\t",
             "features": [{"type": "Feature", "properties": {"n": -0.5e-3, "ok": true, "none": null, "list": [1, "a", [2]]},
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [10.25, 0], [1E2, 3e+1, 7], [0, 0]]]}}],
             "empty": [], "nested": [[]], "mixed": [[1, 2], [3, "x"]]}
            """
        let ours = try CompactJSON.parse(Data(text.utf8)) as! [String: Any]
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8.dropFirst(3))) as! [String: Any]
        #expect(NSDictionary(dictionary: Self.plain(ours) as! [String: Any]).isEqual(to: theirs))
        #expect(ours["name"] as? String == "café 😀 \"q\" \\ / \n\t")
        let geometry = ((ours["features"] as! [Any])[0] as! [String: Any])["geometry"] as! [String: Any]
        let ring = (geometry["coordinates"] as! [Any])[0]
        #expect(ring as? [[Double]] == [[0, 0], [10.25, 0], [100, 30, 7], [0, 0]])
        #expect((ours["mixed"] as? [Any])?.count == 2 && (ours["mixed"] as? [[Double]]) == nil)
        #expect(try CompactJSON.parse(Data(" [1,2.5,-3] ".utf8)) as? [Double] == [1, 2.5, -3])
    }

    @Test func namesWhereItIsNotJSON() {
        let cases: [(String, String)] = [
            ("", "expected a value, found the end of the file, at byte 0 (line 1)"),
            ("{\"a\": 1,\n \"b\" 2}", "expected ':' after the key \"b\", at byte 14 (line 2)"),
            ("[1, 2", "expected ',' or ']', found the end of the file"),
            ("[01]", "expected a value"),
            ("[1.]", "expected digits after the decimal point"),
            ("[1e]", "expected digits in the exponent"),
            ("\"abc", "a string is not closed"),
            ("\"a\\qb\"", "'\\q' is no escape in a JSON string"),
            ("\"\\u12\"", "expected four hexadecimal digits after \\u"),
            ("\"a\tb\"", "a control character (9) in a string"),
            ("[tru]", "expected a value"),
            ("{} x", "expected the end of the file after the value"),
            (String(repeating: "[", count: 300), "nesting deeper than 256 levels"),
        ]
        for (text, message) in cases {
            do {
                _ = try CompactJSON.parse(Data(text.utf8))
                Issue.record("\(text.prefix(20)): no error")
            } catch {
                #expect("\(error)".contains(message), "\(text.prefix(20)): \(error)")
            }
        }
    }
}
