import Foundation

/// Any JSON value, for configuration sections passed through to a plugin unread.
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): n.rounded() == n && Swift.abs(n) < 1e15 ? try c.encode(Int(n)) : try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Every number in the value with its key path ("pca.components", "steps[3].at": list items
    /// counted from 1, as the settings reader and decoding errors spell them).
    public func numbers(_ path: String = "") -> [(path: String, value: Double)] {
        func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch self {
        case .number(let n): return [(path, n)]
        case .array(let items): return items.enumerated().flatMap { $0.element.numbers("\(path)[\($0.offset + 1)]") }
        case .object(let members): return members.sorted { $0.key < $1.key }.flatMap { $0.value.numbers(join($0.key)) }
        default: return []
        }
    }

    /// The value with the numbers at `indices` (in the order of `numbers()`) set to `value`.
    public func replacingNumbers(_ indices: Set<Int>, with value: Double) -> JSONValue {
        var seen = 0
        func replaced(_ v: JSONValue) -> JSONValue {
            switch v {
            case .number:
                defer { seen += 1 }
                return indices.contains(seen) ? .number(value) : v
            case .array(let items): return .array(items.map(replaced))
            case .object(let members):
                var out = members
                for key in members.keys.sorted() { out[key] = replaced(members[key]!) }
                return .object(out)
            default: return v
            }
        }
        return replaced(self)
    }

    /// As a settings file gives it: text unquoted, numbers and the rest as compact JSON.
    public var plain: String {
        switch self {
        case .string(let text): text
        case .array(let items): "[" + items.map(\.plain).joined(separator: ", ") + "]"
        default: text
        }
    }

    /// Compact JSON text with sorted keys: the form plugin configurations are kept in.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data("null".utf8), as: UTF8.self)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements) { _, last in last })
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue {
    /// Parses JSON text.
    /// - Throws: when `text` is not JSON.
    public init(parsing text: String) throws { self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    /// A Float as the number its shortest decimal form reads (0.1, not 0.10000000149).
    public init(_ value: Float) { self = .number(Double("\(value)") ?? Double(value)) }
    public init(_ value: Int) { self = .number(Double(value)) }

    /// `value` as JSON.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// The value as JSON data (sorted keys).
    public var data: Data { Data(text.utf8) }

    /// This value laid over `defaults`: an object's keys replace those of a default object, and
    /// a nested object whose keys the default object all has is laid over it in turn (a partial
    /// `tissue: {removeSpecksSmallerThan: 16}` keeps the other defaults); any other value,
    /// such as another case of an enum (`{"heNormal": {}}` over `{"torchDefault": {}}`), replaces
    /// the default whole.
    public func overlaid(on defaults: JSONValue) -> JSONValue {
        guard case .object(let mine) = self, case .object(var merged) = defaults else { return self }
        for (key, value) in mine {
            if let base = merged[key], case .object(let b) = base, case .object(let v) = value, v.keys.allSatisfy({ b[$0] != nil }) {
                merged[key] = value.overlaid(on: base)
            } else {
                merged[key] = value
            }
        }
        return .object(merged)
    }

    /// This object's keys laid over `base`'s, object within object, key by key (a settings file's
    /// `tissue: {fillHolesSmallerThan: 5}` over a modality's `tissue` block keeps its other keys);
    /// any other value replaces the base's, as does an object naming another `kind`, all of whose
    /// keys belong to it (`preview: {kind: absorbance}` over `{kind: bands, wavenumbers: […]}`).
    /// A `tissue` naming another `method` keeps the other keys (its clean-up sizes); a key of the
    /// old method is given as null to drop it (`threshold: null`).
    public func merged(over base: JSONValue) -> JSONValue {
        guard case .object(let mine) = self, case .object(var merged) = base else { return self }
        if let kind = mine["kind"], let old = merged["kind"], kind != old { return self }
        for (key, value) in mine { merged[key] = merged[key].map { value.merged(over: $0) } ?? value }
        return .object(merged)
    }

    /// The keys of an object; nil for other values.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
}
