import ArgumentParser
import CompSegCore
import CompSegIO
import CompSegTraining
import Foundation

/// `compseg split`: assigns a table of labelled samples to train, val and test (or to folds for
/// cross-validation), keeping each patient's samples in one split and each split's labels in
/// proportion, and writes the manifest train and compare read.
struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Assign labelled samples to train, val and test (or to cross-validation folds), each patient's samples to one split.",
        discussion: """
            --data is a manifest whose split column may be missing (it is not read): path and label, \
            and mask, truth and patient where given. Each patient's rows go to one split (a row naming \
            no patient is a patient of its own; ids differing only in case are one); each split gets about \
            its share of the cancer rows and of the cancer-free rows, and one row of each label first where \
            the patients allow. The same rows, in any order, and --seed give the same splits. With --folds K, \
            K manifests are written (OUT-fold1.csv, …): each fold's rows are its test split, and every row \
            is tested in exactly one.
            """)

    @Option(help: "The samples: a CSV file with columns path and label, and mask, truth and patient where given.") var data: String
    @Option(help: "The manifest to write (with --folds, the name its folds' manifests are made from: manifest.csv gives manifest-fold1.csv, …).")
    var out: String
    @Option(parsing: .unconditional, help: "Share of the rows for val, which chooses the kept epoch and the threshold.") var val = 0.2
    @Option(parsing: .unconditional,
            help: "Share of the rows for test, which evaluate scores (default 0.2; not with --folds, where each fold is one test split).")
    var test: Double?
    @Option(parsing: .unconditional, help: "Write this many cross-validation folds instead of one split.") var folds: Int?
    @Option(parsing: .unconditional, help: "Seed of the assignment.") var seed: UInt64 = 0
    @Flag(help: "Replace manifests already at --out, and remove an earlier split's folds beyond --folds (the --data file is never replaced).")
    var force = false

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name the manifest to write, got an empty path") }
        guard !out.hasSuffix("/") else {
            throw ValidationError("--out \(out) names a folder; --out names the manifest file to write (\(out)manifest.csv, say)")
        }
        guard (0..<1).contains(val) else { throw ValidationError("--val is a share of the rows, 0 or more and below 1 (0.2 is a fifth), got \(val)") }
        if let test, !(0..<1).contains(test) {
            throw ValidationError("--test is a share of the rows, 0 or more and below 1 (0.2 is a fifth), got \(test)")
        }
        try requireOption("--folds", folds, in: 2...100)
        if folds != nil, test != nil {
            throw ValidationError("--test: with --folds each fold is the test split of one manifest (a share of 1/K); leave --test out")
        }
        if let folds, val >= 1 - 1 / Double(folds) {
            throw ValidationError("--val \(val) leaves no train rows beside each fold's test share of 1/\(folds); give a smaller --val")
        }
        if folds == nil, val + (test ?? 0.2) >= 1 {
            throw ValidationError("--val \(val) and --test \(test ?? 0.2) leave no share for train; together they must stay below 1")
        }
    }

    func run() throws {
        let input = fileURL(data), target = fileURL(out)
        let manifest = try Manifest(contentsOf: input, readingSplits: false)
        let rows = manifest.rows
        let units = ManifestSplit.unitCount(rows)
        if let folds, folds > units {
            throw CLIError("--folds \(folds): the samples come from \(counted(units, "patient")) (a row naming none counted as one), and "
                           + "each fold's test split needs one at least; give --folds \(units) or fewer", usage: true)
        }
        let outputs = folds.map { k in (1...k).map { Self.foldFile(target, $0) } } ?? [target]
        let beyond = folds.map { Self.foldsBeyond(target, $0) } ?? []
        // Files the rows name are never written over or removed, nor the --data file.
        let inputs = Set(([input] + rows.flatMap { [$0.path, $0.mask, $0.truth].compactMap { $0 } }).compactMap { fileIdentity($0.path) })
        try checkOutputs(outputs, inputs: inputs, input: input, beyond: beyond)
        try checkOutputs(beyond, inputs: inputs, input: input, beyond: beyond, removing: true)
        for label in [SampleLabel.cancer, .cancerFree] where !rows.contains(where: { $0.label == label }) {
            warn("the samples hold no \(label.rawValue) row: train needs both labels to learn what only cancer samples contain")
        }
        if !manifest.patientsDifferingInCase.isEmpty {
            warn("patients " + manifest.patientsDifferingInCase.prefix(3).map { $0.map { "'\($0)'" }.joined(separator: ", ") }.joined(separator: "; ")
                 + " differ only in case: split keeps each such group in one split, but train and evaluate take them as different "
                 + "patients; write them alike")
        }
        let blank = manifest.rowsWithoutPatient
        if !blank.isEmpty {
            warn("\(counted(blank.count, "row")) of \(rows.count) name\(blank.count == 1 ? "s" : "") no patient (" + Train.lines(blank.map(\.line))
                 + "): each is split as a patient of its own; fill in the patient column")
        }
        let assignments = folds.map { ManifestSplit.folds(of: rows, count: $0, val: val, seed: seed) }
            ?? [ManifestSplit.splits(of: rows, val: val, test: test ?? 0.2, seed: seed)]
        let folder = target.deletingLastPathComponent()
        try createWritableFolder(folder, remedy: "choose another --out")
        // All folds or none: a failure midway leaves no mix of this split's folds and an earlier one's.
        try writeAllOrNothing(into: folder) { staging in
            for (url, splits) in zip(outputs, assignments) {
                let text = ManifestSplit.manifestText(rows, splits: splits, from: folder)
                try writeDurably(Data(text.utf8), to: staging.appendingPathComponent(url.lastPathComponent))
            }
        }
        for file in beyond { try FileManager.default.removeItem(at: file) }
        let named = Set(rows.compactMap { $0.patient?.lowercased() }).count
        let written: String = outputs.count == 1 ? target.path
            : "\(outputs.count) manifests, \(outputs[0].path) to \(outputs.last!.lastPathComponent)"
        let of: String = named == 0 ? "" : " of \(counted(named, "patient"))" + (blank.isEmpty ? "" : " and \(blank.count) naming none")
        let ignored: String = manifest.columns.contains("split") ? " (the split column of \(input.lastPathComponent) is not read)" : ""
        let removed: String = beyond.isEmpty ? "" : "; removed the earlier split's " + beyond.map(\.lastPathComponent).joined(separator: ", ")
        print("Wrote \(written): \(counted(rows.count, "sample"))\(of), seed \(seed)\(ignored)\(removed)")
        for (k, splits) in assignments.enumerated() {
            if folds != nil { print("fold \(k + 1): \(outputs[k].lastPathComponent)") }
            print(Self.table(rows, splits, patients: named > 0))
            let fold = folds == nil ? nil : k + 1
            if rows.contains(where: { $0.label == .cancer }) && rows.contains(where: { $0.label == .cancerFree }) {
                warnAboutMissingLabels(rows, splits, fold: fold)
            }
            warnAboutShares(rows, splits, fold: fold)
        }
    }

    /// Earlier folds of `target`'s name numbered beyond `folds` (`cv-fold4.csv` for --folds 3), in number order.
    static func foldsBeyond(_ target: URL, _ folds: Int) -> [URL] {
        let folder = target.deletingLastPathComponent(), stem = target.deletingPathExtension().lastPathComponent + "-fold"
        let suffix = target.pathExtension.isEmpty ? "" : "." + target.pathExtension
        let numbered = ((try? folderEntries(folder)) ?? []).compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(stem), name.hasSuffix(suffix), name.count > stem.count + suffix.count,
                  let k = Int(name.dropFirst(stem.count).dropLast(suffix.count)), k > folds else { return nil }
            return (k, folder.appendingPathComponent(name))
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Warns of a split whose share of the rows misses the one asked for by more than a tenth: a
    /// patient's rows stay together, so large patients make coarse steps.
    func warnAboutShares(_ rows: [Manifest.Row], _ splits: [Split], fold: Int?) {
        let asked: [(Split, Double, String)] = folds.map { [(.test, 1 / Double($0), "1/\($0) (--folds \($0))"), (.val, val, "--val \(val)")] }
            ?? [(.val, val, "--val \(val)"), (.test, test ?? 0.2, "--test \(test ?? 0.2)")]
        for (split, share, option) in asked where share > 0 {
            let got = Double(splits.filter { $0 == split }.count) / Double(rows.count)
            guard abs(got - share) > 0.1 else { continue }
            let largest = Dictionary(grouping: rows.compactMap { $0.patient?.lowercased() }, by: { $0 }).values.map(\.count).max() ?? 1
            warn((fold.map { "fold \($0): " } ?? "") + String(format: "%@ holds %.0f%% of the samples where %@ asked %.0f%%", split.rawValue, 100 * got,
                                                             option, 100 * share)
                 + (largest > 1 ? ": each patient's samples stay together, and the largest patient has \(largest)" : ""))
        }
    }

    /// `target` with "-foldK" before its extension.
    static func foldFile(_ target: URL, _ k: Int) -> URL {
        let ext = target.pathExtension, stem = target.deletingPathExtension().lastPathComponent
        return target.deletingLastPathComponent().appendingPathComponent("\(stem)-fold\(k)" + (ext.isEmpty ? "" : ".\(ext)"))
    }

    /// Refuses a file to write (or, `removing`, an earlier fold to remove) that is a folder, the
    /// --data file or a file its rows name (`inputs`: their identities), or that is there already
    /// without --force, or with --force but is no manifest (split replaces and removes only those).
    func checkOutputs(_ urls: [URL], inputs: Set<String>, input: URL, beyond: [URL], removing: Bool = false) throws {
        let doing = removing ? "remove" : "write over"
        for url in urls {
            var folder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &folder), folder.boolValue {
                throw CLIError("\(url.path) is a folder" + (removing ? ", named as a fold of --out; choose another --out"
                                                              : "; --out names the manifest file to write (\(url.path)/manifest.csv, say)"), usage: true)
            }
            if let id = fileIdentity(url.path), inputs.contains(id) {
                throw CLIError("\(url.path) is " + (id == fileIdentity(input.path) ? "the --data file" : "a file the rows of \(input.lastPathComponent) name")
                               + ", which split does not \(doing); choose another --out", usage: true)
            }
            guard entryExists(at: url) else { continue }
            if !force {
                let stale = beyond.isEmpty ? "" : " (and --force removes \(beyond.map(\.lastPathComponent).joined(separator: ", ")), the earlier "
                    + "split's folds beyond --folds \(folds ?? 0), which a loop over the folds would take too)"
                throw CLIError("\(url.path) exists already; pass --force to replace it\(stale), or choose another --out", usage: true)
            }
            guard Self.isManifest(url) else {
                throw CLIError("\(url.path) exists and is no manifest (its first line is not path,label,split…): split would \(doing) it, "
                               + "and --force replaces only manifests; move it or choose another --out", usage: true)
            }
        }
    }

    /// Whether `url` reads as a manifest with splits: its first line names path, label and split.
    static func isManifest(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url), let head = try? handle.read(upToCount: 4096) else { return false }
        try? handle.close()
        let first = String(decoding: head, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let columns = first.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces.union(["\u{FEFF}", "\""])) }
        return ["path", "label", "split"].allSatisfy(columns.contains)
    }

    /// Each split's samples, their labels and (where named) patients, as aligned columns.
    static func table(_ rows: [Manifest.Row], _ splits: [Split], patients: Bool) -> String {
        var lines = ["  split   samples  cancer  cancer-free" + (patients ? "  patients" : "")]
        for split in Split.allCases {
            let these = zip(rows, splits).filter { $0.1 == split }.map(\.0)
            let cancer = these.filter { $0.label == .cancer }.count
            func column(_ n: Int, _ width: Int) -> String { String(repeating: " ", count: max(width - String(n).count, 0)) + String(n) }
            lines.append("  " + split.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0) + column(these.count, 9) + column(cancer, 8)
                         + column(these.count - cancer, 13) + (patients ? column(Set(these.compactMap { $0.patient?.lowercased() }).count, 10) : ""))
        }
        return lines.joined(separator: "\n")
    }

    /// Warns of a split given a share that holds no rows, or rows of one label only, saying what it then cannot do.
    func warnAboutMissingLabels(_ rows: [Manifest.Row], _ splits: [Split], fold: Int?) {
        let shares: [Split: Double] = [.train: 1, .val: val, .test: folds == nil ? test ?? 0.2 : 1]
        for split in Split.allCases where shares[split]! > 0 {
            let labels = Set(zip(rows, splits).filter { $0.1 == split }.compactMap(\.0.label))
            guard labels.count < 2 else { continue }
            let what = labels.isEmpty ? "no sample" : "only \(labels.first!.rawValue) samples"
            let cost = split == .train ? "train needs both labels to learn" : split == .val
                ? "validation needs both labels to choose the kept epoch and the threshold" : "evaluate needs both labels for an AUC"
            warn((fold.map { "fold \($0): " } ?? "") + "\(split.rawValue) has \(what), and \(cost); "
                 + (folds != nil && split == .test ? "give fewer --folds, or more samples (or patients)" : "give more samples (or patients), or a larger share"))
        }
    }
}
