import CompSegCore
import CompSegIO
import Foundation

/// Loads a manifest's samples through a modality plugin.
/// - Throws: `ManifestError` listing every row whose file the modality rejects, or whose channel
///   count or size differs from the first sample's (one error for all of them).
public func loadSamples(_ rows: [Manifest.Row], manifest: Manifest, modality: any ImageSource) throws -> [Sample] {
    var loaded: [(row: Manifest.Row, sample: Sample)] = []
    var problems: [String] = []
    for row in rows {
        do {
            var sample = try modality.load(row.path, label: row.label)
            sample.metadata["split"] = row.split.rawValue
            if let maskFile = row.mask {
                sample.tissue = Mask(height: sample.height, width: sample.width,
                                     pixels: try SegmentationFiles.readMask(maskFile, height: sample.height, width: sample.width))
            }
            if sample.tissue.count == 0 {
                problems.append("line \(row.line): sample \(sample.id) has an empty tissue mask; the pooling head averages over tissue")
            }
            loaded.append((row, sample))
        } catch {
            problems.append("line \(row.line): \(error)")
        }
    }
    if let first = loaded.first?.sample {
        for (row, s) in loaded where s.image.shape != first.image.shape {
            problems.append("line \(row.line): \(s.id) is \(s.image.shape) (channels×height×width) but \(first.id) is "
                            + "\(first.image.shape); every sample must have the same channels and size")
        }
    }
    guard problems.isEmpty else { throw ManifestError(file: manifest.url.path, problems: problems) }
    return loaded.map(\.sample)
}
