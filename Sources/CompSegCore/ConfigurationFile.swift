import Foundation
import Yams

/// A YAML or JSON file of settings (YAML is a superset of JSON), read as a JSON object so
/// Codable types decode it with `PluginConfiguration.decode`, which rejects unknown keys.
public enum ConfigurationFile {
    /// Limits on what a settings or manifest file may hold: its bytes, and the values it expands
    /// to (YAML aliases repeat a subtree; a file of nested aliases could otherwise grow without bound).
    public static let maximumBytes = 4 << 20, maximumValues = 1_000_000, maximumDepth = 64

    /// The file's top-level mapping as JSON.
    /// - Throws: `ConfigurationError` naming the file when it is missing, too large, not YAML/JSON,
    ///   expands beyond the limits, or is not a mapping.
    /// - Parameter name: the file as messages name it (the path as the user gave it); its full path by default.
    public static func read(_ url: URL, named name: String? = nil) throws -> PluginConfiguration {
        let source = name ?? url.path
        var status = stat()  // a fifo would make the read wait for ever; only regular files are read
        if stat(url.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw ConfigurationError(source: source, message: "is not a regular file (a folder, fifo or device)")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(source: source, message: "cannot be read (missing or not a file)")
        }
        guard data.count <= maximumBytes else {
            throw ConfigurationError(source: source, message: "is \(data.count) bytes; a settings file may hold at most \(maximumBytes)")
        }
        if startsAsDataManifest(data.prefix(4096)) {
            throw ConfigurationError(source: source, message: "is a data manifest (a CSV table with a path column), which --data takes, "
                                     + "not a settings file")
        }
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            throw ConfigurationError(source: source, message: "is UTF-16 text; save it as UTF-8")
        }
        // A UTF-8 byte-order mark (Windows editors write one) is no part of the settings.
        let bytes = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(source: source, message: notUTF8(bytes))
        }
        // The parser builds (and frees) its tree by recursion: a 10 KB file of 5000 '[' overflowed
        // the stack. A generous estimate of the nesting, made without parsing, stops such a file first.
        guard nestingEstimate(text) <= 2 * maximumDepth + 8 else {
            throw ConfigurationError(source: source, message: "nests deeper than \(maximumDepth) levels; spell the settings out")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError(source: source, message: "is not valid YAML or JSON: \(error)")
        }
        var budget = maximumValues
        guard let node, case .object(let object) = try value(node, at: "", depth: 0, budget: &budget, source) else {
            throw ConfigurationError(source: source, message: "must hold a mapping of keys to values at the top level")
        }
        return PluginConfiguration(json: JSONValue.object(object).data, source: source)
    }

    /// The deepest nesting `text` reaches, estimated line by line without parsing: brackets and
    /// braces open outside quotes and comments, plus the block indentation levels open and the
    /// `- ` items that start the line. At least the parsed depth for YAML as settings files write
    /// it, and at most about twice it.
    static func nestingEstimate(_ text: String) -> Int {
        var deepest = 0, flow = 0, indents: [Int] = []
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let scalars = Array(line.unicodeScalars)
            var i = scalars.prefix { $0 == " " }.count
            guard i < scalars.count, scalars[i] != "#" else { continue }
            if flow == 0 {
                while let last = indents.last, last >= i { indents.removeLast() }
                indents.append(i)
            }
            var items = 0
            while i + 1 < scalars.count, scalars[i] == "-", scalars[i + 1] == " " {
                items += 1; i += 2
                while i < scalars.count, scalars[i] == " " { i += 1 }
            }
            var quote: Unicode.Scalar? = nil, previous: Unicode.Scalar = " "
            var lineDeepest = flow
            while i < scalars.count {
                let c = scalars[i]
                if let q = quote {
                    if c == "\\" && q == "\"" { i += 1 } else if c == q { quote = nil }
                } else if c == "\"" || c == "'" {
                    quote = c
                } else if c == "#" && (previous == " " || previous == "\t") {
                    break
                } else if c == "[" || c == "{" {
                    flow += 1; lineDeepest = max(lineDeepest, flow)
                } else if c == "]" || c == "}" {
                    flow = max(0, flow - 1)
                }
                previous = c; i += 1
            }
            deepest = max(deepest, indents.count + items + lineDeepest)
        }
        return deepest
    }

    /// A YAML node as JSON, counting every value (aliases counted each time they repeat) against
    /// `budget`; `path` names it in messages ("lr", "topologies[2].name").
    /// - Throws: for a number JSON cannot hold (NaN, infinite, beyond a double's range, or a whole
    ///   number beyond 2^53, which a double holds inexactly), or a key given twice in one mapping.
    private static func value(_ node: Node, at path: String, depth: Int, budget: inout Int, _ source: String) throws -> JSONValue {
        func fail(_ message: String) -> ConfigurationError {
            ConfigurationError(source: source, message: (path.isEmpty ? "" : "key '\(path)': ") + message)
        }
        budget -= 1
        guard budget >= 0, depth <= maximumDepth else {
            throw ConfigurationError(source: source, message: "expands to more than \(maximumValues) values or nests deeper "
                                     + "than \(maximumDepth) levels (YAML aliases repeat what they name); spell the settings out")
        }
        switch node {
        case .scalar(let scalar):
            let text = scalar.string, tag = node.tag.description
            /// A whole number JSON's doubles hold exactly (up to 2^53); nil: one beyond 64 bits.
            func whole(_ number: Int?) throws -> JSONValue {
                guard let number, number.magnitude <= 1 << 53 else {
                    throw fail("\(text) is beyond the whole numbers a settings file holds exactly (up to 2^53 = 9007199254740992)"
                               + (path == "seed" ? "; a larger seed is given on the command line (--seed)" : ""))
                }
                return .number(Double(number))
            }
            // Digits after a leading 0 are decimal, as in JSON and YAML 1.2 (YAML 1.1 read 010 as 8); a tag (`!!str 010`) or quotes keep text.
            if tag == Tag.Name.int.rawValue || tag == Tag.Name.float.rawValue, scalar.style == .plain,
               let digits = decimalDigits(text, leadingZero: true) {
                return try whole(Int(digits))
            }
            switch tag {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(text)
            case Tag.Name.int.rawValue:
                // YAML 1.1's base-60 integers ("1:30") stay text: Yams's conversion of a long one overflows.
                if text.contains(":") { return .string(text) }
                if let number = node.int { return try whole(number) }
                // Digits beyond 64 bits, which Yams reads as no number.
                return try decimalDigits(text).map { try whole(Int($0)) } ?? .string(text)
            case Tag.Name.float.rawValue:
                guard let number = node.float else { return .string(text) }
                guard number.isFinite else { throw fail("\(text.isEmpty ? "\(number)" : text) is not a finite number") }
                return .number(number)
            default: return .string(text)
            }
        case .sequence(let items):
            return .array(try items.enumerated().map { k, item in
                try value(item, at: "\(path)[\(k + 1)]", depth: depth + 1, budget: &budget, source)
            })
        case .mapping(let pairs):
            var object: [String: JSONValue] = [:], merged: [Node] = []
            for (key, item) in pairs {
                // YAML's merge key: `<<: *base` (or a list of such) brings in the keys of the mappings named.
                if key.string == "<<", key.tag.description == Tag.Name.merge.rawValue || key.tag.description == Tag.Name.str.rawValue,
                   case .scalar(let scalar) = key, scalar.style == .plain {
                    guard merged.isEmpty else { throw fail("'<<' is given twice; name several mappings as one list, <<: [*a, *b]") }
                    merged = item.sequence.map(Array.init) ?? [item]
                    guard merged.allSatisfy({ $0.mapping != nil }) else {
                        throw fail("'<<' (YAML's merge key) must name a mapping, or a list of mappings (<<: *base, <<: [*a, *b])")
                    }
                    continue
                }
                let name = key.string ?? "", inner = path.isEmpty ? name : "\(path).\(name)"
                guard object[name] == nil else {
                    throw ConfigurationError(source: source, message: "key '\(inner)' is given twice")
                }
                object[name] = try value(item, at: inner, depth: depth + 1, budget: &budget, source)
            }
            // The keys written here win over those merged in; of those merged, the first mapping's.
            for mapping in merged {
                guard case .object(let keys) = try value(mapping, at: path, depth: depth, budget: &budget, source) else { continue }
                for (name, item) in keys where object[name] == nil { object[name] = item }
            }
            return .object(object)
        }
    }

    /// `text` as signed decimal digits (`-0010` → `-0010`, `1_000` → `1000`), where it is a sign
    /// and digits with `_` between them, and with `leadingZero` only where its digits begin with a
    /// 0 and are more than one (`010`, `08`); nil otherwise.
    private static func decimalDigits(_ text: String, leadingZero: Bool = false) -> String? {
        let unsigned = text.first == "+" || text.first == "-" ? text.dropFirst() : text[...]
        guard !unsigned.isEmpty, !leadingZero || (unsigned.first == "0" && unsigned.count > 1), unsigned.first != "_",
              unsigned.last != "_", unsigned.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) else { return nil }
        return (text.first == "-" ? "-" : "") + unsigned.filter { $0 != "_" }
    }

    /// One value as a settings file reads it after `key: ` (`0.2`, `.2`, `true`, `relu`, `{a: 1}`):
    /// the value of an option such as `--head-option KEY=VALUE`; nil where `text` is no YAML value
    /// (`a: b: c`), which such an option takes as text.
    /// - Throws: `ConfigurationError` from `source` for what a settings file refuses (a number
    ///   beyond its range, deep nesting).
    public static func value(_ text: String, source: String) throws -> JSONValue? {
        guard nestingEstimate(text) <= 2 * maximumDepth + 8 else {
            throw ConfigurationError(source: source, message: "nests deeper than \(maximumDepth) levels")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { return nil }
        guard let node else { return .null }
        var budget = 10_000
        return try value(node, at: "", depth: 0, budget: &budget, source)
    }

    /// The refusal of `bytes` that are not UTF-8: where the first bad byte lies (line and column,
    /// counted from 1), and what to do.
    static func notUTF8(_ bytes: Data.SubSequence) -> String {
        var line = 1, column = 1, i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            let sequence = bytes[i..<min(i + max(length, 1), bytes.endIndex)]
            if length == 0 || sequence.count < length || String(validating: sequence, as: UTF8.self) == nil {
                return "is not UTF-8 text: line \(line), column \(column) holds the byte 0x" + String(b, radix: 16, uppercase: true)
                    + " (saved in another encoding, such as Latin-1 or Windows-1252?); save it as UTF-8"
            }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            i += length
        }
        return "is not UTF-8 text; save it as UTF-8"
    }
}

extension PluginConfiguration {
    /// The value under `key` as its own configuration (e.g. a plugin's section); empty when absent
    /// or null. Any other value is kept as it is, so decoding it names what was expected.
    public func section(_ key: String) -> PluginConfiguration {
        let value = (try? JSONDecoder().decode(JSONValue.self, from: json))?.objectValue?[key] ?? .null
        let data = value == .null ? Data("{}".utf8) : value.data
        return PluginConfiguration(json: data, source: "\(source): \(key)")
    }
}

/// Whether `head` (a file's first bytes) starts as a data manifest does: a CSV header line
/// naming a `path` column and a `label`, `split`, `mask` or `truth` one (quoted or not, any
/// case). A manifest given where a settings file or an image file belongs is then named as one.
public func startsAsDataManifest<Bytes: Collection<UInt8>>(_ head: Bytes) -> Bool {
    var bytes = head[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
    guard !line.contains(0) else { return false }  // binary
    let fields = String(decoding: line, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"")).lowercased() }
    return fields.contains("path") && fields.contains { ["label", "split", "mask", "truth"].contains($0) }
}
