import CompSegCore
import CompSegIO
import Foundation

/// One written spot: its file (relative to the folder), label, split and ground-truth tumor mask.
struct WrittenSpot {
    let id: String, file: String, label: SampleLabel, split: Split, truth: [Bool]
}

extension TissueMicroarraySettings {
    /// Writes a phantom microarray into `folder`: each spot through `write` (which writes the
    /// image file and says what it wrote), its truth mask (`<id>_truth.png`, 0/255) and
    /// `manifest.csv` (path,label,split,truth).
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` is not new or empty (nothing is overwritten) or a write fails.
    func writeMicroarray(to folder: URL, _ write: (Int) throws -> WrittenSpot) throws -> URL {
        let manifest = folder.appendingPathComponent("manifest.csv")
        try requireEmptyFolder(folder, "choose a new or empty folder (nothing is overwritten)")
        // A spot's image is made in double, then written from a float copy.
        try requireMemory(Double(size * size * valuesPerPixel) * 12,
                          for: "a spot of \(size)×\(size) pixels × \(valuesPerPixel) values", "choose a smaller size or fewer bands")
        try createFolder(folder)
        var lines = ["path,label,split,truth"]
        for i in 0..<spots {
            let spot = try write(i)
            try PNGImage(width: size, height: size, channels: 1, pixels: spot.truth.map { $0 ? 255 : 0 })
                .write(to: folder.appendingPathComponent("\(spot.id)_truth.png"))
            lines.append("\(spot.file),\(spot.label == .cancer ? 1 : 0),\(spot.split.rawValue),\(spot.id)_truth.png")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: manifest, options: .atomic)
        return manifest
    }
}
