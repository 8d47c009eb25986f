import CompSegIO
import CompSegNN
import Foundation

/// Where a fine-tuned run's network began (`train --init-from RUN`): the kept weights of another
/// run, which it names, with their epoch and checksum, and the rows those weights learned from.
/// A resume stopped before its first epoch reads them again from there, checked by the checksum.
public struct InitialWeights: Codable, Sendable, Equatable {
    /// The run folder, as an absolute path.
    public var run: String
    /// The epoch its `weights.safetensors` kept, where the file says.
    public var epoch: Int?
    /// The weights' data checksum (`Safetensors.dataChecksum`), where the file has one.
    public var checksum: String?
    /// The train and val rows of that run and of the runs its own weights began from, oldest
    /// first, so that `evaluate` recognizes every sample the network saw; a run that recorded none
    /// adds none.
    public var rows: [ManifestRows]

    public init(run: String, epoch: Int?, checksum: String?, rows: [ManifestRows]) {
        (self.run, self.epoch, self.checksum, self.rows) = (run, epoch, checksum, rows)
    }

    /// `rows` may be left out (removed from a copy sent to another lab, as its names are private).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        run = try c.decode(String.self, forKey: .run)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch)
        checksum = try c.decodeIfPresent(String.self, forKey: .checksum)
        rows = try c.decodeIfPresent([ManifestRows].self, forKey: .rows) ?? []
    }
}

extension InitialWeights {
    /// A run as the start of another: its configuration, its kept weights and their record.
    public typealias Start = (model: RunConfiguration, weights: [String: Tensor], record: InitialWeights)

    /// The run in `folder` as a start for another: its configuration, its kept weights and their record.
    /// - Throws: naming the folder's file that is missing, unreadable, or holds weights that are not finite.
    public static func reading(_ folder: RunDirectory) throws -> Start {
        let model = try folder.readModel()
        guard FileManager.default.fileExists(atPath: folder.weightsFile.path) else {
            throw TrainingError("\(folder.weightsFile.path): not found; --init-from starts from a run's kept weights, and this run "
                                + (model.bestEpoch == nil ? "has kept none yet (it has not finished an epoch)" : "was sent or kept without them"))
        }
        let file = try folder.readWeightsFile()
        try folder.requireKeptWeights(file, of: model)
        if let (name, _) = file.tensors.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.scalars.allSatisfy(\.isFinite) }) {
            throw TrainingError("\(folder.weightsFile.path): tensor '\(name)' holds NaN or infinite values (the run diverged): "
                                + "no start for another")
        }
        let record = InitialWeights(run: folder.url.path, epoch: file.keptEpoch,
                                    checksum: file.dataChecksum, rows: model.trainedRows)
        return (model, file.tensors, record)
    }

    /// The weights this record names, read again (a resume of a run stopped before its first epoch).
    /// - Throws: where the run or its weights are gone, or the weights are others than they were.
    public func weights() throws -> [String: Tensor] {
        let folder = RunDirectory(URL(fileURLWithPath: run))
        guard FileManager.default.fileExists(atPath: folder.weightsFile.path) else {
            throw TrainingError("\(folder.weightsFile.path): not found; this run starts from those weights (model.json's "
                                + "initialWeights) and has not finished an epoch, so it needs them: put the run back, give its new place with "
                                + "--init-from, or start anew")
        }
        let file = try folder.readWeightsFile()
        guard checksum == nil || file.dataChecksum == checksum else {
            throw TrainingError("\(folder.weightsFile.path): holds other weights (checksum \(file.dataChecksum ?? "none")) than this "
                                + "run started from (\(checksum ?? "")), as model.json's initialWeights records; the run has not finished "
                                + "an epoch, so start it anew with train --init-from")
        }
        return file.tensors
    }
}

extension RunConfiguration {
    /// Every record of the rows the network learned from or chose by: those of the runs its
    /// weights began from, then its own.
    public var trainedRows: [ManifestRows] { (initialWeights?.rows ?? []) + [rows].compactMap { $0 } }
}
