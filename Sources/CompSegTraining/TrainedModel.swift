import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// A trained segmenting network rebuilt from its run folder: the topology from `model.json`
/// with the best weights from `weights.safetensors`, in inference mode. The pooling head is not
/// needed any more.
public final class TrainedModel {
    public let run: RunDirectory
    public let description: RunConfiguration
    public let network: any SegmentingNetwork
    /// Which weights these are, for the records made with them: the epoch `weights.safetensors`
    /// says it kept and its data's checksum (nil where the file does not say).
    public let weights: (epoch: Int?, checksum: String?)
    /// What each sample segmented so far (`segmented`, `segmentStreaming`, `countStreaming`) holds
    /// outside the run's `inputRange`, in order; empty for runs that recorded none.
    public internal(set) var inputChecks: [InputRangeCounts] = []

    /// `inputChecks`, emptied: the next ones are those of the samples segmented from now on.
    public func takeInputChecks() -> [InputRangeCounts] {
        defer { inputChecks = [] }
        return inputChecks
    }

    /// Per sample segmented since `inputChecks` was last emptied (by id, its last reading), whether
    /// it lies outside the run's `inputRange` (`InputRangeCounts.departs`); samples without tissue
    /// are left out. Nil for a run that recorded no range: nothing was checked.
    public var unfamiliarInputs: [String: Bool]? {
        guard description.inputRange != nil else { return nil }
        var latest: [String: Bool] = [:]
        for check in inputChecks { latest[check.id] = check.tissue > 0 ? check.departs : nil }
        return latest
    }

    /// - Throws: naming the run folder's file that is missing or does not fit the topology.
    public init(run: RunDirectory, registry: Registry) throws {
        self.run = run
        var model = try run.readModel()
        // Everything the run needs to segment its files (not the head), named at once.
        try model.requirePlugins(registry, file: run.modelFile.path, kinds: [.topology, .modality, .transform])
        do {
            network = try registry.topology(model.topology.identifier, inputChannels: model.inputChannels,
                                            seed: model.training.seed, model.topology.pluginConfiguration(source: "\(run.modelFile.path): topology"))
        } catch let error as ConfigurationError where error.source.hasPrefix(run.modelFile.path) {
            throw error
        } catch {  // a topology's own check of its settings (a width out of range, say): named with the file it read them from
            throw TrainingError("\(run.modelFile.path): \(error)")
        }
        guard FileManager.default.fileExists(atPath: run.weightsFile.path) else {
            let epochs = (try? run.readHistory().count) ?? 0
            let trained = epochs > 0 ? "its history.csv records \(epochs) epoch\(epochs == 1 ? "" : "s")"
                : FileManager.default.fileExists(atPath: run.checkpointFile.path) ? "its checkpoint.safetensors holds trained epochs" : nil
            if trained == nil, let kept = model.bestEpoch {  // a run sent without its weights
                throw TrainingError("\(run.weightsFile.path): not found, though model.json records the weights of epoch \(kept) as kept: "
                                    + "a run is applied with its model.json and weights.safetensors together; copy the weights "
                                    + "beside model.json (ask whoever sent the run for them)")
            }
            throw TrainingError("\(run.weightsFile.path): not found; " + (trained.map {
                "\($0), so the file was moved or deleted: put it back, or `compseg train --resume \(shellWord(run.url.path))` "
                    + "writes it again from checkpoint.safetensors"
            } ?? "the run has not finished an epoch"))
        }
        var file: Safetensors
        do { file = try run.readWeightsFile() } catch {
            // Unreadable for want of permission (another user's run): the system's reason alone, no resume to advise.
            guard FileManager.default.fileExists(atPath: run.checkpointFile.path), access(run.weightsFile.path, R_OK) == 0 else { throw error }
            throw TrainingError("\(error); `compseg train --resume \(shellWord(run.url.path))` writes it again from checkpoint.safetensors")
        }
        // A run training now writes its next kept weights, then model.json: read between the two, both are read again.
        for _ in 0..<20 where model.weightsChecksum != nil && file.dataChecksum != nil && file.dataChecksum != model.weightsChecksum
            && FolderLock.isHeld(run.url) {
            usleep(100_000)
            (model, file) = (try run.readModel(), try run.readWeightsFile())
        }
        description = model
        let weights = file.tensors
        self.weights = (file.keptEpoch, file.dataChecksum)
        do { try run.requireKeptWeights(file, of: description) } catch let error as TrainingError where FolderLock.isHeld(run.url) {
            let prefix = run.weightsFile.path + ": "
            var busy = IOError(file: run.weightsFile.path, error.description.hasPrefix(prefix)
                               ? String(error.description.dropFirst(prefix.count)) : error.description)
            busy.isBusy = true  // exit 75: the run trains now; try again
            throw busy
        }
        if let (name, _) = weights.first(where: { !$0.value.scalars.allSatisfy(\.isFinite) }) {
            throw TrainingError("\(run.weightsFile.path): tensor '\(name)' holds NaN or infinite values; the run diverged "
                                + "(train it again with a lower --lr)")
        }
        do { try network.load(weights) } catch {
            throw TrainingError("\(run.weightsFile.path): does not fit the \(description.topology.identifier) network: \(error)")
        }
        network.setTraining(false)
    }

    /// `sample` with its channels in the order the network was trained on (a spectral axis stored
    /// the other way is reversed).
    /// - Throws: naming the sample when its channels are others than the network's.
    func aligned(_ sample: Sample) throws -> Sample {
        guard let axis = description.inputAxis else { return sample }
        return try sample.aligned(to: axis, by: "\(run.modelFile.path) says the network was trained on",
                                  remedy: "preprocess it as the training samples were (a 'resample' step brings every file onto one axis)")
    }

    /// The activation map of each sample, H×W values in [0, 1] row-major, computed in batches;
    /// a sample larger than a tile of `tiling` on either side is segmented tile by tile, its tiles
    /// without tissue skipped (`tiledActivationMap`: 0 there).
    /// - Throws: when a sample's channel count differs from the network's (naming the sample).
    public func activationMaps(_ samples: [Sample], batchSize: Int = 4, tiling: Tiling = .standard) throws -> [[Float]] {
        let samples = try samples.map(aligned)
        let large = samples.filter { $0.height > tiling.size || $0.width > tiling.size }
        guard large.isEmpty else {  // one by one, the large ones in tiles
            return try samples.map { s in
                guard large.contains(where: { $0.id == s.id }) else { return try activationMaps([s], batchSize: 1, tiling: tiling)[0] }
                do { return try tiledActivationMap(s.image, tissue: s.tissue.pixels, tiling: tiling, batchSize: batchSize) } catch where error is Interrupted || error is MemoryShortage {
                    throw error  // as they are: the commands tell them apart (exit 130, a memory refusal)
                } catch {
                    throw TrainingError("sample \(s.id) (\(s.height)×\(s.width), segmented in tiles): \(error)")
                }
            }
        }
        var maps: [[Float]] = []
        for start in stride(from: 0, to: samples.count, by: batchSize) {
            let part = Array(samples[start..<min(start + batchSize, samples.count)])
            for s in part where s.image.shape[0] != description.inputChannels {
                throw TrainingError("sample \(s.id) has \(s.image.shape[0]) channels; the model was trained on "
                                    + "\(description.inputChannels)")
            }
            // Samples of different sizes run one by one.
            let groups = Dictionary(grouping: part.indices, by: { part[$0].image.shape })
            var results = [[Float]](repeating: [], count: part.count)
            for (_, indices) in groups {
                let images = try stack(indices.map { part[$0].image })
                let a: [Float]
                do { a = try withoutGradients { try network.activation(images) }.scalars } catch {
                    throw TrainingError("sample " + indices.map { part[$0].id }.joined(separator: ", ") + ": \(error)")
                }
                let pixels = a.count / indices.count
                for (k, i) in indices.enumerated() { results[i] = Array(a[(k * pixels)..<((k + 1) * pixels)]) }
            }
            maps += results
        }
        return maps
    }
}
