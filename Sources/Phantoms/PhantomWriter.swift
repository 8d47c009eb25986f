import CompSegCore
import CompSegIO
import Foundation

extension InfraredPhantom {
    /// Writes every spot in the default HDF5 layout (`spotNNN.h5`: /spectra H×W×B float32,
    /// contiguous; /wavenumbers; /mask; the root's `pixel_size_um`), its ground-truth tumor mask (`spotNNN_truth.png`,
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
            try writer.setAttribute("pixel_size_um", Self.pixelSize)
            try writer.close()
            return WrittenSpot(id: spot.id, file: "\(spot.id).h5", label: spot.label, split: spot.split, truth: spot.truth)
        }
    }
}

extension InfraredPhantom {
    /// The pixel size the spots' files record (`pixel_size_um`): an FTIR focal-plane array at 15× (5.5 µm).
    static let pixelSize = 5.5
}
