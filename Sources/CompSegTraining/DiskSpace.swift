import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// The room a run's files take on disk, checked before its first step rather than found out by a
/// full disk epochs later: each epoch's commit writes `checkpoint.safetensors` (the network, the
/// optimizer's state, the best epoch's weights) and `weights.safetensors` as temporary files beside
/// those they replace, so at its peak a run folder holds two of each.
enum DiskSpace {
    /// The bytes of a checkpoint and of a weights file of `trainer`'s network (4 per value; the
    /// optimizer's state at most two values per weight, Adam's moments).
    static func runFiles(_ trainer: Trainer) -> (checkpoint: Int, weights: Int) {
        let values = trainer.network.namedTensors().reduce(0) { $0 + $1.1.shape.count }
        let weights = 4 * values
        return (weights * 2 + 4 * 2 * trainer.network.parameterCount, weights)
    }

    /// The bytes free to this user in the file system that holds `url`, or would hold it (its
    /// nearest folder that exists); nil where it cannot be told.
    static func free(at url: URL) -> Int? {
        var place = url.standardizedFileURL
        while !FileManager.default.fileExists(atPath: place.path), place.path != "/" { place.deleteLastPathComponent() }
        var info = statvfs()
        guard statvfs(place.path, &info) == 0 else { return nil }
        let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        return overflow ? Int.max : Int(clamping: bytes)
    }

    /// Throws `IOError` naming `folder` where its file system has less room free than the run's
    /// files still need: two checkpoints and two weights files, less those the folder holds, and a
    /// megabyte for the history and curves.
    static func require(_ trainer: Trainer, in folder: RunDirectory, free: Int? = nil) throws {
        guard let free = free ?? Self.free(at: folder.url) else { return }
        let (checkpoint, weights) = runFiles(trainer)
        func size(_ url: URL) -> Int { (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 }
        let need = 2 * (checkpoint + weights) + (1 << 20) - size(folder.checkpointFile) - size(folder.weightsFile)
        guard need > free else { return }
        throw IOError(file: folder.url.path, "its file system has \(byteCount(Double(free))) free, and the run's files need about \(byteCount(Double(need))) "
                      + "more (each epoch writes checkpoint.safetensors, \(byteCount(Double(checkpoint))), and weights.safetensors, "
                      + "\(byteCount(Double(weights))), beside the ones they replace); free some space, or train into a folder elsewhere")
    }
}
