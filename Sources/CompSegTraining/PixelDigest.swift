import CompSegCore
import Foundation

/// A digest of a sample as its reader delivers it: the image's shape and values (their bits) and
/// its tissue mask. A file saved again without loss (other compression, tiling or tags) keeps it,
/// while its bytes change; a file holding other data changes it all but surely. A 64-bit FNV-1a
/// over 64-bit words with a shift to spread the high bits: not a security measure.
public enum PixelDigest {
    public static func of(_ sample: Sample) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0x100_0000_01b3
            hash ^= hash >> 29
        }
        sample.image.shape.dims.forEach { mix(UInt64($0)) }
        sample.image.withPlainBuffer { values in
            var k = 0
            while k + 1 < values.count {
                mix(UInt64(values[k].bitPattern) | UInt64(values[k + 1].bitPattern) << 32)
                k += 2
            }
            if k < values.count { mix(UInt64(values[k].bitPattern)) }
        }
        mix(UInt64(sample.tissue.height)); mix(UInt64(sample.tissue.width))
        var bits: UInt64 = 0
        for (k, inside) in sample.tissue.pixels.enumerated() {
            if inside { bits |= 1 << UInt64(k % 64) }
            if k % 64 == 63 { mix(bits); bits = 0 }
        }
        mix(bits)
        return String(hash, radix: 16)
    }
}

/// The digests of the samples a store reads, by index, each taken the first time its sample is
/// read (samples are read on several threads).
final class PixelDigests: @unchecked Sendable {
    private let lock = NSLock()
    private var digests: [Int: String] = [:]

    /// Notes sample `i`'s digest, unless noted already.
    func note(_ i: Int, _ sample: Sample) {
        guard lock.withLock({ digests[i] == nil }) else { return }
        let digest = PixelDigest.of(sample)
        lock.withLock { digests[i] = digest }
    }

    func digest(_ i: Int) -> String? { lock.withLock { digests[i] } }
}

extension ManifestRows {
    /// These rows with each train and val sample's `PixelDigest` as `train` and `validation`
    /// (stores of these rows, in the manifest's order) read it; rows a store holds no digest for keep theirs.
    public func recordingPixels(train: SampleStore, validation: SampleStore) -> ManifestRows {
        guard var rows = perRow, rows.filter({ $0.split == "train" }).count == train.count,
              rows.filter({ $0.split == "val" }).count == validation.count else { return self }
        var next = (train: 0, validation: 0)
        for k in rows.indices {
            let isTrain = rows[k].split == "train"
            let digest = isTrain ? train.pixelDigest(next.train) : validation.pixelDigest(next.validation)
            if isTrain { next.train += 1 } else { next.validation += 1 }
            if let digest { rows[k].pixels = digest }
        }
        var me = self
        me.perRow = rows
        return me
    }

    /// What a check of `given` (a manifest's rows now) against these (a run's) finds, where the
    /// rows, in the run's order, differ only in files whose size or sampled contents changed.
    public enum Resaved {
        /// Every changed file holds the run's pixels (saved again without loss): `rows` is `given`
        /// with the run's pixel digests and left-out rows, to record; `files` names them.
        case samePixels(rows: ManifestRows, files: [String])
        /// These changed files (named with their manifest lines) hold other pixels, or cannot be read.
        case otherPixels([String])
    }

    /// Whether the rows of `manifest` (`given`) that differ from these are the run's files saved
    /// again with the same pixels: each such row's sample is read with `modality` and its digest
    /// compared with the one recorded. Nil where the rows differ otherwise (names, splits, labels,
    /// order), where nothing differs, or where the run recorded no pixels for a changed row.
    public func resaved(_ given: ManifestRows, in manifest: Manifest, modality: PreparedModality) -> Resaved? {
        let rows = manifest.rows.filter { $0.split != .test }
        guard let mine = perRow, let theirs = given.perRow, mine.count == theirs.count, rows.count == theirs.count else { return nil }
        var changed: [Int] = []
        for (k, (run, now)) in zip(mine, theirs).enumerated() {
            guard (run.name, run.split, run.label) == (now.name, now.split, now.label) else { return nil }
            let comparable = contentsFiles == given.contentsFiles && run.contents != nil && now.contents != nil
            guard run.bytes != now.bytes || (comparable && run.contents != now.contents) else { continue }
            guard run.pixels != nil, now.bytes >= 0 else { return nil }
            changed.append(k)
        }
        guard !changed.isEmpty else { return nil }
        let differing = changed.filter { k in (try? modality.read(rows[k])).map(PixelDigest.of) != mine[k].pixels }
        guard differing.isEmpty else { return .otherPixels(differing.map { "line \(rows[$0].line) (\(theirs[$0].name))" }) }
        var accepted = given
        accepted.perRow = zip(theirs, mine).map { now, run in var row = now; row.pixels = run.pixels; return row }
        accepted.leftOut = leftOut
        return .samePixels(rows: accepted, files: changed.map { theirs[$0].name })
    }
}
