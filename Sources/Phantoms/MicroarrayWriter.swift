import CompSegCore
import CompSegIO
import Foundation

/// One written spot: its file (relative to the folder), label, split and ground-truth tumor mask.
struct WrittenSpot {
    let id: String, file: String, label: SampleLabel, split: Split, truth: [Bool]
}

extension TissueMicroarraySettings {
    /// Writes a phantom microarray into `folder`: each spot through `write` (which writes the
    /// image file into the folder it is given and says what it wrote), its truth mask
    /// (`<id>_truth.png`, 0/255) and `manifest.csv` (path,label,split,truth). All or nothing: the
    /// files are written into a staging folder and moved in at the end, so a failure (a full disk)
    /// leaves no partial phantom, and the folders made for it go again.
    /// - Returns: the manifest's location.
    /// A signal (`Interruption`) stops it between spots, keeping nothing. A phantom killed while it
    /// moved its files in is completed first, and then named as the folder's content.
    /// - Throws: when `folder` is not new or empty (nothing is overwritten) or a write fails.
    func writeMicroarray(to folder: URL, _ write: (Int, URL) throws -> WrittenSpot) throws -> URL {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue {
            let lock = try FolderLock(folder, holder: "writing a phantom into this folder")
            let finished = finishInterruptedMoves(in: folder, endingWith: "manifest.csv")  // a phantom's moves alone
            lock.release()
            if !finished.isEmpty {
                throw IOError(file: folder.path, "held a phantom that a kill stopped while its files were moved in: its last "
                              + "\(finished.count) files are moved in now, so the folder holds that phantom whole (manifest.csv); "
                              + "choose a new or empty folder for another")
            }
        }
        try requireEmptyFolder(folder, "choose a new or empty folder (nothing is overwritten)")
        // A spot's image is made in double, then written from a float copy.
        try requireMemory(Double(size * size * valuesPerPixel) * 12,
                          for: "a spot of \(size)×\(size) pixels × \(valuesPerPixel) values", "choose a smaller size or fewer bands")
        let made = missingFolders(folder)
        try createFolder(folder)
        let lock = try FolderLock(folder, holder: "writing a phantom into this folder")
        defer { lock.release() }
        removeLeftoverTemporaries(in: folder)  // a killed phantom's staging folder (one writing now holds the lock)
        do {
            try writeAllOrNothing(into: folder, last: ["manifest.csv"]) { staging in
                var lines = ["path,label,split,truth"]
                for i in 0..<spots {
                    try Interruption.check()  // Ctrl-C: between spots, the staging folder goes
                    let spot = try write(i, staging)
                    try PNGImage(width: size, height: size, channels: 1, pixels: spot.truth.map { $0 ? 255 : 0 })
                        .write(to: staging.appendingPathComponent("\(spot.id)_truth.png"))
                    lines.append("\(spot.file),\(spot.label == .cancer ? 1 : 0),\(spot.split.rawValue),\(spot.id)_truth.png")
                }
                try writeDurably(Data((lines.joined(separator: "\n") + "\n").utf8), to: staging.appendingPathComponent("manifest.csv"))
            }
        } catch {
            lock.release()
            removeEmptyFolders(made)
            throw error
        }
        return folder.appendingPathComponent("manifest.csv")
    }
}
