import Foundation

/// A JSON reader for large files of numbers, such as GeoJSON annotations of a whole slide: values
/// come back as Swift values (`[String: Any]`, `[Any]`, `String`, `Double`, `Bool`, `NSNull`), and
/// arrays of numbers as `[Double]`, arrays of those as `[[Double]]`, so that a polygon's positions
/// take 56 bytes each rather than Foundation's boxed numbers (a 180 MB GeoJSON file took 4.4 GB
/// through `JSONSerialization`).
public enum CompactJSON {
    /// Where and how `data` fails to be JSON ("expected ',' or '}', at byte 310 (line 12)"), or
    /// nil when it is JSON: for a message about a file a decoder refused without saying where.
    public static func syntaxProblem(_ data: Data) -> String? {
        do { _ = try parse(data) } catch { return "\(error)" }
        return nil
    }

    /// Nesting deeper than this is refused (GeoJSON needs 7 levels; a deeper file would only
    /// exhaust the stack).
    static let maximumDepth = 256

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The value `data` holds (UTF-8, a byte-order mark allowed).
    /// - Throws: `Failure` saying what was expected, and where (line and byte).
    static func parse(_ data: Data) throws -> Any {
        try data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self))
            if reader.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.at = 3 }
            let value = try reader.value(depth: 0)
            reader.skipBlanks()
            guard reader.at == reader.bytes.count else { throw reader.failure("expected the end of the file after the value") }
            return value
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        func failure(_ what: String) -> Failure {
            let line = bytes[..<min(at, bytes.count)].lazy.filter { $0 == 0x0A }.count + 1
            return Failure(description: "\(what), at byte \(at) (line \(line))")
        }

        mutating func skipBlanks() {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws -> Any {
            guard depth < CompactJSON.maximumDepth else { throw failure("nesting deeper than \(CompactJSON.maximumDepth) levels") }
            skipBlanks()
            guard at < bytes.count else { throw failure("expected a value, found the end of the file") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): return try word("true", true)
            case UInt8(ascii: "f"): return try word("false", false)
            case UInt8(ascii: "n"): return try word("null", NSNull())
            default: return try number()
            }
        }

        mutating func word(_ text: String, _ value: Any) throws -> Any {
            let utf8 = Array(text.utf8)
            guard at + utf8.count <= bytes.count, bytes[at..<(at + utf8.count)].elementsEqual(utf8) else {
                throw failure("expected a value (an object, array, string, number, true, false or null)")
            }
            at += utf8.count
            return value
        }

        mutating func object(depth: Int) throws -> [String: Any] {
            at += 1
            var members: [String: Any] = [:]
            skipBlanks()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return members }
            while true {
                skipBlanks()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw failure("expected a key (a string in quotes)") }
                let key = try string()
                skipBlanks()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw failure("expected ':' after the key \"\(key)\"") }
                at += 1
                members[key] = try value(depth: depth + 1)
                skipBlanks()
                guard at < bytes.count else { throw failure("expected ',' or '}', found the end of the file") }
                if bytes[at] == UInt8(ascii: "}") { at += 1; return members }
                guard bytes[at] == UInt8(ascii: ",") else { throw failure("expected ',' or '}' in an object") }
                at += 1
            }
        }

        /// An array; one of numbers only as `[Double]`, one of those only as `[[Double]]`.
        mutating func array(depth: Int) throws -> Any {
            at += 1
            var items: [Any] = [], numbers: [Double] = [], rows: [[Double]] = []
            var kind = 0  // 0: none yet; 1: numbers; 2: arrays of numbers; 3: anything
            skipBlanks()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return items }
            while true {
                let item = try value(depth: depth + 1)
                switch (kind, item) {
                case (0, let n as Double), (1, let n as Double): kind = 1; numbers.append(n)
                case (0, let r as [Double]), (2, let r as [Double]): kind = 2; rows.append(r)
                default:
                    if kind == 1 { items = numbers.map { $0 as Any } } else if kind == 2 { items = rows.map { $0 as Any } }
                    (numbers, rows, kind) = ([], [], 3)
                    items.append(item)
                }
                skipBlanks()
                guard at < bytes.count else { throw failure("expected ',' or ']', found the end of the file") }
                if bytes[at] == UInt8(ascii: "]") { at += 1; break }
                guard bytes[at] == UInt8(ascii: ",") else { throw failure("expected ',' or ']' in an array") }
                at += 1
            }
            return kind == 1 ? numbers : kind == 2 ? rows : items
        }

        mutating func string() throws -> String {
            at += 1
            var text: [UInt8] = []
            while true {
                guard at < bytes.count else { throw failure("a string is not closed") }
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { throw failure("a string is not closed") }
                    let escaped = bytes[at]
                    at += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0C)
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "r"): text.append(0x0D)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "u"): text += try unicodeEscape()
                    default: throw failure("'\\\(Character(UnicodeScalar(escaped)))' is no escape in a JSON string")
                    }
                case 0..<0x20: throw failure("a control character (\(byte)) in a string")
                default: text.append(byte)
                }
            }
        }

        /// The character of `\uXXXX` (a surrogate pair taken whole) as UTF-8.
        mutating func unicodeEscape() throws -> [UInt8] {
            func hex() throws -> UInt32 {
                let digits = at + 4 <= bytes.count ? Array(bytes[at..<(at + 4)]) : []
                guard digits.count == 4, digits.allSatisfy({ Character(UnicodeScalar($0)).isHexDigit }),
                      let v = UInt32(String(decoding: digits, as: UTF8.self), radix: 16) else {
                    throw failure("expected four hexadecimal digits after \\u")
                }
                at += 4
                return v
            }
            var code = try hex()
            // A high surrogate and the low one after it are one character; an escape after it that is no low one stays.
            if (0xD800..<0xDC00).contains(code), at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                let before = at
                at += 2
                let low = try hex()
                if (0xDC00..<0xE000).contains(low) { code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) } else { at = before }
            }
            return Array(String(Character(UnicodeScalar(code) ?? "\u{FFFD}")).utf8)
        }

        /// A number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws -> Double {
            let start = at
            func digits() -> Int {
                let from = at
                while at < bytes.count, (0x30...0x39).contains(bytes[at]) { at += 1 }
                return at - from
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            let whole = digits()
            guard whole > 0, whole == 1 || bytes[at - whole] != 0x30 else {
                at = start
                throw failure("expected a value (an object, array, string, number, true, false or null)")
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw failure("expected digits after the decimal point") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw failure("expected digits in the exponent") }
            }
            guard let value = Double(String(decoding: bytes[start..<at], as: UTF8.self)) else {
                throw failure("a number out of range")
            }
            return value
        }
    }
}
