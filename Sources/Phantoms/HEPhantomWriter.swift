import CompSegCore
import CompSegIO
import Foundation

extension HEPhantom {
    /// Writes every spot as a slide scanner's file: even spots as tiled, Deflate-compressed RGB
    /// TIFF (`spotNNN.tif`, 64-pixel tiles), odd spots as RGB PNG (`spotNNN.png`); with each its
    /// ground-truth tumor mask (`spotNNN_truth.png`, 0/255) and `manifest.csv`
    /// (path,label,split,truth) in `folder`.
    /// - Returns: the manifest's location.
    /// - Throws: when `folder` is not new or empty (nothing is overwritten) or a write fails.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        let n = settings.size
        return try settings.writeMicroarray(to: folder) { i, folder in
            let spot = spot(i)
            let image = PNGImage(width: n, height: n, channels: 3, pixels: spot.rgb)
            let file = i % 2 == 0 ? "\(spot.id).tif" : "\(spot.id).png"
            if i % 2 == 0 { try image.writeTiledTIFF(to: folder.appendingPathComponent(file), pixelSize: Self.pixelSize) } else {
                try image.write(to: folder.appendingPathComponent(file), metadata: PNGMetadata(pixelSize: Self.pixelSize))
            }
            return WrittenSpot(id: spot.id, file: file, label: spot.label, split: spot.split, truth: spot.truth)
        }
    }
}

extension HEPhantom {
    /// The pixel size the spots' files record: a scan at 5× (2 µm).
    static let pixelSize = PixelSize(2)
}
