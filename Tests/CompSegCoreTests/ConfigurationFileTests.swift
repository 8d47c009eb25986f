import Foundation
import Testing
@testable import CompSegCore
import CompSegNetHead

@Suite struct ConfigurationFileTests {
    func write(_ text: String, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())-\(name)")
        try Data(text.utf8).write(to: url)
        return url
    }

    struct Sizes: DefaultedConfiguration { var sizes: [Int] = [1, 2]; var name = "a" }

    /// A list item is named as the settings reader names it, `sizes[2]`, counted from 1, by
    /// every message: a fraction where a whole number belongs, and a value of the wrong type.
    @Test func listItemsAreNamedWithBracketsFromOne() throws {
        func message(_ json: String) -> String {
            do { _ = try PluginConfiguration(json: Data(json.utf8), source: "s.yaml").decode(Sizes.self); return "no error" } catch {
                return "\(error)"
            }
        }
        #expect(message(#"{"sizes": [1, 2.5]}"#) == "s.yaml: key 'sizes[2]': 2.5 is not a whole number")
        #expect(message(#"{"sizes": [1, 1e30]}"#) == "s.yaml: key 'sizes[2]': 1e+30 is beyond a whole number's range (up to 9223372036854775807)")
        #expect(message(#"{"name": 2024}"#) == "s.yaml: key 'name': expected text, got the number 2024 (write it in quotes to give it as text)")
        #expect(message(#"{"sizes": "two"}"#) == "s.yaml: key 'sizes': expected a list, got the text 'two'")
        #expect(message(#"{"sizes": [1, "two"]}"#).contains("key 'sizes[2]'"))
    }

    @Test func yamlSectionsDecodeIntoPluginConfigurations() throws {
        let url = try write("topology: unet\nheadConfiguration:\n  alpha: 0.2\n  reduction: mean\n", "run.yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        let head = try ConfigurationFile.read(url).section("headConfiguration").decode(CompSegNetHead.Configuration.self)
        #expect(head.alpha == 0.2 && head.reduction == .mean)
    }

    @Test func unknownKeyInASectionNamesFileAndSection() throws {
        let url = try write(#"{"headConfiguration": {"alfa": 0.2}}"#, "run.json")
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try ConfigurationFile.read(url).section("headConfiguration").decode(CompSegNetHead.Configuration.self)
            Issue.record("expected an error")
        } catch let e as ConfigurationError {
            #expect(e.description == "\(url.path): headConfiguration: unknown key 'alfa'; did you mean 'alpha'? known keys: alpha, beta, gamma, reduction")
        }
    }

    @Test func badFilesAreNamed() throws {
        let list = try write("- a\n- b\n", "list.yaml")
        defer { try? FileManager.default.removeItem(at: list) }
        #expect(throws: ConfigurationError(source: list.path, message: "must hold a mapping of keys to values at the top level")) {
            try ConfigurationFile.read(list)
        }
        // A data manifest given for settings is said to be one.
        for header in ["path,label,split", "\u{FEFF}\"path\",\"label\",\"split\""] {  // R's write.csv quotes the names
            let manifest = try write(header + "\nspot.h5,cancer,train\n", "manifest.csv")
            defer { try? FileManager.default.removeItem(at: manifest) }
            #expect(throws: ConfigurationError(source: manifest.path, message: "is a data manifest (a CSV table with a path column), which "
                                               + "--data takes, not a settings file")) {
                try ConfigurationFile.read(manifest)
            }
        }
        let utf16 = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())-utf16.yaml")
        try Data([0xFF, 0xFE] + Array("epochs: 1\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: utf16)
        defer { try? FileManager.default.removeItem(at: utf16) }
        #expect(throws: ConfigurationError(source: utf16.path, message: "is UTF-16 text; save it as UTF-8")) { try ConfigurationFile.read(utf16) }
        let missing = URL(fileURLWithPath: "/nonexistent/run.yaml")
        #expect(throws: ConfigurationError(source: missing.path, message: "cannot be read (missing or not a file)")) {
            try ConfigurationFile.read(missing)
        }
    }

    /// A manifest's header is told from a text map's metadata, a settings file's first line and binary files.
    @Test func aDataManifestIsToldByItsHeader() {
        for (head, manifest) in [("path,label,split\n", true), ("PATH, Truth\r\n", true), ("\"path\",\"mask\"", true),
                                 ("Path,D:\\maps\\x.txt\n", false), ("path;label;split\n", false), ("path\nspot.h5\n", false),
                                 ("topology: unet\n", false), ("", false), ("path,label\u{0}", false)] {
            #expect(startsAsDataManifest(Array(head.utf8)) == manifest, "\(head)")
        }
    }

    /// A file a Windows editor saved with a UTF-8 byte-order mark reads as without it.
    @Test func aByteOrderMarkIsNoPartOfTheSettings() throws {
        let url = try write("\u{FEFF}topology: unet\nepochs: 3\n", "bom.yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        let settings = try JSONSerialization.jsonObject(with: ConfigurationFile.read(url).json) as? [String: Any]
        #expect(settings?["topology"] as? String == "unet" && settings?["epochs"] as? Int == 3, "\(String(describing: settings))")
    }

    /// Numbers JSON cannot hold and keys given twice are refused with their key's path (they
    /// used to surface as "key '': expected a value of type Dictionary").
    @Test func nonFiniteNumbersAndRepeatedKeysAreNamed() throws {
        for (text, message) in [("lr: .nan\n", "key 'lr': .nan is not a finite number"),
                                ("{\"lr\": 1e400}", "key 'lr': 1e400 is not a finite number"),
                                ("a:\n  b: [1, -.inf]\n", "key 'a.b[2]': -.inf is not a finite number"),
                                ("lr: 0.1\nlr: 0.2\n", "key 'lr' is given twice"),
                                ("a: {b: 1, b: 2}\n", "key 'a.b' is given twice")] {
            let url = try write(text, "run.yaml")
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(throws: ConfigurationError(source: url.path, message: message)) { try ConfigurationFile.read(url) }
        }
    }

    /// A required key missing beside an unknown one that is nearly it is named as a misspelling.
    @Test func aMisspelledKeyIsSuggested() throws {
        let url = try write("headConfiguration: {alfa: 0.2}\n", "run.yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        struct Needs: Codable { var alpha: Float }
        #expect(throws: ConfigurationError(source: "\(url.path): headConfiguration", message: "unknown key 'alfa': did you mean 'alpha'?")) {
            try ConfigurationFile.read(url).section("headConfiguration").decode(Needs.self)
        }
        let far = try write("headConfiguration: {gamma: 0.2}\n", "run.yaml")
        defer { try? FileManager.default.removeItem(at: far) }
        #expect(throws: ConfigurationError(source: "\(far.path): headConfiguration", message: "missing key 'alpha'")) {
            try ConfigurationFile.read(far).section("headConfiguration").decode(Needs.self)
        }
        #expect(editDistance("alfa", "alpha") == 2 && editDistance("lr", "lx") == nil && editDistance("width", "depth") == nil)
    }

    /// A negative number, or text, where a seed (0 or more) belongs is named with its key, in words.
    @Test func aNegativeOrMistypedSeedIsNamed() throws {
        struct Seeded: Codable { var seed: UInt64 }
        #expect(throws: ConfigurationError(source: "run.yaml", message: "key 'seed': -1 is below 0; expected a whole number 0 or more")) {
            try PluginConfiguration(json: Data(#"{"seed": -1}"#.utf8), source: "run.yaml").decode(Seeded.self)
        }
        #expect(throws: ConfigurationError(source: "run.yaml", message: "key 'seed': expected a whole number 0 or more, got the text 'one'")) {
            try PluginConfiguration(json: Data(#"{"seed": "one"}"#.utf8), source: "run.yaml").decode(Seeded.self)
        }
        // Beside fractions and other negative numbers that are right where they are, the one at fault alone.
        struct Run: Codable { var seed: UInt64; var lr: Double; var shift: Int }
        #expect(throws: ConfigurationError(source: "run.yaml", message: "key 'seed': -1 is below 0; expected a whole number 0 or more")) {
            try PluginConfiguration(json: Data(#"{"seed": -1, "lr": 0.001, "shift": -3}"#.utf8), source: "run.yaml").decode(Run.self)
        }
    }

    /// Numbers as JSON and YAML 1.2 write them: digits after a leading 0 are decimal (YAML 1.1 read
    /// 010 as 8, 08 as text); a whole number beyond 2^53, which a double would round, is refused.
    /// A float beyond 32 bits is named as such.
    @Test func numbersReadAsWrittenOrAreRefused() throws {
        let decimal = try write("seed: 010\nepochs: 08\nbatch: 1_000\nlr: .5\nshift: -010\nup: +010\nid: !!str 010\nname: '010'\n"
                                + "hex: 0x10\nlimit: 9007199254740992\n", "decimal.yaml")
        let large = try write("seed: 12345678901234567\n", "large.yaml")
        let huge = try write("seed: 100000000000000000000\n", "huge.yaml")
        let next = try write("seed: 9007199254740993\n", "next.yaml")
        defer { for url in [decimal, large, huge, next] { try? FileManager.default.removeItem(at: url) } }
        #expect(try JSONDecoder().decode(JSONValue.self, from: ConfigurationFile.read(decimal).json)
                == ["seed": 10, "epochs": 8, "batch": 1000, "lr": 0.5, "shift": -10, "up": 10, "id": "010", "name": "010", "hex": 16,
                    "limit": 9_007_199_254_740_992])
        for url in [large, huge, next] {
            #expect { try ConfigurationFile.read(url) } throws: { error in
                "\(error)".contains("key 'seed':") && "\(error)".contains("beyond the whole numbers a settings file holds exactly (up to 2^53")
                    && "\(error)".contains("--seed")
            }
        }
        struct Rate: Codable { var lr: Float }
        #expect(throws: ConfigurationError(source: "run.yaml", message: "key 'lr': 1e-50 is beyond the numbers a setting holds "
                                           + "(32 bits: magnitudes from 1.2e-38 to 3.4e38, or 0)")) {
            try PluginConfiguration(json: Data(#"{"lr": 1e-50}"#.utf8), source: "run.yaml").decode(Rate.self)
        }
    }

    /// YAML's merge key brings in a named mapping's keys, those written beside it winning; a file
    /// in another encoding than UTF-8 is refused where its first foreign byte lies.
    @Test func mergeKeysAndForeignEncodings() throws {
        let merged = try write("a: &base {width: 4, depth: 2}\nb: {<<: *base, depth: 3}\nc:\n  <<: [{x: 1}, {x: 2, y: 2}]\n", "merge.yaml")
        let quoted = try write("a: {\"<<\": 1}\n", "quoted.yaml")
        let latin1 = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-\(UUID())-latin1.yaml")
        try Data("epochs: 1\nout: caf".utf8 + [0xE9] + Data("\n".utf8)).write(to: latin1)
        defer { for url in [merged, quoted, latin1] { try? FileManager.default.removeItem(at: url) } }
        let value = try JSONDecoder().decode(JSONValue.self, from: ConfigurationFile.read(merged).json)
        #expect(value == ["a": ["width": 4, "depth": 2], "b": ["width": 4, "depth": 3], "c": ["x": 1, "y": 2]])
        #expect(try JSONDecoder().decode(JSONValue.self, from: ConfigurationFile.read(quoted).json) == ["a": ["<<": 1]])
        #expect(throws: ConfigurationError(source: "l.yaml", message: "is not UTF-8 text: line 2, column 9 holds the byte 0xE9 (saved in "
                                           + "another encoding, such as Latin-1 or Windows-1252?); save it as UTF-8")) {
            try ConfigurationFile.read(latin1, named: "l.yaml")
        }
        // One value as a settings file reads it, for options such as --head-option.
        #expect(try ConfigurationFile.value(".2", source: "o") == 0.2 && ConfigurationFile.value("+0.2", source: "o") == 0.2)
        #expect(try ConfigurationFile.value("ReLU", source: "o") == "ReLU" && ConfigurationFile.value("{a: 1}", source: "o") == ["a": 1])
        #expect(try ConfigurationFile.value("a: b: c", source: "o") == nil && ConfigurationFile.value("~", source: "o") == .null)
        #expect(throws: ConfigurationError(source: "o", message: "nests deeper than 64 levels")) {
            try ConfigurationFile.value(String(repeating: "[", count: 5000), source: "o")
        }
    }

    @Test func jsonValueRoundTrips() throws {
        let text = #"{"a":[1,2.5,"x",true,null],"b":{"c":3}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(value), as: UTF8.self) == text)
    }

    /// Nested YAML aliases would expand to 10⁹ values (a "billion laughs" file): refused by the
    /// value budget, quickly and in little memory. Scalars keep their YAML types; dates stay text.
    @Test func aliasBombsAreRefusedAndScalarsKeepTheirTypes() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let bomb = try write(lines.joined(separator: "\n") + "\n", "bomb.yaml")
        defer { try? FileManager.default.removeItem(at: bomb) }
        #expect {
            try ConfigurationFile.read(bomb)
        } throws: { error in
            "\(error)".contains("bomb.yaml") && "\(error)".contains("expands to more than 1000000 values")
        }
        let typed = try write("n: 3\nx: 2.5\nflag: true\nnothing: null\nday: 2026-11-30\nname: unet\n", "typed.yaml")
        defer { try? FileManager.default.removeItem(at: typed) }
        let value = try JSONDecoder().decode(JSONValue.self, from: ConfigurationFile.read(typed).json)
        #expect(value == ["n": 3, "x": 2.5, "flag": true, "nothing": .null, "day": "2026-11-30", "name": "unet"])
    }

    /// Deep nesting is refused before parsing (5000 '[' in 10 KB overflowed the parser's stack), in
    /// flow and block style; the estimate stays near the true depth for files as users write them.
    @Test func deepNestingIsRefusedBeforeParsing() throws {
        let flow = try write("a: " + String(repeating: "[", count: 5000) + "\n", "flow.yaml")
        let json = try write("{\"a\": " + String(repeating: "{\"b\": ", count: 5000) + "1" + String(repeating: "}", count: 5001) + "\n", "deep.json")
        let block = try write((0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n", "block.yaml")
        let items = try write(String(repeating: "- ", count: 3000) + "x\n", "items.yaml")
        defer { for url in [flow, json, block, items] { try? FileManager.default.removeItem(at: url) } }
        for url in [flow, json, block, items] {
            #expect {
                try ConfigurationFile.read(url)
            } throws: { error in
                "\(error)".contains(url.lastPathComponent) && "\(error)".contains("nests deeper than 64 levels")
            }
        }
        #expect(ConfigurationFile.nestingEstimate("a: [1, 2]\nb:\n  c: {d: [x]}\n  e:\n    - f: 1\n      g: '[[['\n") == 4)
        #expect(ConfigurationFile.nestingEstimate("s: \"[[[[\" # [[[[\n") == 1)
    }

    /// Found by fuzz/config_yaml: a null or scalar section, and a long YAML 1.1 base-60 integer
    /// (whose conversion overflowed), give values or errors, never a crash.
    @Test func oddSectionsAndBase60Integers() throws {
        let null = try write("headConfiguration:\n", "null.yaml")
        let scalar = try write("headConfiguration: 3\n", "scalar.yaml")
        let base60 = try write("alpha: 6:0:6:0:6:0:0:6:0:6:0\n", "base60.yaml")
        defer { for url in [null, scalar, base60] { try? FileManager.default.removeItem(at: url) } }
        let defaults = try ConfigurationFile.read(null).section("headConfiguration").decode(CompSegNetHead.Configuration.self)
        #expect(defaults.alpha == CompSegNetHead.Configuration().alpha)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFile.read(scalar).section("headConfiguration").decode(CompSegNetHead.Configuration.self)
        }
        let text = try ConfigurationFile.read(base60).json
        #expect(String(decoding: text, as: UTF8.self).contains("6:0:6:0"))
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFile.read(base60).decode(CompSegNetHead.Configuration.self)
        }
    }

    /// Settings laid over a modality's options keep the other keys of a section, unless they name
    /// another kind of it, whose keys then go with it.
    @Test func sectionsMergeKeyByKeyUnlessTheKindChanges() throws {
        func json(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        let base = try json(#"{"preview": {"kind": "bands", "wavenumbers": [1655, 1545, 1240]}, "tissue": {"method": "above", "threshold": 0.2}}"#)
        #expect(try json(#"{"tissue": {"fillHolesSmallerThan": 5}}"#).merged(over: base)
                == json(#"{"preview": {"kind": "bands", "wavenumbers": [1655, 1545, 1240]}, "tissue": {"method": "above", "threshold": 0.2, "fillHolesSmallerThan": 5}}"#))
        #expect(try json(#"{"preview": {"kind": "absorbance"}, "tissue": {"method": "otsu", "threshold": null}}"#).merged(over: base)
                == json(#"{"preview": {"kind": "absorbance"}, "tissue": {"method": "otsu", "threshold": null}}"#))
        // Another method keeps the section's other keys (a lab's clean-up sizes).
        let sized = try json(#"{"tissue": {"method": "above", "threshold": 0.2, "removeSpecksSmallerThan": 16}}"#)
        #expect(try json(#"{"tissue": {"method": "all", "threshold": null}}"#).merged(over: sized)
                == json(#"{"tissue": {"method": "all", "threshold": null, "removeSpecksSmallerThan": 16}}"#))
        #expect(try json(#"{"preview": {"kind": "bands", "wavenumbers": [1000, 1100, 1200]}}"#).merged(over: base)
                == json(#"{"preview": {"kind": "bands", "wavenumbers": [1000, 1100, 1200]}, "tissue": {"method": "above", "threshold": 0.2}}"#))
    }
}
