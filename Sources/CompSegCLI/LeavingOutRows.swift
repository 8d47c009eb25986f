import CompSegCore
import CompSegIO
import CompSegTraining
import Foundation

/// What `train` and `compare` with `--skip-unreadable` leave out of a manifest: rows whose image
/// is missing, cannot be read by the modality's reader, or holds no tissue. Each is named in a
/// warning, and the train and val rows are recorded in the run's model.json, so that its resumes
/// leave out the same ones.
struct LeavingOutRows {
    let warnings = LeftOut()
    /// The train and val rows left out so far, as model.json records them.
    private(set) var recorded: [ManifestRows.LeftOutRow]
    /// The test rows left out so far (`compare` evaluates on the others).
    private(set) var testRows = 0

    /// - Parameter recorded: the rows a run being resumed left out when it began.
    init(recorded: [ManifestRows.LeftOutRow] = []) { self.recorded = recorded }

    /// Names the test rows of `manifest` whose image is missing (read again for a resumed run:
    /// its train and val rows are left out as the run recorded them).
    mutating func namingMissingTestImages(of manifest: Manifest) {
        let missing = manifest.missingImages.filter { $0.split == .test }
        warnings.inputs += manifest.rows.count
        warnings.addMissing(missing, manifest: manifest)
        testRows += missing.count
    }

    /// The manifest at `path`, its rows whose image is missing left out and named.
    mutating func manifest(_ path: String) throws -> Manifest {
        let manifest = try Manifest(contentsOf: URL(fileURLWithPath: path), leavingOutMissingImages: true)
        warnings.inputs += manifest.rows.count
        warnings.addMissing(manifest.missingImages, manifest: manifest)
        for row in manifest.missingImages {
            if row.split == .test { testRows += 1; continue }
            recorded.append(.init(name: row.name, split: row.split, label: row.label, why: row.description))
        }
        return manifest
    }

    /// `prepare(manifest)`; where it fails, the rows of `splits` that `modality` cannot read are
    /// named and left out, and it runs once more on the others. A failure no row's file causes (a
    /// step's refusal, samples of unlike axes) ends the command as it would without the option.
    /// - Returns: what `prepare` made, and the manifest it made it of.
    mutating func preparing<T>(_ manifest: Manifest, splits: Set<Split>, reading modality: () throws -> PreparedModality,
                               _ prepare: (Manifest) throws -> T) throws -> (made: T, manifest: Manifest) {
        do { return (try prepare(manifest), manifest) } catch where !(error is Interrupted || error is MemoryShortage) {
            let rows = manifest.rows.filter { $0.split.map(splits.contains) ?? false }
            let problems = try modality().readProblems(rows)
            guard !problems.isEmpty else { throw error }
            let lines = Set(problems.map(\.line))
            for (row, problem) in zip(rows.filter { lines.contains($0.line) }, problems) {
                warnings.add("\(manifest.url.path): \(problem.message)")
                if row.split == .test { testRows += 1; continue }
                recorded.append(.init(name: row.path.lastPathComponent, split: row.split, label: row.label, why: problem.message))
            }
            let rest = manifest.leavingOut(lines: lines)
            try TrainingRun.requireTrainingRows(rest)
            return (try prepare(rest), rest)
        }
    }

    /// `rows` of the manifest trained on, with the rows left out recorded.
    func recording(in rows: ManifestRows) -> ManifestRows {
        var rows = rows
        rows.leftOut = recorded.isEmpty ? nil : recorded
        return rows
    }
}

/// What an error about the manifest at `path` names its rows by, for `hintingSkipUnreadable`:
/// each row's image file, and the words naming a missing one.
func manifestInputs(_ path: String?) -> [String] {
    guard let path, let manifest = try? Manifest(contentsOf: URL(fileURLWithPath: path), leavingOutMissingImages: true) else { return [] }
    return manifest.rows.map(\.path.path) + manifest.missingImages.map(\.description)
}
