import Foundation
import CompSegNN

/// A modality plugin: reads one sample from a file. Which plugin reads a file is the modality
/// manifest's choice (`reader:`); a plugin may then tell the file formats it knows apart by
/// extension and content (the spectral readers do).
public protocol ImageSource: Sendable {
    /// Reads the sample in `url`, with the image-level label when the caller knows it.
    /// - Throws: an error naming the file and what was expected.
    func load(_ url: URL, label: SampleLabel?) throws -> Sample
    /// The files the sample in `url` is read from: `url`, and any its format keeps beside it (the
    /// data beside a header, a mosaic's tiles). Resuming a run checks that they still hold what
    /// they held. Every file in it may be left out where it cannot be found.
    func files(of url: URL) -> [URL]
}

extension ImageSource {
    /// `url` alone: a format of one file per sample.
    public func files(of url: URL) -> [URL] { [url] }
}

/// A topology plugin: a network from N×C×H×W images to N×1×H×W activation maps in [0, 1].
/// Its parameters and buffers come from `Module`, by stable dotted names.
public protocol SegmentingNetwork: Module {
    var inputChannels: Int { get }
    /// N×C×H×W → N×1×H×W, each value in [0, 1].
    func activation(_ x: Tensor) throws -> Tensor
    /// Seeds the network's random layers (dropout) for the next training step. The trainer calls
    /// it before every step with a seed made of the run's seed, the epoch and the step, so that a
    /// resumed run draws what an uninterrupted one does. A network without randomness ignores it.
    func seedRandomness(_ seed: UInt64)
}

extension SegmentingNetwork {
    public func seedRandomness(_ seed: UInt64) {}
}

/// A pooling head: turns activation maps into one score per image, and scores into the
/// image-level loss that trains the network. Dropped after training.
public protocol PoolingHead: Sendable {
    /// - Parameters:
    ///   - activation: N×1×H×W in [0, 1].
    ///   - tissue: N×1×H×W, 1 on tissue pixels and 0 elsewhere.
    /// - Returns: N scores.
    /// - Throws: when an image has no tissue (naming its index).
    func score(activation: Tensor, tissue: Tensor) throws -> Tensor
    /// The loss (shape 1) for labels (N: 1 cancer, 0 cancer-free).
    func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor
}

/// The JSON or YAML object that configures one plugin (keys as the plugin's Codable
/// configuration names them); empty for defaults.
public struct PluginConfiguration: Sendable, Equatable {
    /// The configuration as JSON (an object).
    public let json: Data
    /// Where it came from, for messages (e.g. `run.yaml: head`).
    public let source: String
    /// The folder of the file it was written in, which relative paths in it start from (nil:
    /// the working directory).
    public let folder: URL?

    public init(json: Data = Data("{}".utf8), source: String = "configuration", folder: URL? = nil) {
        self.json = json; self.source = source; self.folder = folder
    }

    /// A path given in this configuration: absolute as it is, `~/` from the home folder, relative from `folder`.
    public func url(ofPath path: String) -> URL {
        fileURL(path, from: folder ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
    }

    /// For a type that lists its keys, the error naming a key given that it does not take: said
    /// before a key it misses or its own refusal, which that key may well explain (`plugins`
    /// lists a step's keys so).
    private func unknownListedKey<T: Codable>(of _: T.Type) -> ConfigurationError? {
        guard T.self is any ListsConfigurationKeys.Type,
              let top = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return nil }
        let known = Self.knownKeys(of: T.self)  // a type may list only the keys its plugin takes out first
        guard let unknown = top.keys.sorted().first(where: { !known.contains($0) }) else { return nil }
        return ConfigurationError.unknownKey(unknown, known: known.sorted(), source: source)
    }

    /// The keys `T` takes: those `value` encodes, those of its defaults (`init()`, or decoded
    /// from {}), so an optional key set to null, which encodes to nothing, still counts, and
    /// those it lists (`ListsConfigurationKeys`).
    private static func knownKeys<T: Codable>(of _: T.Type, value: T? = nil) -> Set<String> {
        func keys(_ v: T?) -> [String] {
            guard let v, let data = try? JSONEncoder().encode(v) else { return [] }
            return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]).map { Array($0.keys) } ?? []
        }
        let defaults = (T.self as? any DefaultedConfiguration.Type).map { $0.init() } as? T
        return Set(keys(value) + keys(defaults ?? (try? JSONDecoder().decode(T.self, from: Data("{}".utf8)))))
            .union((T.self as? any ListsConfigurationKeys.Type)?.configurationKeys ?? [])
    }

    /// Decodes `T`, rejecting keys that `T` does not have.
    /// - Throws: `ConfigurationError` naming the source and the unknown or invalid key.
    public func decode<T: Codable>(_ type: T.Type) throws -> T {
        let value: T
        let json = try (T.self as? any DefaultedConfiguration.Type).map { try overlaid(on: $0) } ?? self.json
        do { value = try JSONDecoder().decode(T.self, from: json) } catch let error as DecodingError {
            // Foundation reports a fraction (or a huge number) where a whole number belongs as
            // "not valid JSON" with no key: name the numbers that may be meant instead.
            if case .dataCorrupted(let c) = error, c.codingPath.isEmpty, case let culprits = misfitNumbers(T.self, in: json), !culprits.isEmpty {
                throw ConfigurationError(source: source, message: culprits.joined(separator: "; "))
            }
            // A key missing beside one given that no type knows is most likely that key misspelled
            // (at the top, or in a section such as `tissue`, which one unknown key leaves without its defaults).
            if case .keyNotFound(let key, let c) = error, c.codingPath.allSatisfy({ $0.intValue == nil }),
               let top = (try? JSONSerialization.jsonObject(with: self.json)) as? [String: Any],
               let given = c.codingPath.reduce(top as Any?, { ($0 as? [String: Any])?[$1.stringValue] }) as? [String: Any],
               let typo = given.keys.filter({ $0 != key.stringValue }).compactMap({ g in editDistance(g, key.stringValue).map { (g, $0) } })
                   .min(by: { ($0.1, $0.0) < ($1.1, $1.0) })?.0 {
                let path = c.codingPath.map(\.stringValue) + [typo]
                throw ConfigurationError(source: source, message: "unknown key '\(path.joined(separator: "."))': did you mean '\(key.stringValue)'?")
            }
            if case .keyNotFound(_, let c) = error, c.codingPath.isEmpty, let unknown = unknownListedKey(of: T.self) { throw unknown }
            if case .typeMismatch(let type, let c) = error, let given = try? JSONDecoder().decode(JSONValue.self, from: json),
               let value = Self.value(in: given, at: c.codingPath) {
                throw ConfigurationError(source: source, message: error.readable + ", got " + Self.described(value, expecting: type))
            }
            throw ConfigurationError(source: source, message: error.readable)
        } catch {  // the type's own refusal of what it was given
            if let unknown = unknownListedKey(of: T.self) { throw unknown }
            throw error
        }
        let given = (try? JSONSerialization.jsonObject(with: self.json)) as? [String: Any] ?? [:]
        let known = Self.knownKeys(of: T.self, value: value)
        if let unknown = given.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError.unknownKey(unknown, known: known.sorted(), source: source)
        }
        // Within a section (`tissue: {…}`), a key the type does not keep is refused too: a type that
        // decodes the section key by key would otherwise drop a misspelt one without a word.
        if let givenValue = try? JSONDecoder().decode(JSONValue.self, from: self.json), let encoded = try? JSONValue(encoding: value) {
            let defaults = (T.self as? any DefaultedConfiguration.Type).flatMap { try? JSONValue(encoding: $0.init()) }
            let listed = (T.self as? any ListsConfigurationKeys.Type)?.sectionKeys ?? [:]
            if let unknown = unknownNestedKey(given: givenValue, encoded: encoded, defaults: defaults, listed: listed, path: "") { throw unknown }
        }
        return value
    }

    /// The value at `path` in `value`; nil where it holds none.
    private static func value(in value: JSONValue, at path: [any CodingKey]) -> JSONValue? {
        path.reduce(value as JSONValue?) { inner, key in
            switch inner {
            case .object(let keys)?: keys[key.stringValue]
            case .array(let items)?: key.intValue.flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: nil
            }
        }
    }

    /// A value given, in a settings file's words ("the number 2024"); where text was expected and
    /// a number or true/false given (`out: 2024`, `name: off`), how to give it as text.
    private static func described(_ value: JSONValue, expecting type: Any.Type) -> String {
        let words = switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number: "the number \(value.plain)"
        case .string(let text): "the text '\(text)'"
        case .array: "a list"
        case .object: "a mapping"
        }
        switch value {
        case .number, .bool: return type is String.Type ? "\(words) (write it in quotes to give it as text)" : words
        default: return words
        }
    }

    /// The first key of a nested object of `given` that neither the decoded value (`encoded`) nor
    /// the defaults hold at the same place, nor the type lists for its section (`sectionKeys`);
    /// given as null, it counts as known: an optional left out. Objects the type keeps whole hold
    /// every key given, so they pass.
    private func unknownNestedKey(given: JSONValue, encoded: JSONValue?, defaults: JSONValue?, listed: [String: [String]],
                                  path: String) -> ConfigurationError? {
        guard let object = given.objectValue else { return nil }
        for key in object.keys.sorted() {
            guard let inner = object[key]?.objectValue else { continue }
            let kept = encoded?.objectValue?[key]?.objectValue, byDefault = defaults?.objectValue?[key]?.objectValue
            guard kept != nil || byDefault != nil else { continue }
            let place = path.isEmpty ? key : "\(path).\(key)"
            let known = Set((kept ?? [:]).keys).union((byDefault ?? [:]).keys).union(listed[place] ?? [])
            if let unknown = inner.keys.sorted().first(where: { !known.contains($0) && inner[$0] != .null }) {
                return ConfigurationError.unknownKey("\(place).\(unknown)", known: known.sorted().map { "\(place).\($0)" }, source: source)
            }
            if let deeper = unknownNestedKey(given: .object(inner), encoded: kept.map(JSONValue.object), defaults: byDefault.map(JSONValue.object),
                                             listed: listed, path: place) {
                return deeper
            }
        }
        return nil
    }
}

/// A plugin that tells the settings it was made with, defaults included: a run records them
/// (`model.json`), so that what was in effect is seen, and kept if a default changes later.
/// A plugin that does not conform is recorded with the settings it was given.
public protocol ReportsConfiguration {
    associatedtype Configuration: DefaultedConfiguration
    var configuration: Configuration { get }
    /// The settings in effect, as model.json records them and `compseg plugins` lists them (by
    /// default every key of `configuration`).
    var configurationValue: JSONValue? { get }
}

extension ReportsConfiguration {
    /// `configuration` as JSON, every key the defaults have (or the type lists) present: an
    /// optional key set to nil (which encodes to nothing) as null, so that it reads back as nil,
    /// not as its default.
    public var configurationValue: JSONValue? { Self.everyKey(of: configuration) }

    /// `configuration` as JSON with every key, as `configurationValue` gives it by default.
    public static func everyKey(of configuration: Configuration) -> JSONValue? {
        guard case .object(var keys)? = try? JSONValue(encoding: configuration),
              let defaults = (try? JSONValue(encoding: Configuration()))?.objectValue else { return nil }
        let listed = (Configuration.self as? any ListsConfigurationKeys.Type)?.configurationKeys ?? []
        for key in Array(defaults.keys) + listed where keys[key] == nil { keys[key] = .null }
        return .object(keys)
    }
}

/// A configuration whose every key has a default (`init()`): `PluginConfiguration.decode` lays
/// the given object over the encoded defaults before decoding, so absent keys keep their
/// defaults (and a key given as null is nil) without an `init(from:)` of the type's own.
public protocol DefaultedConfiguration: Codable {
    init()
}

extension PluginConfiguration {
    /// The given object laid over `type`'s encoded defaults (`JSONValue.overlaid(on:)`), as JSON.
    func overlaid(on type: any DefaultedConfiguration.Type) throws -> Data {
        guard let given = try? JSONDecoder().decode(JSONValue.self, from: json), given.objectValue != nil else { return json }
        return given.overlaid(on: try JSONValue(encoding: type.init())).data
    }
}

/// A configuration whose value and defaults do not encode every key it takes (optional keys, or
/// keys its plugin takes out before decoding it) lists them, for the "known keys" of an error.
public protocol ListsConfigurationKeys {
    static var configurationKeys: [String] { get }
    /// The optional keys of its sections, by the section's path (`["tissue": ["threshold"]]`).
    static var sectionKeys: [String: [String]] { get }
}

extension ListsConfigurationKeys {
    public static var sectionKeys: [String: [String]] { [:] }
}

extension ListsConfigurationKeys where Self: Codable {
    /// Every case of `Keys`, a CaseIterable CodingKeys.
    public static func keys<Keys: CodingKey & CaseIterable>(of _: Keys.Type) -> [String] { Keys.allCases.map(\.stringValue) }
}

/// An enumerated setting (a string with a fixed set of values): a value outside the set is refused
/// with the set listed ("'whb' is not one of hwb, bhw, flat, matlab").
public protocol ConfigurationChoice: CaseIterable, RawRepresentable, Codable where RawValue == String {}

/// The engine's choices a settings file names (`train`'s `device` and `precision`, a topology's `activation`).
extension ComputeDevice: ConfigurationChoice {}
extension Precision: ConfigurationChoice {}
extension Activation: ConfigurationChoice {}

extension ConfigurationChoice {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        // In any case, as a manifest's labels and splits are read (`Vector` is `vector`).
        guard let value = Self(rawValue: text) ?? Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "'\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let source: String, message: String
    /// For an unknown key: every key the configuration takes (the `plugins` command lists those without a default).
    public var knownKeys: [String]? = nil
    /// For an unknown key: the key.
    public var unknownKey: String? = nil
    /// For a step's setting the training data cannot meet (`StepSettingError`): the data's doing,
    /// which the same data refuses however many samples it holds.
    public var unmetByData = false
    public init(source: String, message: String) { self.source = source; self.message = message }
    public var description: String { "\(source): \(message)" }

    /// "unknown key 'x'; known keys: …", with the known key that `key` most likely misspells first.
    public static func unknownKey(_ key: String, known: [String], source: String) -> ConfigurationError {
        let guess = known.compactMap { k in editDistance(key, k).map { (k, $0) } }.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
        var error = ConfigurationError(source: source, message: "unknown key '\(key)'; " + (guess.map { "did you mean '\($0)'? " } ?? "")
                                       + (known.isEmpty ? "it takes no settings" : "known keys: \(known.joined(separator: ", "))"))
        error.knownKeys = known
        error.unknownKey = key
        return error
    }

    /// For an unknown key, the same error with `key` no longer among the known keys (a key the
    /// configuration type has and this plugin refuses); any other error as it is.
    public func withoutKnownKey(_ key: String) -> ConfigurationError {
        guard let unknownKey, let knownKeys else { return self }
        return Self.unknownKey(unknownKey, known: knownKeys.filter { $0 != key }, source: source)
    }
}

extension DecodingError {
    /// The key path and what was wrong, in words.
    /// Key paths are spelled as a settings file's reader spells them: `topologies[2].name`, items counted from 1.
    public var readable: String {
        func spelled(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { path, key in
                if let index = key.intValue { return "\(path)[\(index + 1)]" }
                return path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
            }
        }
        func path(_ c: Context) -> String { spelled(c.codingPath) }
        func kind(_ type: Any.Type) -> String {  // in a settings file's words, not Swift's type names
            switch type {
            case is Double.Type, is Float.Type: return "a number"
            case is Int.Type: return "a whole number"
            case is UInt64.Type, is UInt.Type, is UInt32.Type: return "a whole number 0 or more"
            case is Bool.Type: return "true or false"
            case is String.Type: return "text"
            case is [Any].Type: return "a list"
            case is [String: Any].Type: return "a mapping (key: value)"
            default: return "\(type)"
            }
        }
        switch self {
        case .typeMismatch(let type, let c): return "key '\(path(c))': expected \(kind(type))"
        case .valueNotFound(let type, let c): return "key '\(path(c))': expected \(kind(type))"
        case .keyNotFound(let key, let c):
            return "missing key '\(spelled(c.codingPath + [key]))'"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? c.debugDescription : "key '\(path(c))': \(c.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}

/// The numbers of `json` that keep it from decoding as `T` where Foundation says only that the data
/// is "not valid JSON", with no key (a fraction, a negative or a huge number where a whole number
/// belongs, or a number beyond 32 bits), each named with its key and what was expected; empty
/// where no number is to blame. Suspect numbers are found by halving: a group is to blame when,
/// the other suspects set to 0, the decoding still fails that way (a model.json holds thousands).
public func misfitNumbers<T: Decodable>(_ type: T.Type, in json: Data) -> [String] {
    misfitNumbers(in: json) { _ = try JSONDecoder().decode(T.self, from: $0) }
}

/// As `misfitNumbers(_:in:)`, for a reading that `decode` does.
public func misfitNumbers(in json: Data, decoding decode: (Data) throws -> Void) -> [String] {
    guard let given = try? JSONDecoder().decode(JSONValue.self, from: json) else { return [] }
    let numbers = given.numbers()
    let suspects = numbers.indices.filter { numbers[$0].value.rounded() != numbers[$0].value || Swift.abs(numbers[$0].value) >= 9.2e18
        || numbers[$0].value < 0 }
    func failsKeeping(_ kept: ArraySlice<Int>) -> Bool {
        let zeroed = Set(suspects).subtracting(kept)
        do { try decode(given.replacingNumbers(zeroed, with: 0).data); return false }
        catch DecodingError.dataCorrupted(let c) where c.codingPath.isEmpty { return true }
        catch { return false }
    }
    func culprits(in group: ArraySlice<Int>) -> [Int] {
        guard !group.isEmpty, failsKeeping(group) else { return [] }
        if group.count == 1 { return [group.first!] }
        let middle = group.startIndex + group.count / 2
        return culprits(in: group[..<middle]) + culprits(in: group[middle...])
    }
    // Each suspect that fails alone; none where the failure is not the numbers' (zeroing them all leaves it).
    guard !suspects.isEmpty, !failsKeeping([]) else { return [] }
    let culprits = culprits(in: suspects[...])
    return culprits.map { i -> String in
        let (path, value) = numbers[i]
        let magnitude = Swift.abs(value)
        if magnitude > Double(Float.greatestFiniteMagnitude) || (magnitude > 0 && magnitude < Double(Float.leastNormalMagnitude)) {
            return "key '\(path)': \(value) is beyond the numbers a setting holds (32 bits: magnitudes from 1.2e-38 to 3.4e38, or 0)"
        }
        return value.rounded() != value ? "key '\(path)': \(value) is not a whole number"
            : magnitude < 9.2e18 ? "key '\(path)': \(Int(value)) is below 0; expected a whole number 0 or more"
            : "key '\(path)': \(value) is beyond a whole number's range (up to 9223372036854775807)"
    }
}

/// Problems as one message: one as it is, several as "N problems:" and an indented line each.
public func listed(problems: [String]) -> String {
    problems.count == 1 ? problems[0] : "\(problems.count) problems:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
}

/// How many edits (letters inserted, removed or changed, ignoring case) make one key the other,
/// where that is few enough to be a misspelling: at most two, both keys of `shortest` letters or
/// more (three: shorter keys are a few edits from many others); nil otherwise.
func editDistance(_ a: String, _ b: String, shortest: Int = 3) -> Int? {
    let (x, y) = (Array(a.lowercased()), Array(b.lowercased()))
    guard min(x.count, y.count) >= shortest, Swift.abs(x.count - y.count) <= 2 else { return nil }
    var row = Array(0...y.count)  // edits from a prefix of x to each prefix of y
    for i in x.indices {
        var next = [i + 1]
        for j in y.indices { next.append(min(row[j + 1] + 1, next[j] + 1, row[j] + (x[i] == y[j] ? 0 : 1))) }
        row = next
    }
    return row[y.count] <= 2 ? row[y.count] : nil
}

/// `path` with a leading `~/` (or a lone `~`) as the home folder, as a shell would expand it on the
/// command line: paths written in settings files and manifests reach no shell. HOME where set, as
/// shells take it.
public func expandingHome(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return (ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + path.dropFirst()
}

/// The file URL of `path` as the system resolves it, relative paths from the working folder:
/// `.` and empty components dropped, and `x/..` dropped where `x` is not a symbolic link.
/// (Foundation's `URL(fileURLWithPath:)` drops `link/..` of a relative path as text, which names
/// another file where `link` leads to a folder elsewhere.) A name with accents that is not there as
/// typed is taken in the other Unicode form where that one is (a name macOS or an archive stored
/// decomposed, e + ◌́, typed or pasted composed, é), as manifests' paths are.
public func fileURL(_ path: String) -> URL {
    let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    let url = fileURL(path, from: folder)
    guard !path.allSatisfy(\.isASCII), !FileManager.default.fileExists(atPath: url.path) else { return url }
    return [path.precomposedStringWithCanonicalMapping, path.decomposedStringWithCanonicalMapping].map { fileURL($0, from: folder) }
        .first { FileManager.default.fileExists(atPath: $0.path) } ?? url
}

/// As `fileURL(_:)`, a relative path taken from `folder` (a manifest's, say); with `home`, a
/// leading `~/` (or a lone `~`) is the home folder, as `expandingHome` reads it.
public func fileURL(_ path: String, from folder: URL, home: Bool = true) -> URL {
    let path = home ? expandingHome(path) : path
    let absolute = path.hasPrefix("/") ? path : folder.path + "/" + path
    var kept: [Substring] = []
    for component in absolute.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
        if component == "..", let last = kept.last, last != "..",
           (try? FileManager.default.destinationOfSymbolicLink(atPath: "/" + kept.joined(separator: "/"))) == nil {
            kept.removeLast()
        } else if component == "..", kept.isEmpty {
            continue  // "/.." is "/"
        } else {
            kept.append(component)
        }
    }
    return URL(fileURLWithPath: "/" + kept.joined(separator: "/"))
}
