import CompSegCore
import CompSegIO
import Foundation

extension HEPhantom {
    /// Writes every spot as a slide scanner's file: even spots as tiled, Deflate-compressed RGB
    /// TIFF (`spotNNN.tif`, 64-pixel tiles), odd spots as RGB PNG (`spotNNN.png`); with each its
    /// ground-truth tumor mask (`spotNNN_truth.png`, 0/255) and `manifest.csv`
    /// (path,label,split,truth) in `folder`.
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` already holds a manifest (nothing is overwritten) or a write fails.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        let manifest = folder.appendingPathComponent("manifest.csv")
        if FileManager.default.fileExists(atPath: manifest.path) {
            throw IOError(file: manifest.path, "already exists; choose another folder (nothing is overwritten)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let n = settings.size
        var lines = ["path,label,split,truth"]
        for i in 0..<settings.spots {
            let spot = spot(i)
            let image = PNGImage(width: n, height: n, channels: 3, pixels: spot.rgb)
            let name = i % 2 == 0 ? "\(spot.id).tif" : "\(spot.id).png"
            if i % 2 == 0 { try image.writeTiledTIFF(to: folder.appendingPathComponent(name)) } else {
                try image.write(to: folder.appendingPathComponent(name))
            }
            try PNGImage(width: n, height: n, channels: 1, pixels: spot.truth.map { $0 ? 255 : 0 })
                .write(to: folder.appendingPathComponent("\(spot.id)_truth.png"))
            lines.append("\(name),\(spot.label == .cancer ? 1 : 0),\(spot.split.rawValue),\(spot.id)_truth.png")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: manifest, options: .atomic)
        return manifest
    }
}
