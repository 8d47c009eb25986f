import CompSegCore
import CompSegIO
import CompSegTraining
import Foundation

/// What `train` and `compare` with `--skip-unreadable` leave out of a manifest: rows whose image
/// is missing, cannot be read by the modality's reader, or holds no tissue, or whose mask or truth
/// file is missing or cannot be read. Each is named in a warning, and the train and val rows are
/// recorded in the run's model.json, so that its resumes leave out the same ones.
struct LeavingOutRows {
    let warnings = LeftOut()
    /// The train and val rows left out so far, as model.json records them.
    private(set) var recorded: [ManifestRows.LeftOutRow]
    /// The test rows left out so far (`compare` evaluates on the others).
    private(set) var testRows = 0

    /// - Parameter recorded: the rows a run being resumed left out when it began.
    init(recorded: [ManifestRows.LeftOutRow] = []) { self.recorded = recorded }

    /// Names the test rows of `manifest` left out for a missing file (read again for a resumed
    /// run: its train and val rows are left out as the run recorded them).
    mutating func namingTestRowsMissingFiles(of manifest: Manifest) {
        let missing = manifest.rowsMissingFiles.filter { $0.split == .test }
        warnings.inputs += manifest.rows.count
        warnings.addMissing(missing, manifest: manifest)
        testRows += missing.count
    }

    /// The manifest at `path`, its rows whose image is missing, or whose mask or truth file is
    /// missing or cannot be read, left out and named.
    mutating func manifest(_ path: String) throws -> Manifest {
        let manifest = try Manifest(contentsOf: fileURL(path), leavingOutRowsMissingFiles: true)
        warnings.inputs += manifest.rows.count
        warnings.addMissing(manifest.rowsMissingFiles, manifest: manifest)
        for row in manifest.rowsMissingFiles {
            if row.split == .test { testRows += 1; continue }
            recorded.append(.init(path: row.path, name: row.name, split: row.split, label: row.label, why: row.description))
        }
        return manifest
    }

    /// `prepare(manifest)`; where it fails, the rows of `splits` that `modality` cannot read are
    /// named and left out, and it runs once more on the others. A failure no row's file causes (a
    /// step's refusal, samples of unlike axes) ends the command as it would without the option.
    /// - Returns: what `prepare` made, and the manifest it made it of.
    mutating func preparing<T>(_ manifest: Manifest, splits: Set<Split>, reading modality: () throws -> PreparedModality,
                               fitted: Bool = false, _ prepare: (Manifest) throws -> T) throws -> (made: T, manifest: Manifest) {
        do { return (try prepare(manifest), manifest) } catch where !(error is Interrupted || error is MemoryShortage) {
            let rows = manifest.rows.filter { $0.split.map(splits.contains) ?? false }
            let problems = try modality().readProblems(rows, preparing: fitted)
            guard !problems.isEmpty else { throw error }
            let lines = Set(problems.map(\.line))
            for (row, problem) in zip(rows.filter { lines.contains($0.line) }, problems) {
                warnings.add("\(manifest.url.path): \(problem.message)")
                if row.split == .test { testRows += 1; continue }
                recorded.append(.init(path: manifest.relativePath(of: row.path), name: row.path.lastPathComponent, split: row.split,
                                      label: row.label, why: problem.message))
            }
            let rest = manifest.leavingOut(lines: lines)
            try requireTrainingRows(rest)
            return (try prepare(rest), rest)
        }
    }

    /// `TrainingRun.requireTrainingRows`, its refusal saying that rows were left out (or that
    /// none could be read).
    func requireTrainingRows(_ manifest: Manifest) throws {
        do { try TrainingRun.requireTrainingRows(manifest) } catch let error as TrainingError where warnings.count > 0 {
            try warnings.report()  // every row left out: says so
            throw TrainingError("\(error) (after --skip-unreadable left out \(counted(warnings.count, "row")), named above)")
        }
    }

    /// Warns where the validation split had rows and has none left: the run then monitors its
    /// training loss and chooses no threshold.
    func warnIfValidationGone(given: Manifest, kept: Manifest) {
        guard !given.rows(in: .val).isEmpty || recorded.contains(where: { $0.split == "val" }), kept.rows(in: .val).isEmpty else { return }
        warn("--skip-unreadable left out every validation row: the run keeps the epoch of lowest training loss, and chooses "
             + "no mask threshold (segment, overlay and evaluate apply the paper's 0.35 unless given --threshold)")
    }

    /// The manifest a resumed run reads (`train --resume`, `compare --resume`): the train and val
    /// rows it left out when it began (`leftOut`, from its model.json) left out again, readable or
    /// not, and no others, said; with `skipUnreadable`, test rows whose files are missing too,
    /// named, and what leaves out more test rows (`preparing`).
    static func resumed(_ url: URL, leftOut: [ManifestRows.LeftOutRow]?, skipUnreadable: Bool)
        throws -> (manifest: Manifest, skipping: LeavingOutRows?) {
        let manifest = try Manifest(contentsOf: url, leavingOut: leftOut, leavingOutTestRows: skipUnreadable)
        sayResumed(leftOut)
        guard skipUnreadable else { return (manifest, nil) }
        var skipping = LeavingOutRows(recorded: leftOut ?? [])
        skipping.namingTestRowsMissingFiles(of: manifest)
        return (manifest, skipping)
    }

    /// Says which rows a resumed run leaves out as it began (`rows.leftOut` of its model.json).
    private static func sayResumed(_ leftOut: [ManifestRows.LeftOutRow]?) {
        guard let leftOut, !leftOut.isEmpty else { return }
        print("Leaving out \(counted(leftOut.count, "row")) as the run began (model.json's rows.leftOut): "
              + leftOut.prefix(5).map { "\($0.path ?? $0.name) (\($0.split))" }.joined(separator: ", ") + (leftOut.count > 5 ? ", …" : ""))
    }

    /// `rows` of the manifest trained on, with `leftOut` recorded (nil where none).
    static func recording(_ leftOut: [ManifestRows.LeftOutRow]?, in rows: ManifestRows) -> ManifestRows {
        var rows = rows
        rows.leftOut = leftOut?.isEmpty == false ? leftOut : nil
        return rows
    }

    /// The rows the begun entries of a comparison left out, the same in each (nil: none).
    /// - Throws: naming two entries that left out different rows.
    static func recorded(in begun: [String: RunConfiguration]) throws -> [ManifestRows.LeftOutRow]? {
        let entries = begun.sorted { $0.key < $1.key }.map { ($0.key, Set(($0.value.rows?.leftOut ?? []).map { "\($0.split):\($0.path ?? $0.name)" })) }
        if let first = entries.first, let other = entries.first(where: { $0.1 != first.1 }) {
            throw CLIError("entries \(first.0) and \(other.0) were begun leaving out different rows (model.json's rows.leftOut), "
                           + "so no one set of data resumes both; resume them apart with train --resume")
        }
        return begun.sorted { $0.key < $1.key }.first?.value.rows?.leftOut
    }
}

/// What an error about the manifest at `path` names its rows by, for `hintingSkipUnreadable`:
/// each row's image file, and the words naming a missing one.
func manifestInputs(_ path: String?) -> [String] {
    guard let path, let manifest = try? Manifest(contentsOf: fileURL(path), leavingOutRowsMissingFiles: true) else { return [] }
    return manifest.rows.map(\.path.path) + manifest.rowsMissingFiles.map(\.description)
}
