import CompSegCore
import CompSegIO
import Foundation

extension InfraredPhantom {
    /// Writes every spot in the default HDF5 layout (`spotNNN.h5`: /spectra H×W×B float32,
    /// contiguous; /wavenumbers; /mask), its ground-truth tumor mask (`spotNNN_truth.png`,
    /// 0/255) and `manifest.csv` (path,label,split,truth) into `folder`.
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` is not new or empty (nothing is overwritten) or a write fails.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        let n = settings.size, b = settings.bands
        return try settings.writeMicroarray(to: folder) { i, folder in
            let spot = spot(i)
            let writer = try HDF5Writer(url: folder.appendingPathComponent("\(spot.id).h5"))
            // Uncompressed: noisy floats deflate by 7% and cost three times as long to read.
            try writer.write("/spectra", shape: [n, n, b], values: spot.spectra)
            try writer.write("/wavenumbers", shape: [b], values: wavenumbers)
            try writer.write("/mask", shape: [n, n], values: spot.tissue.map { UInt8($0 ? 1 : 0) })
            try writer.close()
            return WrittenSpot(id: spot.id, file: "\(spot.id).h5", label: spot.label, split: spot.split, truth: spot.truth)
        }
    }
}
