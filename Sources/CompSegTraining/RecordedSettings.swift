import CompSegCore

/// Whether settings given to continue a run are the ones its `model.json` recorded: the one
/// comparison `train --resume` and `compare --resume` make.
public enum RecordedSettings {
    /// Whether `given` is the setting a run recorded: equal, or a fraction the run keeps as a
    /// 32-bit float, equal as one (0.123456789 given, 0.12345679 recorded); whole numbers (counts,
    /// limits) exactly. In arrays and mappings too, on the keys both hold.
    public static func matches(_ given: JSONValue, _ recorded: JSONValue?) -> Bool {
        switch (given, recorded) {
        case (.number(let a), .number(let b)?): return a == b || (a.rounded() != a && Float(a) == Float(b))
        case (.array(let a), .array(let b)?): return a.count == b.count && zip(a, b).allSatisfy { matches($0, $1) }
        case (.object(let a), .object(let b)?): return a.allSatisfy { key, value in b[key].map { matches(value, $0) } ?? true }
        default: return given == recorded
        }
    }

    /// One setting that differs, in words: "NAME VALUE (the run's: VALUE)", or "(the run's: none)".
    public static func difference(_ name: String, _ given: JSONValue?, _ recorded: JSONValue?) -> String? {
        guard let given, !matches(given, recorded) else { return nil }
        return "\(name) \(given.plain) (the run's: \(recorded?.plain ?? "none"))"
    }

    /// `given`'s keys as the plugin tells them (`ReportsConfiguration`) when `make` makes it from
    /// `given` laid over the run's `recorded` settings: a choice given in other letters (`ReLU`,
    /// `HWB`) as the run recorded it (`relu`, `hwb`). `given` as it is where the plugin cannot be
    /// made so, or does not tell its settings.
    static func inEffect(_ given: JSONValue, over recorded: JSONValue, _ make: (PluginConfiguration) throws -> Any) -> JSONValue {
        guard let keys = given.objectValue, !keys.isEmpty,
              let plugin = (try? make(PluginConfiguration(json: given.merged(over: recorded).data))) as? any ReportsConfiguration,
              let effective = plugin.configurationValue?.objectValue else { return given }
        return .object(keys.reduce(into: [:]) { $0[$1.key] = effective[$1.key] ?? $1.value })
    }

    /// The keys of the mapping `given` whose values the mapping `recorded` holds otherwise, in key
    /// order, each as `difference` words it with `prefix` before the key. A key the run did not
    /// record differs, unless `recordedKeysOnly`: a fitted preprocessing step records its fit in
    /// place of some keys it was given (a stain step's `referenceImage`). With `readBy`, the plugin
    /// these settings make (from the given over the recorded), keys that differ as written and hold
    /// text are compared as it reads them (`inEffect`): made only then, since a network's weights
    /// are large (a width given otherwise is named without making a network of that width).
    public static func differences(_ given: JSONValue, _ recorded: JSONValue, prefix: String = "", recordedKeysOnly: Bool = false,
                                   readBy make: ((PluginConfiguration) throws -> Any)? = nil) -> [String] {
        let run = recorded.objectValue ?? [:]
        let keys = (given.objectValue ?? [:]).sorted { $0.key < $1.key }.filter { !recordedKeysOnly || run[$0.key] != nil }
            .filter { !matches($0.value, run[$0.key]) }
        // Only text can be spelled otherwise (a choice's letters); a number that differs differs.
        func holdsText(_ value: JSONValue) -> Bool {
            switch value {
            case .string: true
            case .array(let items): items.contains(where: holdsText)
            case .object(let members): members.values.contains(where: holdsText)
            default: false
            }
        }
        let textual = keys.filter { holdsText($0.value) }
        let read = make.flatMap { make in
            textual.isEmpty ? nil : inEffect(.object(Dictionary(uniqueKeysWithValues: textual.map { ($0.key, $0.value) })), over: recorded, make).objectValue
        } ?? [:]
        return keys.compactMap { difference(prefix + $0.key, read[$0.key] ?? $0.value, run[$0.key]) }
    }

    /// What a modality given sets otherwise than the one a run trained with, each as `difference`
    /// words it after `prefix`: the reader, the steps by identifier,
    /// the steps' settings (where the steps are the run's, on the keys the run recorded) and the
    /// reader's options. Shared by `train --resume` and `compare --resume`.
    public static func modalityDifferences(_ manifest: ModalityManifest, _ trained: ModalityManifest, registry: Registry,
                                           prefix: String) -> [String] {
        func steps(_ m: ModalityManifest) -> [String] { m.preprocessing.map { registry.transforms.identifier($0.identifier) } }
        var differing = [
            difference(prefix + "reader", .string(registry.modalities.identifier(manifest.reader)),
                       .string(registry.modalities.identifier(trained.reader))),
            difference(prefix + "preprocessing", .array(steps(manifest).map { .string($0) }), .array(steps(trained).map { .string($0) })),
        ].compactMap { $0 }
        if steps(manifest) == steps(trained) {
            for (given, step) in zip(manifest.preprocessing, trained.preprocessing) {
                differing += differences(given.configuration, step.configuration, prefix: prefix + "\(step.identifier).",
                                         recordedKeysOnly: true)
            }
        }
        return differing + differences(manifest.options, trained.options, prefix: prefix + "options.") { try registry.modality(trained.reader, $0) }
    }
}
