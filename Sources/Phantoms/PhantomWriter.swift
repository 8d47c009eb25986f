import CompSegCore
import CompSegIO
import Foundation

extension InfraredPhantom {
    /// Writes every spot in the default HDF5 layout (`spotNNN.h5`: /spectra H×W×B float32,
    /// gzip-chunked; /wavenumbers; /mask), its ground-truth tumor mask (`spotNNN_truth.png`,
    /// 0/255) and `manifest.csv` (path,label,split,truth) into `folder`.
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` already holds a manifest (nothing is overwritten) or a write fails.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        let manifest = folder.appendingPathComponent("manifest.csv")
        if FileManager.default.fileExists(atPath: manifest.path) {
            throw IOError(file: manifest.path, "already exists; choose another folder (nothing is overwritten)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let n = settings.size, b = settings.bands
        var lines = ["path,label,split,truth"]
        for i in 0..<settings.spots {
            let spot = spot(i)
            let file = folder.appendingPathComponent("\(spot.id).h5")
            let writer = try HDF5Writer(url: file)
            try writer.write("/spectra", shape: [n, n, b], values: spot.spectra, gzip: 4, chunks: [min(n, 16), min(n, 16), b])
            try writer.write("/wavenumbers", shape: [b], values: wavenumbers)
            try writer.write("/mask", shape: [n, n], values: spot.tissue.map { UInt8($0 ? 1 : 0) })
            try writer.close()
            try PNGImage(width: n, height: n, channels: 1, pixels: spot.truth.map { $0 ? 255 : 0 })
                .write(to: folder.appendingPathComponent("\(spot.id)_truth.png"))
            lines.append("\(spot.id).h5,\(spot.label == .cancer ? 1 : 0),\(spot.split.rawValue),\(spot.id)_truth.png")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: manifest, options: .atomic)
        return manifest
    }
}
