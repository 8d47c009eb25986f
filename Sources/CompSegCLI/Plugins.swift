import ArgumentParser
import BuiltinModalities
import BuiltinPlugins
import CompSegCore
import Foundation

/// `compseg plugins`: every registered modality, topology, pooling head and preprocessing step;
/// with a name, that plugin's settings with their defaults, and where to give them.
struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the registered modality readers, topologies, pooling heads and preprocessing steps and the modality manifests, or one plugin's settings or one manifest.")

    @Argument(help: "A plugin's identifier or alias, or a modality manifest's name or file (.yaml, .yml, .json): print the plugin's settings with their defaults and where to give them, or the manifest's reader, options and steps.")
    var name: String?

    func run() throws {
        let registry = try CompSegTool.registry()
        guard let name else { return list(registry) }
        let found = try Self.describe(name, registry)
        guard !found.isEmpty else {
            // The nearest name among all kinds and the manifests.
            let names = CompSegTool.modalityManifests.keys.sorted().map { ($0, 0) } + registry.modalities.names + registry.topologies.names
                + registry.heads.names + registry.transforms.names
            let guess = nearestName(name, among: names).map { "did you mean '\($0.name)'? " } ?? ""
            throw CLIError("no plugin or modality manifest answers to '\(name)'; \(guess)`\(CompSegTool.commandName) plugins` lists them")
        }
        print(found.joined(separator: "\n\n"))
    }

    private func list(_ registry: Registry) {
        let sections: [(String, [PluginInfo])] = [
            ("Modality readers (a manifest's reader:, or --modality READER alone, with its defaults)", registry.modalities.infos),
            ("Topologies (--topology)", registry.topologies.infos),
            ("Pooling heads (--head)", registry.heads.infos),
            ("Preprocessing steps (a modality manifest's preprocessing: list)", registry.transforms.infos),
        ]
        for (index, (title, infos)) in sections.enumerated() {
            print(title)
            if infos.isEmpty { print("  (none registered yet)") }
            let width = infos.map { $0.identifier.count }.max() ?? 0
            for info in infos {
                let aliases = info.aliases.isEmpty ? "" : " (aliases: \(info.aliases.joined(separator: ", ")))"
                print("  \(info.identifier.padding(toLength: width, withPad: " ", startingAt: 0))  \(info.summary)\(aliases)")
            }
            if index == 0 { printManifests() }
            if index < sections.count - 1 { print() }
        }
        print("\n`\(CompSegTool.commandName) plugins NAME` prints a plugin's settings with their defaults, or a manifest's contents.")
    }

    /// The modality manifests `--modality NAME` finds, each with its description (and its file,
    /// for the program's own).
    private func printManifests() {
        let manifests = CompSegTool.modalityManifests.sorted { $0.key < $1.key }
        print("\nModality manifests (--modality NAME: a reader with its options and preprocessing)")
        let width = manifests.map(\.key.count).max() ?? 0
        for (name, url) in manifests {
            let text = Result { try ModalityManifest(contentsOf: url) }
                .map { $0.description + (BuiltinModalities.manifests[name] != url ? " (\(url.path))" : "") }
            let line: String
            switch text {
            case .success(let description): line = description
            case .failure(let error): line = "cannot be read: \(error)"
            }
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(line)")
        }
    }

    /// Each plugin answering to `name` (one per kind): its kind, summary, settings with their
    /// defaults (made with none given), and where a user gives them.
    static func describe(_ name: String, _ registry: Registry) throws -> [String] {
        var found: [String] = []
        func block(_ kind: String, _ info: PluginInfo, _ settings: Result<JSONValue?, any Error>, _ whereGiven: String,
                   make: (PluginConfiguration) throws -> Any) {
            let aliases = info.aliases.isEmpty ? "" : "; aliases: \(info.aliases.joined(separator: ", "))"
            var lines = ["\(info.identifier) (\(kind)\(aliases))", "  \(info.summary)"]
            let optional = Self.keysWithoutDefault((try? settings.get()) ?? nil, make)
            let also = optional.isEmpty ? [] : ["  without a default (unset unless given): " + optional.joined(separator: ", ")]
            switch settings {
            case .success(let value?) where value.objectValue?.isEmpty == false:
                lines.append("Settings, with their defaults (\(whereGiven)):")
                lines += Self.lines(value, indent: "  ") + also
            case .success where !optional.isEmpty:
                lines.append("Settings, none set by default (\(whereGiven)):")
                lines += also
            case .success: lines.append("Settings: none.")
            case .failure(let error as CLIError): lines.append("Settings: \(error)")
            case .failure(let error):
                // None has a default that stands alone: the keys it takes, and what it says with none given.
                let keys = Self.keysWithoutDefault(nil, make)
                lines.append("Settings (\(whereGiven)): " + (keys.isEmpty ? "" : keys.joined(separator: ", ") + "; ")
                             + "some must be given: with none, \(Self.withoutSource(error))")
            }
            found.append(lines.joined(separator: "\n"))
        }
        func reported(_ plugin: Any) throws -> JSONValue? {
            guard let reporting = plugin as? any ReportsConfiguration else {
                throw CLIError("not listed: its type does not conform to ReportsConfiguration, which reports them")
            }
            return reporting.configurationValue
        }
        if let url = CompSegTool.modalityManifests[name.lowercased()] {
            found.append(try manifestBlock(name.lowercased(), url))
        } else if case let url = fileURL(name), ["yaml", "yml", "json"].contains(url.pathExtension.lowercased()) {
            // A manifest file, as --modality takes it: read, or its error said.
            found.append(try manifestBlock(name, url))
        }
        if let (info, _) = try? registry.modalities.factory(name) {
            block("modality reader", info, Result { try reported(try registry.modality(name)) },
                  "under `options:` of a modality manifest whose reader is \(info.identifier), as modalities/*.yaml; docs/data.md") {
                try registry.modality(name, $0)
            }
        }
        if let (info, _) = try? registry.topologies.factory(name) {
            block("topology", info, Result { try reported(try registry.topology(name, inputChannels: 1, seed: 0)) },
                  "train: --width, --depth, or `topologyConfiguration` in a --config settings file; compare: an entry's "
                  + "`configuration` in --config") { try registry.topology(name, inputChannels: 1, seed: 0, $0) }
        }
        if let (info, _) = try? registry.heads.factory(name) {
            block("pooling head", info, Result { try reported(try registry.head(name)) },
                  "train and compare: --head-option KEY=VALUE, or `headConfiguration` in a --config settings file") { try registry.head(name, $0) }
        }
        if let (info, _) = try? registry.transforms.factory(name) {
            block("preprocessing step", info, Result { try JSONDecoder().decode(JSONValue.self, from: registry.transform(name).configuration()) },
                  "in a modality manifest's preprocessing list: `- \(info.identifier): {KEY: VALUE}`") { try registry.transform(name, $0) }
        }
        return found
    }

    /// The keys `make` takes that `defaults` leaves out (optional, without a default): given an
    /// unknown key, a plugin that reads its settings with `PluginConfiguration.decode` names every
    /// key it takes. None where its error does not.
    static func keysWithoutDefault(_ defaults: JSONValue?, _ make: (PluginConfiguration) throws -> Any) -> [String] {
        let listed = Set(defaults?.objectValue?.keys.map { $0 } ?? [])
        do { _ = try make(PluginConfiguration(json: Data(#"{"?": null}"#.utf8))) } catch let error as ConfigurationError {
            return (error.knownKeys ?? []).filter { !listed.contains($0) }.sorted()
        } catch {}
        return []
    }

    /// A configuration error's message without the "configuration: " its unnamed source gives it.
    static func withoutSource(_ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix("configuration: ") ? String(text.dropFirst("configuration: ".count)) : text
    }

    /// A modality manifest `--modality NAME` finds: where it is, and what it sets.
    private static func manifestBlock(_ name: String, _ url: URL) throws -> String {
        let manifest = try ModalityManifest(contentsOf: url)
        let file = BuiltinModalities.manifests[name] != url ? url.path : "modalities/\(url.lastPathComponent)"
        var lines = ["\(name) (modality manifest, \(file); --modality \(name))", "  \(manifest.description)",
                     "  reader: \(manifest.reader)"]
        if manifest.options.objectValue?.isEmpty == false { lines += ["  options:"] + Self.lines(manifest.options, indent: "    ") }
        lines.append("  preprocessing: " + (manifest.preprocessing.isEmpty ? "none" : manifest.preprocessing.map {
            $0.identifier + ($0.configuration.objectValue?.isEmpty == false ? " " + scalar($0.configuration) : "")
        }.joined(separator: ", ")))
        lines.append("  outside: \(manifest.outside.rawValue)")
        return lines.joined(separator: "\n")
    }

    /// A settings value as indented `key: value` lines, as a YAML file gives them: sections
    /// nested, keys sorted, text unquoted, a setting without a default as `none`.
    static func lines(_ value: JSONValue, indent: String) -> [String] {
        guard case .object(let members) = value else { return [indent + scalar(value)] }
        return members.sorted { $0.key < $1.key }.flatMap { key, member -> [String] in
            if case .object(let inner) = member, !inner.isEmpty { return ["\(indent)\(key):"] + lines(member, indent: indent + "  ") }
            return ["\(indent)\(key): " + scalar(member)]
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "none"
        case .string(let text): text
        case .array(let items): "[" + items.map(scalar).joined(separator: ", ") + "]"
        case .object(let members): "{" + members.sorted { $0.key < $1.key }.map { "\($0.key): \(scalar($0.value))" }.joined(separator: ", ") + "}"
        default: value.text
        }
    }
}
