import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import Foundation

/// A run folder: `model.json`, `weights.safetensors` (the best weights, PyTorch layouts and
/// names), `history.csv` with its plot `curves.png` and `curves.svg`, and `checkpoint.safetensors`
/// (the last epoch's weights, optimizer state, best weights and history, for `--resume`). Every
/// file is written atomically.
public struct RunDirectory: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    public var modelFile: URL { url.appendingPathComponent("model.json") }
    public var weightsFile: URL { url.appendingPathComponent("weights.safetensors") }
    public var historyFile: URL { url.appendingPathComponent("history.csv") }
    public var checkpointFile: URL { url.appendingPathComponent("checkpoint.safetensors") }
    /// The training curves (losses, validation AUC, best epoch) as a picture and as SVG.
    public var curvesFile: URL { url.appendingPathComponent("curves.png") }
    public var curvesSVGFile: URL { url.appendingPathComponent("curves.svg") }

    public func create() throws {
        try createFolder(url)
    }

    public func writeModel(_ model: RunConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var model = model
        model.format = model.writtenFormat  // written as this compseg writes it, whatever format it was read from
        try writeDurably(encoder.encode(model), to: modelFile)
    }

    /// - Throws: `TrainingError` naming the file when it is missing or not a run configuration.
    public func readModel() throws -> RunConfiguration {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw TrainingError("\(url.path): is a file; expected a run folder (the --out of `compseg train`, holding model.json)")
        }
        let data: Data
        do { data = try Data(contentsOf: modelFile) } catch {
            // Missing, or in a folder this user may not enter (EACCES: said as such, not as missing).
            var info = stat()
            guard stat(modelFile.path, &info) == 0 || errno != ENOENT else {
                let written = [("segmentation.csv", "segment"), ("per_sample.csv", "evaluate"), ("comparison.csv", "compare")]
                    .first { FileManager.default.fileExists(atPath: url.appendingPathComponent($0.0).path) }
                throw TrainingError("\(modelFile.path): not found; " + (written.map { "\(url.path) holds what `compseg \($0.1)` writes "
                                    + "(\($0.0)), not a run: give the folder `compseg train` wrote (its --out)" }
                                    ?? "is \(url.path) a run folder written by `compseg train`?"))
            }
            throw TrainingError("\(modelFile.path): cannot be read: \(systemReason(error))")
        }
        return try RunConfiguration(modelJSON: data, file: modelFile.path)
    }

    public func writeWeights(_ weights: [String: Tensor], metadata: [String: String] = [:]) throws {
        try Safetensors(tensors: weights, metadata: metadata).write(to: weightsFile)
    }

    /// The kept weights of a run, of epoch `epoch`, with the metadata PyTorch's loaders read.
    func writeKeptWeights(_ weights: [String: Tensor], epoch: Int) throws {
        try writeWeights(weights, metadata: ["epoch": "\(epoch)", "format": "pt"])
    }

    public func readWeights() throws -> [String: Tensor] { try readWeightsFile().tensors }

    /// Throws where `file`, this run's `weights.safetensors` as read, holds other weights than
    /// `model` records as kept (`weightsChecksum`): another run's put in their place, or the next
    /// epoch's being written now. A file without compseg's checksum (written by another program)
    /// and a run that recorded none pass.
    func requireKeptWeights(_ file: Safetensors, of model: RunConfiguration) throws {
        guard let recorded = model.weightsChecksum, let held = file.dataChecksum, held != recorded else { return }
        let epochs = [file.keptEpoch.map { "epoch \($0), " } ?? "", model.bestEpoch.map { "epoch \($0), " } ?? ""]
        throw TrainingError("\(weightsFile.path): holds other weights (\(epochs[0])checksum \(held)) than model.json records as kept "
                            + "(\(epochs[1])checksum \(recorded)): the file was replaced, perhaps by another run's weights; put this run's "
                            + "back, or `compseg train --resume \(shellWord(url.path))` writes them again from checkpoint.safetensors. "
                            + "If the run is training now, its next epoch's files were being written: try again")
    }

    /// `weights.safetensors` whole: the tensors with their metadata and checksum.
    public func readWeightsFile() throws -> Safetensors { try Safetensors(contentsOf: weightsFile) }

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

    /// The epochs of `history` as the training-curves figure takes them.
    public static func curveEpochs(_ history: [EpochRecord]) -> [TrainingCurves.Epoch] {
        history.map { TrainingCurves.Epoch(epoch: $0.epoch, trainLoss: Double($0.trainLoss),
                                           validationLoss: $0.validationLoss.map(Double.init), validationAUC: $0.validationAUC) }
    }

    /// The epoch whose weights are kept: the last one marked best.
    public static func bestEpoch(_ history: [EpochRecord]) -> Int? { history.last(where: \.best)?.epoch }

    /// Writes `curves.png` and `curves.svg` of `history` (each atomically; both follow from the
    /// history alone, so rewriting them on resume gives the same files).
    public func writeCurves(_ history: [EpochRecord]) throws {
        let epochs = Self.curveEpochs(history), best = Self.bestEpoch(history)
        try TrainingCurves.render(epochs, best: best).writePNG(to: curvesFile)
        try writeDurably(Data(TrainingCurves.svg(epochs, best: best).utf8), to: curvesSVGFile)
    }

    /// The history in `history.csv`: every column but the timings' precision (collapse notes and
    /// restarts included), for runs written before `curves.svg` existed and for `evaluate`.
    /// - Throws: naming the file when it is missing or a row is malformed.
    public func readHistory() throws -> [EpochRecord] {
        guard let data = FileManager.default.contents(atPath: historyFile.path) else {
            // There, but not to be read (another user's file, made under a strict umask): the system's reason.
            guard FileManager.default.fileExists(atPath: historyFile.path) else { throw TrainingError("\(historyFile.path): not found") }
            errno = 0
            let reason = access(historyFile.path, R_OK) == 0 ? "cannot be read" : "cannot be read: \(String(cString: strerror(errno)))"
            throw TrainingError("\(historyFile.path): \(reason)")
        }
        let rows: [[String]]
        do { rows = try CSV.parse(String(decoding: data, as: UTF8.self), file: historyFile.path) } catch {
            throw TrainingError("\(error)")
        }
        var records: [EpochRecord] = []
        for (i, f) in rows.enumerated().dropFirst() where f != [""] {
            guard f.count >= 7, let epoch = Int(f[0]), let train = Float(f[1]) else {
                throw TrainingError("\(historyFile.path): line \(i + 1) is not an epoch row: \(f.joined(separator: ","))")
            }
            var record = EpochRecord(epoch: epoch, trainLoss: train, validationLoss: Float(f[2]), validationAUC: Double(f[3]),
                                     seconds: Double(f[4]) ?? 0, imagesPerSecond: Double(f[5]) ?? 0,
                                     collapse: f.count > 7 && !f[7].isEmpty ? f[7] : nil, best: f[6] == "1")
            record.restart = f.count > 8 ? Float(f[8]) : nil
            records.append(record)
        }
        return records
    }

    /// The curves' SVG: `curves.svg` when the run has one, else drawn from `history.csv`; nil when
    /// neither exists. A report leaves them out, warned of, where neither can be read (`reportCurves`).
    public func curvesSVG() throws -> String? {
        if let data = FileManager.default.contents(atPath: curvesSVGFile.path) { return String(decoding: data, as: UTF8.self) }
        guard FileManager.default.fileExists(atPath: historyFile.path) else { return nil }
        let history = try readHistory()
        return TrainingCurves.svg(Self.curveEpochs(history), best: Self.bestEpoch(history))
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
    /// The training settings the epochs ran with, as written (so that a version with other
    /// settings still reads them); nil in checkpoints written before they were kept.
    public var settings: JSONValue?
    /// The train and val rows the epochs learned from (`ManifestRows.identity`); nil in
    /// checkpoints written before it was kept, and of runs that record no rows' pixels.
    public var rows: String?
    /// The topology and head the epochs ran with (`{"topology": …, "head": …}`, each its
    /// identifier and configuration); nil in checkpoints written before it was kept.
    public var plugins: JSONValue?

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
        if let settings { metadata["training"] = settings.text }
        if let rows { metadata["rows"] = rows }
        if let plugins { metadata["plugins"] = plugins.text }
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
        settings = file.metadata["training"].flatMap { try? decoder.decode(JSONValue.self, from: Data($0.utf8)) }
        rows = file.metadata["rows"]
        plugins = file.metadata["plugins"].flatMap { try? decoder.decode(JSONValue.self, from: Data($0.utf8)) }
    }

    public init(network: [String: Tensor], optimizerState: [String: Tensor], optimizerUpdates: [String: Int],
                best: (epoch: Int, loss: Float, weights: [String: Tensor])?, history: [EpochRecord], settings: JSONValue? = nil) {
        self.network = network; self.optimizerState = optimizerState; self.optimizerUpdates = optimizerUpdates
        self.best = best; self.history = history; self.settings = settings
    }
}

extension Trainer {
    /// The state after the last completed epoch.
    public func checkpoint() -> TrainingCheckpoint {
        let (state, updates) = optimizer.exportState(network.namedParameters())
        return TrainingCheckpoint(network: network.stateDictionary(), optimizerState: state, optimizerUpdates: updates,
                                  best: best, history: history,
                                  settings: try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(settings)))
    }

    /// Continues from `checkpoint`: the next `run` starts at the epoch after its history.
    public func restore(_ checkpoint: TrainingCheckpoint) throws {
        try network.load(checkpoint.network)
        try optimizer.importState(network.namedParameters(), tensors: checkpoint.optimizerState,
                                  updates: checkpoint.optimizerUpdates)
        restoreProgress(history: checkpoint.history, best: checkpoint.best)
    }
}
