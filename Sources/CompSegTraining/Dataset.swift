import CompSegCore
import CompSegIO
import Foundation

/// A modality as a run uses it: the manifest's reader plugin and its preprocessing chain,
/// fitted on the training split by `train` and rebuilt from `model.json` by `segment`.
public struct PreparedModality: Sendable {
    public let manifest: ModalityManifest
    public let reader: any ImageSource
    public let chain: PreprocessingChain

    /// The manifest's reader and (unfitted, or already fitted) chain.
    /// - Throws: naming the manifest and the reader or step that is unknown or misconfigured.
    public init(_ manifest: ModalityManifest, registry: Registry) throws {
        self.manifest = manifest
        do { reader = try registry.modality(manifest.reader, manifest.readerConfiguration) } catch let e as RegistryError {
            throw ConfigurationError(source: manifest.source, message: "key 'reader': \(e.description)")
        }
        chain = try PreprocessingChain(manifest.preprocessing, registry: registry, source: manifest.source)
    }

    private init(manifest: ModalityManifest, reader: any ImageSource, chain: PreprocessingChain) {
        self.manifest = manifest; self.reader = reader; self.chain = chain
    }

    /// Reads a manifest row as the reader delivers it (before preprocessing), with the row's
    /// tissue-mask override and split.
    public func read(_ row: Manifest.Row) throws -> Sample {
        var sample = try reader.load(row.path, label: row.label)
        sample.metadata["split"] = row.split.rawValue
        if let maskFile = row.mask {
            sample.tissue = Mask(height: sample.height, width: sample.width,
                                 pixels: try SegmentationFiles.readMask(maskFile, height: sample.height, width: sample.width))
        }
        return sample
    }

    /// The chain fitted on `rows` (the training split), read one file at a time.
    /// - Throws: `ManifestError` when a row cannot be read, or the step's error.
    public func fitted(on rows: [Manifest.Row], manifest: Manifest) throws -> PreparedModality {
        guard !chain.isEmpty else { return self }
        try check(rows, manifest: manifest)
        let me = self
        let training = SampleSequence(count: rows.count) { try me.read(rows[$0]) }
        let fitted = try chain.fitted(to: training)
        var m = self.manifest
        m.preprocessing = fitted.descriptions
        return PreparedModality(manifest: m, reader: reader, chain: fitted)
    }

    /// Reads every row once, so a bad file is reported with all the others before fitting.
    private func check(_ rows: [Manifest.Row], manifest: Manifest) throws {
        var problems: [String] = []
        for row in rows {
            do { _ = try read(row) } catch { problems.append("line \(row.line): \(error)") }
        }
        guard problems.isEmpty else { throw ManifestError(file: manifest.url.path, problems: problems) }
    }

    /// Reads and preprocesses `rows`, one file at a time.
    /// - Throws: `ManifestError` listing every row whose file the reader or a step rejects, whose
    ///   tissue mask is empty, or whose channel count or size after preprocessing differs from the
    ///   first sample's (one error for all of them).
    public func load(_ rows: [Manifest.Row], manifest: Manifest) throws -> [Sample] {
        var loaded: [(row: Manifest.Row, sample: Sample)] = []
        var problems: [String] = []
        for row in rows {
            do {
                let sample = try chain.apply(read(row))
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
                problems.append("line \(row.line): \(s.id) is \(s.image.shape) (channels×height×width) after preprocessing "
                                + "but \(first.id) is \(first.image.shape); every sample must have the same channels and size")
            }
        }
        guard problems.isEmpty else { throw ManifestError(file: manifest.url.path, problems: problems) }
        return loaded.map(\.sample)
    }

    /// Preprocesses sample files given by path (no manifest).
    public func load(files: [URL]) throws -> [Sample] {
        try files.map { try chain.apply(reader.load($0, label: nil)) }
    }
}
