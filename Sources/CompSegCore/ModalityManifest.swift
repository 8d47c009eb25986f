import Foundation

/// A modality described as data (`modalities/NAME.yaml`): which reader plugin reads the files,
/// with what options, and the preprocessing chain between the reader and the network.
///
/// ```yaml
/// description: Hyperspectral infrared microscopy from HDF5
/// reader: infrared            # a registered modality reader (`compseg plugins`)
/// options:                    # the reader's own keys
///   layout: hwb
/// preprocessing:              # steps in order: one key each, its value the step's parameters
///   - crop: {from: 948, to: 1800}
///   - normalize: {method: snv}
///   - pca: {components: 16}
/// outside: zero               # non-tissue pixels after the reader and each step: zero (default) or keep
/// ```
///
/// `model.json` holds the manifest as trained, under `modality`, with the steps' fitted values.
public struct ModalityManifest: Codable, Sendable, Equatable {
    /// The manifest's name (its file name without extension) or, for a bare reader, the reader's.
    public var name: String
    public var description: String
    /// The identifier of the reader plugin.
    public var reader: String
    /// The reader's configuration (a JSON object).
    public var options: JSONValue
    public var preprocessing: [PluginDescription]
    /// What non-tissue pixels hold after the reader and after each step (a manifest's default: zero).
    public var outside: OutsideTissue
    /// Whether the training files' spectral axis descends (recorded by `train`): a file stored the
    /// other way round is reversed as it is read, before any step, so every step sees one order.
    /// nil: files go as stored (a manifest as written; runs from before it was recorded).
    public var descendingAxis: Bool?
    /// Where it was read from, for messages (not encoded).
    public var source = "model.json: modality"
    /// The folder of the manifest file, which relative paths in it start from (not encoded; nil
    /// for built-in manifests and model.json, whose steps hold fitted values, not paths).
    public var folder: URL?

    enum CodingKeys: String, CodingKey { case name, description, reader, options, preprocessing, outside, descendingAxis }

    /// The same modality, wherever each was read from (`source` is for messages only).
    public static func == (a: Self, b: Self) -> Bool {
        (a.name, a.description, a.reader, a.options, a.preprocessing, a.outside)
            == (b.name, b.description, b.reader, b.options, b.preprocessing, b.outside) && a.descendingAxis == b.descendingAxis
    }

    public init(name: String, description: String = "", reader: String, options: JSONValue = [:],
                preprocessing: [PluginDescription] = [], outside: OutsideTissue = .zero, source: String) {
        self.name = name; self.description = description; self.reader = reader; self.options = options
        self.preprocessing = preprocessing; self.outside = outside; self.source = source
    }

    /// The reader's configuration, named after this manifest for messages.
    public var readerConfiguration: PluginConfiguration {
        PluginConfiguration(json: options.data, source: "\(source): options", folder: folder)
    }

    /// Reads a manifest file (YAML or JSON). A step is a name, or a mapping of its name to its
    /// parameters.
    /// - Throws: `ConfigurationError` naming the file and the key that is missing, unknown or malformed.
    public init(contentsOf url: URL) throws {
        let file = try ConfigurationFile.read(url)
        let object = (try? JSONDecoder().decode(JSONValue.self, from: file.json))?.objectValue ?? [:]
        func fail(_ message: String) -> ConfigurationError { ConfigurationError(source: url.path, message: message) }
        let known = ["description", "reader", "options", "preprocessing", "outside"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError.unknownKey(unknown, known: known, source: url.path)
        }
        guard case .string(let reader)? = object["reader"], !reader.isEmpty else {
            if let given = object["reader"] {
                let what = given == .string("") ? "empty" : "\(given.plain)"
                throw fail("key 'reader' is \(what); expected the identifier of a modality reader, as text (see `compseg plugins`)")
            }
            throw fail("missing key 'reader': the identifier of the modality reader (see `compseg plugins`)")
        }
        var description = ""
        if case .string(let text)? = object["description"] { description = text }
        var outside = OutsideTissue.zero
        if let value = object["outside"], value != .null {
            guard case .string(let text) = value, let policy = OutsideTissue(rawValue: text) else {
                throw fail("key 'outside' must be one of \(OutsideTissue.allCases.map(\.rawValue).joined(separator: ", ")), got \(value.text)")
            }
            outside = policy
        }
        var options: JSONValue = [:]
        if let value = object["options"], value != .null {
            guard value.objectValue != nil else { throw fail("key 'options' must be a mapping of the reader's keys") }
            options = value
        }
        var steps: [PluginDescription] = []
        if let value = object["preprocessing"], value != .null {
            guard case .array(let list) = value else {
                throw fail("key 'preprocessing' must be a list of steps, e.g. '- pca: {components: 16}'")
            }
            for (i, item) in list.enumerated() {
                let position = "preprocessing step \(i + 1)"
                if case .string(let name) = item { steps.append(PluginDescription(identifier: name)); continue }
                guard let mapping = item.objectValue, mapping.count == 1, let (name, parameters) = mapping.first else {
                    throw fail("\(position) must be a step name or a mapping with one key (the step) whose value holds "
                               + "its parameters, e.g. '- pca: {components: 16}'")
                }
                if parameters == .null { steps.append(PluginDescription(identifier: name)); continue }
                guard parameters.objectValue != nil else {
                    throw fail("\(position) '\(name)': its parameters must be a mapping of keys to values, e.g. '- \(name): {key: value}'; "
                               + "`compseg plugins \(name)` lists its keys")
                }
                steps.append(PluginDescription(identifier: name, configuration: parameters))
            }
        }
        self.init(name: url.deletingPathExtension().lastPathComponent, description: description, reader: reader,
                  options: options, preprocessing: steps, outside: outside, source: url.path)
        folder = url.deletingLastPathComponent()
    }

    /// What `--modality` names: a manifest file (a path, or a name ending in `.yaml`, `.yml` or
    /// `.json`), a manifest among `builtin` by name, or else a reader plugin with its defaults
    /// and no preprocessing.
    /// - Parameter builtin: the built-in manifests by name.
    /// - Throws: when the file cannot be read, or the name is neither a manifest nor a reader.
    /// Whether a modality argument names a manifest file (a path, or a name ending .yaml, .yml
    /// or .json) rather than a built-in modality or a reader.
    public static func namesFile(_ argument: String) -> Bool {
        argument.contains("/") || [".yaml", ".yml", ".json"].contains { argument.lowercased().hasSuffix($0) }
    }

    /// Every plugin this manifest names that `registry` lacks (its reader, its steps), each
    /// named by where it is written ("lab.yaml: key 'reader': unknown modality 'x'; known: …");
    /// empty when all are known.
    public func unknownPlugins(in registry: Registry) -> [String] {
        let steps = preprocessing.enumerated().compactMap { i, step in
            registry.transforms.unknown(step.identifier).map { "\(source): preprocessing step \(i + 1): \($0)" }
        }
        return (registry.modalities.unknown(reader).map { ["\(source): key 'reader': \($0)"] } ?? []) + steps
    }

    public static func resolve(_ argument: String, builtin: [String: URL], registry: Registry) throws -> ModalityManifest {
        if namesFile(argument) { return try ModalityManifest(contentsOf: fileURL(argument)) }
        func builtinManifest(_ name: String) throws -> ModalityManifest? {
            guard let url = builtin[name] else { return nil }
            // Named as the user knows it, not by where the build put it.
            var manifest = try ModalityManifest(contentsOf: url)
            manifest.source = "modality '\(name)' (modalities/\(url.lastPathComponent))"
            manifest.folder = nil  // where the build put it is no one's working folder
            return manifest
        }
        if let manifest = try builtinManifest(argument.lowercased()) { return manifest }
        let info: PluginInfo
        do { info = try registry.modalities.factory(argument).0 } catch {
            let names = (builtin.keys.sorted() + registry.modalities.infos.map(\.identifier)).reduce(into: [String]()) {
                if !$0.contains($1) { $0.append($1) }
            }
            let aliases = registry.modalities.infos.flatMap(\.aliases)
            let guess = nearestName(argument, among: names.map { ($0, 0) } + aliases.map { ($0, 1) })
            throw RegistryError("unknown modality '\(argument)': " + (guess.map { "did you mean '\($0.name)'? " } ?? "")
                                + "not a manifest file, and not one of "
                                + names.joined(separator: ", ") + (aliases.isEmpty ? "" : " (or " + aliases.joined(separator: ", ") + ")"))
        }
        return ModalityManifest(name: info.identifier, reader: info.identifier, source: "reader '\(info.identifier)'")
    }
}
