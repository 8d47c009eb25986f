import CompSegCore
import Foundation

/// A digest of a sample as its reader delivers it: the image's shape, channel axis (wavenumbers
/// or band names) and values (their bits), and its tissue mask. A file saved again without loss (other compression, tiling or tags) keeps it,
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for byte in (try? encoder.encode(sample.channels)) ?? Data() { mix(UInt64(byte)) }
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
        guard var rows = perRow, let digests = storeDigests(train: train, validation: validation) else { return self }
        for (k, digest) in digests.enumerated() where digest != nil { rows[k].pixels = digest }
        var me = self
        me.perRow = rows
        return me
    }

    /// Each row's digest as `train` and `validation` (stores of these rows' splits, in the
    /// manifest's order) took it, in `perRow`'s order; nil where the stores hold other counts.
    func storeDigests(train: SampleStore, validation: SampleStore) -> [String?]? {
        guard let rows = perRow, rows.filter({ $0.split == "train" }).count == train.count,
              rows.filter({ $0.split == "val" }).count == validation.count else { return nil }
        var next = (train: 0, validation: 0)
        return rows.map { row in
            defer { if row.split == "train" { next.train += 1 } else { next.validation += 1 } }
            return row.split == "train" ? train.pixelDigest(next.train) : validation.pixelDigest(next.validation)
        }
    }

    /// The rows as a checkpoint names the data its epochs learned from: a digest of each row's
    /// split, file name, label and pixels, in order (a file saved again keeps it); nil where a
    /// row's pixels are not recorded.
    public var identity: String? {
        guard let rows = perRow, !rows.isEmpty, rows.allSatisfy({ $0.pixels != nil }) else { return nil }
        let lines = rows.map { "\($0.split),\($0.name),\($0.label),\($0.pixels!)" }
        return String(Self.fnv(Array(lines.joined(separator: "\n").utf8)), radix: 16)
    }

    /// The train and val rows of `manifest` (these rows, recorded by a run) whose samples, as
    /// `train` and `validation` (stores of them) read them, hold other pixels than recorded:
    /// "line 7 (spot005.h5)". An edit in place that keeps a file's size and the pieces sampled
    /// of it is found so. Rows without a recorded digest, or not read, are not compared.
    public func pixelsChanged(train: SampleStore, validation: SampleStore, in manifest: Manifest) -> [String] {
        let lines = manifest.rows.filter { $0.split != .test }.map(\.line)
        guard let recorded = perRow, recorded.count == lines.count,
              let digests = storeDigests(train: train, validation: validation) else { return [] }
        return recorded.indices.compactMap { k in
            guard let digest = digests[k], let pixels = recorded[k].pixels, digest != pixels else { return nil }
            return "line \(lines[k]) (\(recorded[k].name))"
        }
    }

    /// What a check of `given` (a manifest's rows now) against these (a run's) finds, where the
    /// rows differ only in files whose size or sampled contents changed.
    public enum Resaved {
        /// Every changed file holds the run's pixels (saved again without loss): `rows` is `given`
        /// with the run's pixel digests and left-out rows, to record; `files` names them.
        case samePixels(rows: ManifestRows, files: [String])
        /// These rows ("line 7 (spot005.h5): …") hold other pixels, or cannot be read (why, said).
        case otherPixels([String])
        /// These changed rows have no recorded pixels to compare (a run of an older compseg).
        case unrecorded([String])

        /// What a resume says of it: "spot5.png saved again, with the run's pixels", or, as an
        /// addition to the refusal, what the files changed hold.
        public var description: String {
            func listed(_ items: [String]) -> String { items.prefix(5).joined(separator: ", ") + (items.count > 5 ? ", …" : "") }
            switch self {
            case .samePixels(_, let files):
                return (files.count == 1 ? files[0] : "\(files.count) files (\(listed(files)))") + " saved again, with the run's pixels"
            case .otherPixels(let rows):
                return "; read again: " + listed(rows)
            case .unrecorded(let rows):
                return "; the run recorded no pixels of \(listed(rows)) (a run of an older compseg), so a file saved again cannot be "
                    + "told from one changed: put the files back as they were and resume once, which records them"
            }
        }
    }

    /// Whether the rows of `manifest` (`given`) that differ from these are the run's files saved
    /// again with the same pixels: each such row's sample is read with `modality` and its digest
    /// compared with the one recorded. Rows are matched by file name, so that another order is
    /// still told (by the caller) once this is settled. Nil where the rows differ otherwise (names,
    /// splits, labels), or where nothing differs.
    public func resaved(_ given: ManifestRows, in manifest: Manifest, modality: PreparedModality) -> Resaved? {
        let rows = manifest.rows.filter { $0.split != .test }
        guard let mine = perRow, let theirs = given.perRow, mine.count == theirs.count, rows.count == theirs.count else { return nil }
        // Each row now, with the run's row of its name (the first not matched yet: names may repeat across folders).
        var unmatched = Array(mine.indices), runRow: [Int] = []
        for now in theirs {
            guard let m = unmatched.firstIndex(where: { mine[$0].name == now.name }) else { return nil }
            runRow.append(unmatched.remove(at: m))
        }
        var changed: [Int] = []
        for (k, now) in theirs.enumerated() {
            let run = mine[runRow[k]]
            guard (run.split, run.label) == (now.split, now.label) else { return nil }
            let comparable = contentsFiles == given.contentsFiles && run.contents != nil && now.contents != nil
            if run.bytes != now.bytes || (comparable && run.contents != now.contents) { changed.append(k) }
        }
        guard !changed.isEmpty else { return nil }
        func place(_ k: Int) -> String { "line \(rows[k].line) (\(theirs[k].name))" }
        let unrecorded = changed.filter { mine[runRow[$0]].pixels == nil }
        guard unrecorded.isEmpty else { return .unrecorded(unrecorded.map(place)) }
        let differing: [String] = changed.compactMap { k in
            guard theirs[k].bytes >= 0 else { return "\(place(k)): cannot be read" }
            do { return try PixelDigest.of(modality.read(rows[k])) == mine[runRow[k]].pixels ? nil : "\(place(k)): other pixels than the run's" } catch {
                return "\(place(k)): cannot be read (\(error))"
            }
        }
        guard differing.isEmpty else { return .otherPixels(differing) }
        var accepted = given
        accepted.perRow = theirs.indices.map { k in var row = theirs[k]; row.pixels = mine[runRow[k]].pixels; return row }
        accepted.leftOut = leftOut
        return .samePixels(rows: accepted, files: changed.flatMap { Self.changedFiles(theirs[$0], mine[runRow[$0]]) })
    }

    /// The files of a row whose size or sampled contents changed: its own, and those read with it
    /// (an ENVI header's data, a tissue mask) whose pieces differ; the row's file where unknown.
    static func changedFiles(_ now: Row, _ run: Row) -> [String] {
        let a = (now.contents ?? "").split(separator: ","), b = (run.contents ?? "").split(separator: ",")
        guard let names = now.files, names.count == a.count, a.count == b.count, names.first == now.name else { return [now.name] }
        let files = names.indices.filter { a[$0] != b[$0] || ($0 == 0 && now.bytes != run.bytes) }.map { names[$0] }
        return files.isEmpty ? [now.name] : files
    }
}
