import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// What rebuilds and re-applies a trained model: written as `model.json` in a run folder.
public struct ModelDescription: Codable, Sendable, Equatable {
    public typealias Plugin = PluginDescription
    /// The reader plugin and its options.
    public var modality: Plugin?
    /// The modality manifest's name (nil for runs without one).
    public var modalityName: String?
    /// The preprocessing chain with its fitted values, applied in order after the reader.
    public var preprocessing: [PluginDescription]?
    /// What non-tissue pixels hold after the reader and each step; nil (runs written before the
    /// choice existed): `keep`.
    public var outside: OutsideTissue?
    public var topology: Plugin
    public var head: Plugin
    public var inputChannels: Int
    public var training: TrainingSettings
    public var bestEpoch: Int?
    public var versions: [String: String]
    /// The layout of this description: nil in runs written before it existed (see `upgraded()`);
    /// 2 added `outside`; 3 writes plugin configurations as JSON objects, not JSON text (both load).
    public var format: Int?
    public static let currentFormat = 3

    public init(modality: Plugin?, topology: Plugin, head: Plugin, inputChannels: Int, training: TrainingSettings,
                bestEpoch: Int? = nil, versions: [String: String] = [:]) {
        self.modality = modality; self.topology = topology; self.head = head; self.inputChannels = inputChannels
        self.training = training; self.bestEpoch = bestEpoch; self.versions = versions
        format = Self.currentFormat
    }

    /// A description in the current format. Runs written before `format` existed were trained
    /// under defaults that their configuration does not spell out: the U-Net had batch norm and
    /// He-normal weights, and non-tissue pixels were kept. Those are written in, so the run is
    /// rebuilt and re-applied exactly as it was trained.
    /// - Throws: `TrainingError` when the topology's configuration is not a JSON object.
    public func upgraded(file: String) throws -> ModelDescription {
        guard format == nil else { return self }
        var m = self
        if ["unet", "u-net"].contains(topology.identifier.lowercased()) {
            guard case .object(var keys)? = try? JSONDecoder().decode(JSONValue.self, from: Data(topology.configuration.utf8)) else {
                throw TrainingError("\(file): the topology's configuration is not a JSON object: \(topology.configuration)")
            }
            keys["batchNorm"] = keys["batchNorm"] ?? .bool(true)
            keys["initializer"] = keys["initializer"] ?? .object(["heNormal": .object([:])])
            m.topology.configuration = JSONValue.object(keys).text
        }
        m.outside = outside ?? .keep
        m.format = Self.currentFormat
        return m
    }

    /// Records a fitted modality: its reader, options and preprocessing.
    public mutating func record(_ prepared: PreparedModality) {
        let m = prepared.manifest
        modality = Plugin(identifier: m.reader, configuration: m.options)
        modalityName = m.name
        preprocessing = m.preprocessing
        outside = m.outside
    }

    /// The modality exactly as trained: the reader with its options and the fitted chain.
    /// - Parameter file: `model.json`'s path, for messages.
    public func preparedModality(registry: Registry, file: String) throws -> PreparedModality {
        guard let modality else { throw TrainingError("\(file) names no modality to read samples with") }
        let manifest = ModalityManifest(name: modalityName ?? modality.identifier, reader: modality.identifier,
                                        options: modality.configuration, preprocessing: preprocessing ?? [],
                                        outside: outside ?? .keep, source: "\(file): modality")
        return try PreparedModality(manifest, registry: registry)
    }
}

/// A run folder: `model.json`, `weights.safetensors` (the best weights, PyTorch layouts and
/// names), `history.csv`, and `checkpoint.safetensors` (the last epoch's weights, optimizer state,
/// best weights and history, for `--resume`). Every file is written atomically.
public struct RunDirectory: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var modelFile: URL { url.appendingPathComponent("model.json") }
    public var weightsFile: URL { url.appendingPathComponent("weights.safetensors") }
    public var historyFile: URL { url.appendingPathComponent("history.csv") }
    public var checkpointFile: URL { url.appendingPathComponent("checkpoint.safetensors") }

    public func create() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func writeModel(_ model: ModelDescription) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeDurably(encoder.encode(model), to: modelFile)
    }

    /// - Throws: `TrainingError` naming the file when it is missing or not a model description.
    public func readModel() throws -> ModelDescription {
        guard let data = FileManager.default.contents(atPath: modelFile.path) else {
            throw TrainingError("\(modelFile.path): not found; is \(url.path) a run folder written by `compseg train`?")
        }
        let model: ModelDescription
        do { model = try JSONDecoder().decode(ModelDescription.self, from: data) } catch {
            throw TrainingError("\(modelFile.path): not a model description (\(error))")
        }
        return try model.upgraded(file: modelFile.path)
    }

    public func writeWeights(_ weights: [String: Tensor], metadata: [String: String] = [:]) throws {
        try Safetensors(tensors: weights, metadata: metadata).write(to: weightsFile)
    }

    public func readWeights() throws -> [String: Tensor] { try Safetensors(contentsOf: weightsFile).tensors }

    public func writeHistory(_ history: [EpochRecord]) throws {
        var text = "epoch,train_loss,val_loss,val_auc,seconds,images_per_s,best,collapse,restart_lr\n"
        for r in history {
            let fields: [String] = [
                "\(r.epoch)", "\(r.trainLoss)", r.validationLoss.map { "\($0)" } ?? "", r.validationAUC.map { "\($0)" } ?? "",
                String(format: "%.3f", r.seconds), String(format: "%.2f", r.imagesPerSecond), r.best ? "1" : "0",
                r.collapse.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" } ?? "",
                r.restart.map { "\($0)" } ?? "",
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        try writeDurably(Data(text.utf8), to: historyFile)
    }
}

/// The state that continues an interrupted run exactly: the network's tensors, the optimizer's
/// per-parameter state, the best weights so far, and the history.
public struct TrainingCheckpoint {
    public var network: [String: Tensor]
    public var optimizerState: [String: Tensor]
    public var optimizerUpdates: [String: Int]
    public var best: (epoch: Int, loss: Float, weights: [String: Tensor])?
    public var history: [EpochRecord]

    public func write(to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (k, v) in network { tensors["network.\(k)"] = v }
        for (k, v) in optimizerState { tensors["optimizer.\(k)"] = v }
        for (k, v) in best?.weights ?? [:] { tensors["best.\(k)"] = v }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var metadata = [
            "history": String(decoding: try encoder.encode(history), as: UTF8.self),
            "optimizer_updates": String(decoding: try encoder.encode(optimizerUpdates), as: UTF8.self),
        ]
        if let best { metadata["best_epoch"] = "\(best.epoch)"; metadata["best_loss"] = "\(best.loss)" }
        try Safetensors(tensors: tensors, metadata: metadata).write(to: url)
    }

    /// - Throws: naming the file when it is missing or lacks a part.
    public init(contentsOf url: URL) throws {
        let file = try Safetensors(contentsOf: url)
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: file.tensors.compactMap { k, v in
                k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil
            })
        }
        network = part("network.")
        optimizerState = part("optimizer.")
        let decoder = JSONDecoder()
        guard let h = file.metadata["history"], let u = file.metadata["optimizer_updates"],
              let history = try? decoder.decode([EpochRecord].self, from: Data(h.utf8)),
              let updates = try? decoder.decode([String: Int].self, from: Data(u.utf8)) else {
            throw TrainingError("\(url.path): not a training checkpoint (history or optimizer state missing)")
        }
        self.history = history
        optimizerUpdates = updates
        if let e = file.metadata["best_epoch"].flatMap(Int.init), let l = file.metadata["best_loss"].flatMap(Float.init) {
            best = (e, l, part("best."))
        }
    }

    public init(network: [String: Tensor], optimizerState: [String: Tensor], optimizerUpdates: [String: Int],
                best: (epoch: Int, loss: Float, weights: [String: Tensor])?, history: [EpochRecord]) {
        self.network = network; self.optimizerState = optimizerState; self.optimizerUpdates = optimizerUpdates
        self.best = best; self.history = history
    }
}

extension Trainer {
    /// The state after the last completed epoch.
    public func checkpoint() -> TrainingCheckpoint {
        let (state, updates) = optimizer.exportState(network.namedParameters())
        return TrainingCheckpoint(network: network.stateDictionary(), optimizerState: state, optimizerUpdates: updates,
                                  best: best, history: history)
    }

    /// Continues from `checkpoint`: the next `run` starts at the epoch after its history.
    public func restore(_ checkpoint: TrainingCheckpoint) throws {
        try network.load(checkpoint.network)
        try optimizer.importState(network.namedParameters(), tensors: checkpoint.optimizerState,
                                  updates: checkpoint.optimizerUpdates)
        restoreProgress(history: checkpoint.history, best: checkpoint.best)
    }
}

extension PluginDescription {
    /// The configuration, named after `model.json` for messages.
    public var pluginConfiguration: PluginConfiguration {
        PluginConfiguration(json: Data(configuration.utf8), source: "model.json: \(identifier)")
    }
}
