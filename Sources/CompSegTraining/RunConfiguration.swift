import CompSegCore
import CompSegIO
import Foundation

/// Everything a training run is: the modality (reader, options and preprocessing chain, with the
/// chain's fitted values once fitted), the topology and head, and the training settings. Built
/// once from the settings file and the command line, checked before anything is written, and
/// written as a run folder's `model.json`, which rebuilds and re-applies the trained network.
public struct RunConfiguration: Codable, Sendable, Equatable {
    /// The modality as trained; nil for networks trained on samples made in memory.
    public var modality: ModalityManifest?
    public var topology: PluginDescription
    public var head: PluginDescription
    public var inputChannels: Int
    /// What the network's input channels measure (the first training sample's, after
    /// preprocessing), so that a file storing its spectral axis the other way is reversed and one
    /// on another axis refused; nil for runs written before it was recorded.
    public var inputAxis: ChannelAxis?
    /// The inputs the network was trained on (`InputRange`), for the warning about samples far
    /// outside them; nil for runs written before it was recorded.
    public var inputRange: InputRange?
    public var training: TrainingSettings
    public var bestEpoch: Int?
    /// The data checksum of the kept weights (`Safetensors.tensorsChecksum`), written with them,
    /// so that a `weights.safetensors` of another run put in its place is refused; nil in runs
    /// written before it was recorded, and before the first epoch.
    public var weightsChecksum: String?
    public var versions: [String: String]
    /// The rows the run was trained on, so that `--resume` with a manifest holding others can tell;
    /// nil for runs written before it was recorded (and for samples made in memory).
    public var rows: ManifestRows?
    /// The mask threshold of the kept weights, chosen on the validation split after training
    /// (`TrainingRun.chooseThreshold`): what `segment`, `overlay` and `evaluate` apply unless told
    /// another. nil where the split could not tell, while training, and in runs written before it.
    public var threshold: RunThreshold?
    /// The run whose kept weights this one began from (`train --init-from`); nil for a run that
    /// began from the topology's initializer.
    public var initialWeights: InitialWeights?
    /// The layout of `model.json`: 4 nests the modality as one object; 5 writes `training`'s
    /// `momentum` for SGD only (which compseg before it requires) and `augmentation` always; 6 is
    /// 5 with `initialWeights`, a fine-tuned run's, which a compseg that reads 5 would drop unsaid
    /// (and resume it from random weights) but refuses as newer; 4 to 6 load alike, older runs
    /// through `LegacyRunConfiguration`.
    public var format: Int
    public static let currentFormat = 5, fineTunedFormat = 6
    /// The format this compseg writes the run in: 6 for a fine-tuned run, else 5.
    public var writtenFormat: Int { initialWeights == nil ? Self.currentFormat : Self.fineTunedFormat }

    public init(modality: ModalityManifest?, topology: PluginDescription, head: PluginDescription, inputChannels: Int,
                training: TrainingSettings, bestEpoch: Int? = nil, versions: [String: String] = [:]) {
        self.modality = modality; self.topology = topology; self.head = head; self.inputChannels = inputChannels
        self.training = training; self.bestEpoch = bestEpoch; self.versions = versions
        format = Self.currentFormat
    }

    /// Reads `model.json`, in this format or an older one.
    /// - Parameter file: its path, for messages.
    /// - Throws: `TrainingError` naming the file when it is not a run configuration.
    public init(modelJSON data: Data, file: String) throws {
        struct Format: Decodable { var format: Int? }
        do {
            let format = try JSONDecoder().decode(Format.self, from: data).format
            switch format {
            case 4?, Self.currentFormat?, Self.fineTunedFormat?:
                self = try JSONDecoder().decode(RunConfiguration.self, from: data)
                modality?.source = "\(file): modality"
            case nil, 2?, 3?:
                self = try JSONDecoder().decode(LegacyRunConfiguration.self, from: data).upgraded(file: file)
            case let other?:
                throw TrainingError("\(file): format \(other) is newer than this compseg reads "
                                    + "(\(Self.fineTunedFormat)); use a newer compseg")
            }
        } catch let error as DecodingError {
            // Foundation calls a misfit number (a fraction or a negative where a count belongs) "not valid JSON": named by its key.
            var misfits: [String] = []
            if case .dataCorrupted(let c) = error, c.codingPath.isEmpty, let read = try? JSONDecoder().decode(Format.self, from: data) {
                misfits = (read.format ?? 0) >= 4 ? misfitNumbers(RunConfiguration.self, in: data)
                    : misfitNumbers(in: data) { _ = try JSONDecoder().decode(LegacyRunConfiguration.self, from: $0).upgraded(file: file) }
            }
            let problem = CompactJSON.syntaxProblem(data).map { "not JSON: \($0)" } ?? (misfits.isEmpty ? error.readable : misfits.joined(separator: "; "))
            throw TrainingError("\(file): not a run configuration that compseg wrote (\(problem))")
        }
        if let problem = inputRange?.problem(channels: inputChannels) { throw TrainingError("\(file): key 'inputRange' \(problem)") }
        if let threshold, !(threshold.value > 0 && threshold.value < 1) {
            throw TrainingError("\(file): key 'threshold.value' is \(threshold.value); expected a number in (0, 1)")
        }
    }

    /// The modality exactly as trained: the reader with its options and the fitted chain.
    /// - Parameter file: `model.json`'s path, for messages.
    public func preparedModality(registry: Registry, file: String) throws -> PreparedModality {
        guard let modality else { throw TrainingError("\(file) names no modality to read samples with") }
        try requirePlugins(registry, file: file, kinds: [.modality, .transform])
        return try PreparedModality(modality, registry: registry)
    }

    /// - Throws: `TrainingError` naming every plugin of this run among `kinds` that `registry`
    ///   lacks: a run trained by a program with plugins of its own is used through that program.
    public func requirePlugins(_ registry: Registry, file: String, kinds: Set<PluginKind> = Set(PluginKind.allCases)) throws {
        var missing: [String] = []
        func check<F>(_ table: PluginTable<F>, _ names: [String]) {
            for name in names where kinds.contains(table.kind) && !table.knows(name) {
                let known = table.infos.map(\.identifier)
                missing.append("\(table.kind.rawValue) '\(name)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
        }
        check(registry.topologies, [topology.identifier])
        check(registry.heads, [head.identifier])
        check(registry.modalities, modality.map { [$0.reader] } ?? [])
        check(registry.transforms, modality?.preprocessing.map(\.identifier) ?? [])
        guard !missing.isEmpty else { return }
        throw TrainingError("\(file): the run was made with plugins this program does not have: "
                            + missing.joined(separator: "; ") + ". Use the program that trained it"
                            + (versions["program"].map { " (\($0))" } ?? "") + ": one that registers "
                            + "its plugins and runs compseg's commands with CompSegTool.main(registry:) (docs/using-compseg-as-a-library.md)")
    }
}

/// A mask threshold a run recorded, and how it was chosen (in words).
public struct RunThreshold: Codable, Sendable, Equatable {
    public var value: Float
    public var origin: String
    /// The value `origin` speaks of (nil in runs written before it was recorded): a `value`
    /// edited by hand in `model.json` differs from it.
    public var chosen: Float?
    public init(value: Float, origin: String) { (self.value, self.origin, chosen) = (value, origin, value) }

    /// Whether `value` was edited since training chose it (`chosen`).
    public var editedByHand: Bool { chosen.map { $0 != value } ?? false }
}

/// `model.json` as formats 1 (no `format` key) to 3 wrote it: the modality's parts at the top
/// level. It loads into a `RunConfiguration` with the defaults of its day written in.
struct LegacyRunConfiguration: Decodable {
    var modality: PluginDescription?
    var modalityName: String?
    var preprocessing: [PluginDescription]?
    var outside: OutsideTissue?
    var topology, head: PluginDescription
    var inputChannels: Int
    /// As written: keys added since (e.g. `warmupEpochs`) are absent.
    var training: JSONValue
    var bestEpoch: Int?
    var versions: [String: String]
    var format: Int?

    /// Runs written before `format` existed were trained under defaults that their
    /// configuration does not spell out: the U-Net had batch norm and He-normal weights, and
    /// non-tissue pixels were kept; and runs written before warm-up existed had none. Those are
    /// written in, so the run is rebuilt and re-applied exactly as it was trained.
    func upgraded(file: String) throws -> RunConfiguration {
        var settingsThen = TrainingSettings()
        settingsThen.warmupEpochs = 0
        let training = try JSONDecoder().decode(TrainingSettings.self,
                                                from: self.training.overlaid(on: JSONValue(encoding: settingsThen)).data)
        var topology = self.topology
        if format == nil, ["unet", "u-net"].contains(topology.identifier.lowercased()) {
            guard var keys = topology.configuration.objectValue else {
                throw TrainingError("\(file): the topology's configuration is not a JSON object: \(topology.configuration.text)")
            }
            keys["batchNorm"] = keys["batchNorm"] ?? true
            keys["initializer"] = keys["initializer"] ?? ["heNormal": [:]]
            topology.configuration = .object(keys)
        }
        let manifest = modality.map {
            ModalityManifest(name: modalityName ?? $0.identifier, reader: $0.identifier, options: $0.configuration,
                             preprocessing: preprocessing ?? [], outside: outside ?? .keep, source: "\(file): modality")
        }
        return RunConfiguration(modality: manifest, topology: topology, head: head, inputChannels: inputChannels,
                                training: training, bestEpoch: bestEpoch, versions: versions)
    }
}
