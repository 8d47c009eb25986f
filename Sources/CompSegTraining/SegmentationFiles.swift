import CompSegCore
import CompSegIO
import Foundation

/// The files written per segmented sample: `<id>_map.png` (activation ×255, 8-bit), `<id>_map.tif`
/// (float32), `<id>_mask.png` (0/255, threshold within tissue).
public enum SegmentationFiles {
    public static let suffixes = ["_map.png", "_map.tif", "_mask.png"]

    /// The files `write` would create for `samples` in `folder`.
    public static func paths(for samples: [Sample], in folder: URL) -> [URL] {
        samples.flatMap { s in suffixes.map { folder.appendingPathComponent(s.id + $0) } }
    }

    /// Writes one sample's map and mask (each file atomically).
    public static func write(_ sample: Sample, map: [Float], threshold: Float, to folder: URL) throws {
        let (h, w) = (sample.height, sample.width)
        let mask = map.indices.map { map[$0] > threshold && sample.tissue.pixels[$0] }
        try PNGImage(width: w, height: h, channels: 1, pixels: map.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
            .write(to: folder.appendingPathComponent(sample.id + "_map.png"))
        try FloatImage(width: w, height: h, channels: 1, values: map)
            .write(to: folder.appendingPathComponent(sample.id + "_map.tif"))
        try PNGImage(width: w, height: h, channels: 1, pixels: mask.map { $0 ? 255 : 0 })
            .write(to: folder.appendingPathComponent(sample.id + "_mask.png"))
    }

    /// A ground-truth or tissue mask from a PNG: non-zero in the first channel is true.
    /// - Throws: `IOError` naming the file when its size differs from the sample's.
    public static func readMask(_ url: URL, height: Int, width: Int) throws -> [Bool] {
        let png = try PNGImage(contentsOf: url)
        guard png.height == height, png.width == width else {
            throw IOError(file: url.path, "mask is \(png.height)×\(png.width) pixels; the sample is \(height)×\(width)")
        }
        return (0..<(height * width)).map { png.pixels[$0 * png.channels] != 0 }
    }
}
