import CompSegCore
import CompSegIO
import Foundation

/// A dataset manifest: a CSV file with header `path,label,split` and optional columns `mask`
/// (a tissue-mask PNG overriding the modality's own), `truth` (a ground-truth tumor mask PNG,
/// used only by evaluation) and `patient` (who the sample was taken from, where several samples
/// come from one: a patient's samples belong in one split, and evaluation counts them as one
/// source). Relative paths are relative to the manifest's folder. A manifest of
/// samples to segment (`labelled: false`) needs only `path`: its label and split may be left out.
public struct Manifest: Sendable {
    public struct Row: Sendable, Equatable {
        /// 1-based line number in the file (the header is line 1).
        public let line: Int
        public let path: URL
        /// Nil only in a manifest read with `labelled: false`, where the cell is empty or absent.
        public let label: SampleLabel?
        public let split: Split?
        public let mask: URL?
        public let truth: URL?
        /// The patient (or animal, donor: the source) the sample was taken from; nil where not given.
        public var patient: String? = nil
    }

    public let url: URL
    public private(set) var rows: [Row]
    /// The header's columns, in lower case, in the file's order.
    public private(set) var columns: [String] = []
    /// With `leavingOutRowsMissingFiles`, the rows left out because a file they name is missing
    /// or cannot be read.
    public private(set) var rowsMissingFiles: [RowMissingFile] = []

    /// A row left out because its image is missing, or its mask or truth file is missing or
    /// cannot be read: its line, its image's path and file name, its split and label where it
    /// gives them, and what is wrong ("line N: image file F not found", "line N: mask F: is a TIFF
    /// file, not a PNG").
    public struct RowMissingFile: Sendable, CustomStringConvertible {
        public let line: Int
        /// Its image's path as `relativePath(of:)` gives it, and the file's name.
        public let path: String, name: String
        public let split: Split?
        public let label: SampleLabel?
        public let description: String
    }

    public func rows(in split: Split) -> [Row] { rows.filter { $0.split == split } }

    /// Reads and checks the whole manifest: every row's label and split (where `labelled` is false,
    /// those given), that each named file exists, and that no file is listed twice. A UTF-8
    /// byte-order mark and CR-only line endings are accepted. With `leavingOutRowsMissingFiles`, a
    /// row whose image is missing, or whose mask or truth file is missing or cannot be read whole
    /// (`MaskFile.checkReads`), is left out (`rowsMissingFiles`) instead. Without
    /// `requiringTruthFiles` (for a command that does not read them), a truth file that is missing
    /// is no error: its row has no truth. Without `readingSplits` (for `compseg split`, which
    /// assigns them), the split column may be absent, and its cells are not read.
    /// - Throws: `ManifestError` listing every bad row (file, line, what is wrong, what was expected).
    public init(contentsOf url: URL, labelled: Bool = true, leavingOutRowsMissingFiles: Bool = false, requiringTruthFiles: Bool = true,
                readingSplits: Bool = true) throws {
        self.url = url
        do { try requireExistingFile(url) } catch let e as IOError {
            // A folder given for its manifest, or a run folder for a manifest: said what to give instead.
            let within = { (name: String) in FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) }
            let hint = within("model.json") ? "; it is a run folder (model.json), which --model takes"
                : within("manifest.csv") ? "; it holds manifest.csv: give \(url.appendingPathComponent("manifest.csv").path)" : ""
            throw ManifestError(file: url.path, problems: [e.message + hint])
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ManifestError(file: url.path, problems: ["cannot be read (missing or not a file)"])
        }
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            throw ManifestError(file: url.path, problems: ["is UTF-16 text (a spreadsheet's \"Unicode text\"); save it as CSV in UTF-8"])
        }
        if let format = FileSignature.binaryFormat(Array(data.prefix(16))) {
            throw ManifestError(file: url.path, problems: ["is \(format) file, not a manifest: CSV text with a header line path,label,split, "
                                                           + "whose path column names the images"])
        }
        // A byte-order mark (spreadsheets write one) and old Mac line endings are read as text is meant.
        if let nul = data.firstIndex(of: 0) {  // invisible in any message, and no path holds one
            let line = data[..<nul].filter { $0 == 10 }.count + 1
            throw ManifestError(file: url.path, problems: ["line \(line): holds a NUL byte (byte \(nul - data.startIndex)): the file "
                                                           + "is not text, or is damaged; a manifest is CSV text"])
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if text.drop(while: \.isWhitespace).first == "{" {
            throw ManifestError(file: url.path, problems: ["is JSON (a run's model.json?), not a manifest: CSV text with a header line "
                                                           + "path,label,split"])
        }
        if !text.contains("\n") { text = text.replacingOccurrences(of: "\r", with: "\n") }
        // A settings file (YAML: `# comments`, then `key: value` lines) given where the manifest belongs.
        let lines = text.prefix(4096).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let first = lines.first(where: { !$0.hasPrefix("#") }), first.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_-]*:( .*)?/) != nil,
           !first.contains(",") || lines.first!.hasPrefix("#") {
            throw ManifestError(file: url.path, problems: ["is a settings file (YAML: '\(first.prefix(60))'), not a manifest: CSV text with a "
                                                           + "header line path,label,split"])
        }
        let table: [[String]]
        do { table = try CSV.parse(text, file: url.path) } catch let e as IOError {
            throw ManifestError(file: url.path, problems: [e.message])
        }
        guard var header = table.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw ManifestError(file: url.path, problems: ["is empty; expected a header line path,label,split"])
        }
        // Empty columns after the last named one, as spreadsheets pad a sheet, are no columns (their cells must be empty).
        while header.count > 1, header.last?.isEmpty == true { header.removeLast() }
        var problems: [String] = [], missingRows: [RowMissingFile] = [], lost: String?, saidWhere = false
        let known = ["path", "label", "split", "mask", "truth", "patient"]
        // A first line of data, with no header above it: a file name first, a known label or split after.
        if !header.contains(where: known.contains), let first = header.first, first.contains("."),
           header.dropFirst().contains(where: { SampleLabel(parsing: $0) != nil || Split(rawValue: $0) != nil }) {
            throw ManifestError(file: url.path, problems: [
                "line 1: '\(table[0].joined(separator: ","))' is a row of data: the header line is missing; put path,label,split"
                + (header.count > 3 ? ",truth (or the columns the rows give, in their order)" : "") + " above it"])
        }
        if header.count == 1, let separator = [";", "\t", "|"].first(where: { header[0].contains($0) }) {
            throw ManifestError(file: url.path, problems: [
                "line 1: the header '\(table[0][0].trimmingCharacters(in: .whitespaces))' is one column: its columns are separated by "
                + (separator == "\t" ? "tabs" : "'\(separator)'") + "; a manifest separates them by commas (path,label,split)"])
        }
        // A column as the file writes it (names are matched in any case).
        func given(_ column: String) -> String {
            table[0].map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.lowercased() == column } ?? column
        }
        for column in header.reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) where !known.contains(column) {
            problems.append("line 1: " + (column.isEmpty ? "a column without a name between named ones (a comma too many?)"
                                          : "unknown column '\(given(column))'") + "; known columns: \(known.joined(separator: ", "))")
        }
        for column in known where header.filter({ $0 == column }).count > 1 {
            problems.append("line 1: column '\(column)' appears more than once; which one is meant cannot be told")
        }
        let required = (labelled ? ["path", "label"] + (readingSplits ? ["split"] : []) : ["path"]).filter { !header.contains($0) }
        if !required.isEmpty {
            problems.append("line 1: missing column \(required.joined(separator: ", ")); the header must include "
                            + (labelled ? readingSplits ? "path,label,split" : "path,label" : "path"))
            throw ManifestError(file: url.path, problems: problems)
        }
        let base = url.deletingLastPathComponent()
        func column(_ name: String, _ fields: [String]) -> String? {
            header.firstIndex(of: name).flatMap { $0 < fields.count ? fields[$0].trimmingCharacters(in: .whitespaces) : nil }
                .flatMap { $0.isEmpty ? nil : $0 }
        }
        /// A cell as written, blanks around it kept: the name of a file whose name begins or ends with one.
        func untrimmed(_ name: String, _ fields: [String]) -> String? {
            header.firstIndex(of: name).flatMap { $0 < fields.count ? fields[$0] : nil }
        }
        func file(_ text: String?, _ line: Int, _ what: String, asWritten: String? = nil) -> URL? {
            guard let text else { return nil }
            // As the system resolves it, `.` dropped (a row `./a.h5` is the file a.h5); no `~` expanded, as before.
            func located(_ text: String) -> URL { fileURL(text, from: base, home: false) }
            // A cell with blanks around it names a file of that name where one is there (else the blanks go); a name with
            // accents may be stored composed (é) or decomposed (e + ◌́), as macOS writes it: either is taken.
            var u = located(text)
            if let asWritten, asWritten != text, FileManager.default.fileExists(atPath: located(asWritten).path) {
                u = located(asWritten)
            } else if !FileManager.default.fileExists(atPath: u.path) {
                u = [text.precomposedStringWithCanonicalMapping, text.decomposedStringWithCanonicalMapping].map(located)
                    .first { FileManager.default.fileExists(atPath: $0.path) } ?? u
            }
            if !FileManager.default.fileExists(atPath: u.path) {
                if what == "truth" && !requiringTruthFiles { return nil }
                // A Windows path (spots\a.h5, C:\data\a.h5): its backslashes are part of the name here.
                // The first relative path missing says where it was looked for: relative to the manifest's folder.
                let hint = text.contains("\u{FFFD}") ? " (the manifest is not UTF-8 text, so the name's letters shown as \u{FFFD} could not "
                    + "be read: save the manifest as UTF-8)"
                    : text.contains("\\") ? " (a backslash does not separate folders here: write / instead)"
                    : !text.hasPrefix("/") && !saidWhere ? " (looked for \(u.path): a path not starting with / is relative to the "
                        + "folder holding the manifest" + (FileManager.default.fileExists(atPath: text)
                            ? "; \(text) is there relative to the working folder, which the manifest's paths are not" : "") + ")" : ""
                if !text.hasPrefix("/") { saidWhere = true }
                // A link there that loops or leads nowhere is said to be one (the file "is" there, as a name).
                var link = ""
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: u.path) {
                    var status = stat()
                    link = stat(u.path, &status) != 0 && errno == ELOOP ? " (it is a symbolic link that loops)"
                        : " (it is a symbolic link to \(target), which does not exist)"
                }
                let missing = "line \(line): \(what) file \(text) not found" + (link.isEmpty ? hint : link)
                if leavingOutRowsMissingFiles {
                    lost = lost ?? missing
                    return nil
                }
                problems.append(missing)
            } else if what != "image" && (what != "truth" || requiringTruthFiles) && lost == nil {
                // Masks and truths are PNG or GeoJSON: one that is not is named with the missing ones.
                // With the option, one that cannot be read whole (cut short, damaged) is left out too.
                do { try leavingOutRowsMissingFiles ? MaskFile.checkReads(u) : FileSignature.requireMask(u) } catch {
                    if leavingOutRowsMissingFiles { lost = lost ?? "line \(line): \(what) \(error)" } else { problems.append("line \(line): \(what) \(error)") }
                }
            }
            return u
        }
        var rows: [Row] = []
        for (index, fields) in table.enumerated().dropFirst() {
            let line = index + 1
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            var fields = fields
            while fields.count > header.count, fields.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { fields.removeLast() }
            // Two exports joined (`cat a.csv b.csv`): the second's header, byte-order mark and all, is no sample.
            if fields.map({ $0.trimmingCharacters(in: .whitespaces.union(["\u{FEFF}"])).lowercased() }) == header {
                problems.append("line \(line): repeats the header (two manifests joined into one?); remove it")
                continue
            }
            guard fields.count == header.count else {
                problems.append("line \(line): \(fields.count) fields, the header has \(header.count)")
                continue
            }
            lost = nil
            let path = file(column("path", fields), line, "image", asWritten: untrimmed("path", fields))
            if column("path", fields) == nil { problems.append("line \(line): empty path") }
            let labelText = column("label", fields), splitText = readingSplits ? column("split", fields) : nil
            let label = labelText.flatMap(SampleLabel.init(parsing:)), split = splitText.flatMap { Split(rawValue: $0.lowercased()) }
            let missing = (label: labelled && labelText == nil, split: labelled && readingSplits && splitText == nil)
            if label == nil && (labelText != nil || missing.label) {
                // A word processor's or spreadsheet's dash looks like the hyphen it replaced.
                let dash = labelText?.first { "\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2212}".contains($0) }
                problems.append("line \(line): label '\(labelText ?? "")'; expected 1, cancer, 0 or cancer-free"
                                + (labelled ? "" : " (this command reads no labels: leave the cell empty, or drop the column)")
                                + (dash.map { " (its '\($0)' is U+\(String($0.unicodeScalars.first!.value, radix: 16, uppercase: true)), "
                                    + "not a hyphen: an editor's autocorrection; write cancer-free with a plain -)" } ?? ""))
            }
            if split == nil && (splitText != nil || missing.split) {
                problems.append("line \(line): split '\(splitText ?? "")'; expected train, val or test"
                                + (labelled ? "" : " (this command reads no splits: leave the cell empty, or drop the column)"))
            }
            let mask = file(column("mask", fields), line, "mask", asWritten: untrimmed("mask", fields))
            let truth = file(column("truth", fields), line, "truth", asWritten: untrimmed("truth", fields))
            // The sample's own image (not a PNG, so refused as a mask or truth): said as the mix-up it is.
            for (what, given, takes) in [("mask", mask, "the tissue (white where tissue, black elsewhere)"),
                                         ("truth", truth, "the tumor (white where tumor, black elsewhere)")]
            where given != nil && path != nil && given!.standardizedFileURL.path == path!.standardizedFileURL.path
                && problems.contains(where: { $0.hasPrefix("line \(line): \(what) ") }) {
                problems.removeAll { $0.hasPrefix("line \(line): \(what) ") }
                problems.append("line \(line): its \(what) is the sample's own image; the \(what) column takes a PNG of \(takes)")
            }
            if let lost, let text = column("path", fields) {
                // The image's path as found, as `relativePath(of:)` gives a readable row's; as written where it is missing.
                let written = path ?? fileURL(text, from: base, home: false)
                missingRows.append(RowMissingFile(line: line, path: Self.relative(written, to: base), name: written.lastPathComponent,
                                                  split: split, label: label, description: lost))
            } else if let path, label != nil || !labelled, split != nil || !labelled || !readingSplits {
                rows.append(Row(line: line, path: path, label: label, split: split, mask: mask, truth: truth, patient: column("patient", fields)))
            }
        }
        if rows.isEmpty && problems.isEmpty && missingRows.isEmpty { problems.append("has no samples") }
        // The same file twice: a duplicated row, or one image in two splits (which leaks it into evaluation),
        // also by another name (a symbolic or hard link): told by the file itself, its device and inode.
        var first: [String: Row] = [:]
        for row in rows {
            let key = fileIdentity(row.path.path) ?? row.path.standardizedFileURL.path
            if let earlier = first[key] {
                let alias = earlier.path.standardizedFileURL.path == row.path.standardizedFileURL.path ? ""
                    : " as \(earlier.path.path) (the same file by another name: a link)"
                var differing: [String] = []
                if earlier.split != row.split { differing.append("split \(earlier.split?.rawValue ?? "none"), here \(row.split?.rawValue ?? "none")") }
                if earlier.label != row.label { differing.append("label \(earlier.label?.rawValue ?? "none"), here \(row.label?.rawValue ?? "none")") }
                problems.append("line \(row.line): \(row.path.path) is listed already on line \(earlier.line)" + alias
                                + (differing.isEmpty ? "" : " (" + differing.joined(separator: "; ") + ")"))
            } else {
                first[key] = row
            }
        }
        guard problems.isEmpty else { throw ManifestError(file: url.path, problems: problems) }
        self.rows = rows
        columns = header
        rowsMissingFiles = missingRows
    }
}

extension Manifest {
    /// `file`'s path from the manifest's folder where it lies within, else whole: a row's file as
    /// the manifest names it, which stays the same when the manifest moves with its data.
    public func relativePath(of file: URL) -> String { Self.relative(file, to: url.deletingLastPathComponent()) }

    static func relative(_ file: URL, to folder: URL) -> String {
        let prefix = folder.path + "/", path = file.path
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Patient ids that differ only in case ('P1', 'p1'): one patient written two ways, most
    /// likely, which compseg takes as two. Each group sorted.
    public var patientsDifferingInCase: [[String]] {
        Dictionary(grouping: Set(rows.compactMap(\.patient)), by: { $0.lowercased() }).values
            .filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// The rows that name no patient in a manifest whose other rows name one.
    public var rowsWithoutPatient: [Row] {
        rows.contains { $0.patient != nil } ? rows.filter { $0.patient == nil } : []
    }

    /// The patients whose rows lie in more than one split, in the order of their first rows: each
    /// with its splits in train, val, test order and each split's lines.
    public var patientsInSeveralSplits: [(patient: String, splits: [(split: Split, lines: [Int])])] {
        var order: [String] = [], rowsOf: [String: [Row]] = [:]
        for row in rows {
            guard let patient = row.patient, row.split != nil else { continue }
            if rowsOf[patient] == nil { order.append(patient) }
            rowsOf[patient, default: []].append(row)
        }
        return order.compactMap { patient in
            let splits: [(split: Split, lines: [Int])] = Split.allCases.compactMap { split -> (split: Split, lines: [Int])? in
                let lines = rowsOf[patient]!.filter { $0.split == split }.map(\.line)
                return lines.isEmpty ? nil : (split, lines)
            }
            return splits.count > 1 ? (patient, splits) : nil
        }
    }

    /// The manifest without the rows on `lines` (rows `--skip-unreadable` left out).
    public func leavingOut(lines: Set<Int>) -> Manifest {
        var kept = self
        kept.rows = rows.filter { !lines.contains($0.line) }
        return kept
    }

    /// The manifest at `url` as a run begun with `--skip-unreadable` reads it again, `recorded`
    /// being the train and val rows it left out: rows of those paths and splits are left out,
    /// readable or not; with `leavingOutTestRows`, so is a test row whose image is missing or whose
    /// mask or truth file is missing or cannot be read (`rowsMissingFiles`); any other row is read
    /// as `init(contentsOf:)` reads it. Nil `recorded` (a run begun without the option) and no `leavingOutTestRows` is that init.
    /// - Throws: `ManifestError` as `init(contentsOf:)` does, naming a train or val row whose file
    ///   is missing or cannot be read though the run trained on it.
    public init(contentsOf url: URL, leavingOut recorded: [ManifestRows.LeftOutRow]?, leavingOutTestRows: Bool) throws {
        guard recorded != nil || leavingOutTestRows else { self = try Manifest(contentsOf: url); return }
        let recorded = recorded ?? []
        let manifest = try Manifest(contentsOf: url, leavingOutRowsMissingFiles: true)
        // By path from the manifest's folder (two folders may hold files of one name); by name in runs that recorded none.
        // A path as an earlier compseg recorded it (`./a.h5`, `a//b.h5`) names the file the row's path does now.
        let base = url.deletingLastPathComponent()
        func resolved(_ path: String) -> String { fileURL(path.precomposedStringWithCanonicalMapping, from: base, home: false).path }
        func isRecorded(path: String, name: String, split: Split?) -> Bool {
            recorded.contains { r in
                r.split == (split?.rawValue ?? "")
                    && (r.path.map { resolved($0) == resolved(path) } ?? (r.name == name.precomposedStringWithCanonicalMapping))
            }
        }
        let refused = manifest.rowsMissingFiles.filter {
            $0.split == .test ? !leavingOutTestRows : !isRecorded(path: $0.path, name: $0.name, split: $0.split)
        }
        guard refused.isEmpty else {
            throw ManifestError(file: url.path, problems: refused.map { $0.split == .test ? $0.description : "\($0) (the run trained on it: put it back)" })
        }
        let leftOut = manifest.rows.filter {
            $0.split != .test && isRecorded(path: manifest.relativePath(of: $0.path), name: $0.path.lastPathComponent, split: $0.split)
        }
        self = manifest.leavingOut(lines: Set(leftOut.map(\.line)))
        rowsMissingFiles = manifest.rowsMissingFiles.filter { $0.split == .test }
    }
}

public struct ManifestError: Error, CustomStringConvertible {
    public let file: String
    public let problems: [String]
    public init(file: String, problems: [String]) { self.file = file; self.problems = problems }
    /// Up to 20 problems, then how many more: a manifest of many rows, all wrong alike, is told by
    /// the first. A problem longer than `longestProblem` characters (a path of megabytes) is cut in its middle.
    public var description: String {
        let cut = Self.grouped(problems).map { $0.count > Self.longestProblem ? $0.prefix(Self.longestProblem / 2) + " … " + $0.suffix(Self.longestProblem / 4) : $0 }
        let shown = cut.count > 25 ? Array(cut.prefix(20)) + ["… and \(cut.count - 20) more problems"] : cut
        return "\(file): " + (cut.count > 25 ? "\(cut.count) problems:\n" + shown.map { "  " + $0 }.joined(separator: "\n")
                                : listed(problems: cut))
    }

    static let longestProblem = 4000

    /// The problems, those of three rows or more that say the same of each sample ("line N:
    /// sample ID: …", a step the modality's settings make refuse every one) said once, naming
    /// their lines and samples.
    static func grouped(_ problems: [String]) -> [String] {
        let parsed = problems.map { p in p.wholeMatch(of: /line ([0-9]+): sample ([^:\s]+): (.+)/).map { (String($0.1), String($0.2), String($0.3)) } }
        var rows: [String: [(line: String, sample: String)]] = [:]
        for case let (line, sample, said)? in parsed { rows[said, default: []].append((line, sample)) }
        var done = Set<String>(), out: [String] = []
        for (problem, p) in zip(problems, parsed) {
            guard let (_, _, said) = p, let alike = rows[said], alike.count >= 3 else { out.append(problem); continue }
            guard done.insert(said).inserted else { continue }
            func few(_ items: [String]) -> String { items.prefix(5).joined(separator: ", ") + (items.count > 5 ? ", …" : "") }
            out.append("lines \(few(alike.map(\.line))) (\(alike.count) samples: \(few(alike.map(\.sample)))): \(said)")
        }
        return out
    }
}

/// A manifest's training and validation rows in brief: how many, and a digest of each row's file
/// (its name and size, so that moved or re-pathed data keep it), label and split.
public struct ManifestRows: Codable, Sendable, Equatable, CustomStringConvertible {
    public var train: Int
    public var validation: Int
    /// FNV-1a (64-bit, hex) of the rows' lines "split,name,bytes,label", sorted: not a security measure.
    public var digest: String
    /// The same of the lines in the manifest's order, which the batches follow (nil in runs
    /// written before it was recorded).
    public var order: String?
    /// The same of each row's file contents, sampled (`sampledContents`), with its tissue mask's:
    /// a file written over with another sample of its size changes it (nil in runs written before
    /// it was recorded, or when not read). Every file a sample is read from is read (the reader's
    /// `ImageSource.files(of:)`: the data beside an ENVI header, a mosaic's tiles).
    public var contents: String?
    /// Which files `contents` covers: `currentContentsFiles`, or nil in runs that recorded it over
    /// the row's file, the other of an ENVI pair and the mask alone (an Agilent tile's axis and a
    /// mosaic's tiles were left out), whose `contents` is no longer compared.
    public var contentsFiles: Int?
    public static let currentContentsFiles = 2
    /// Each row as the digests see it, in the manifest's order (nil in runs written before it was
    /// recorded): what changed is then named row by row.
    public var perRow: [Row]?
    /// The train and val rows `--skip-unreadable` left out when the run began (nil: none), which
    /// its resumes leave out too.
    public var leftOut: [LeftOutRow]?

    /// A train or val row as the digests see it.
    public struct Row: Codable, Sendable, Equatable {
        public var split: String, name: String, bytes: Int, label: String
        /// Its files' sampled contents (`sampledContents`), where read.
        public var contents: String?
        /// The names of the files `contents` samples, in its order (the row's file first; nil in
        /// runs written before they were recorded): a change is then named by its file.
        public var files: [String]? = nil
        /// Its sample's `PixelDigest` as the run first read it (nil in runs written before it was
        /// recorded): a file saved again without loss is known by it.
        public var pixels: String? = nil
        /// Its patient, where the manifest names one (nil in runs written before it was recorded):
        /// `evaluate` knows a scored sample of a patient the run learned from by it.
        public var patient: String? = nil

        /// `row` as recorded: its file's name (composed, as one file's name is read from either
        /// normal form: data moved from macOS keeps its digest) and size, its label and split, and,
        /// with `reader`, the sampled contents of the files its sample is read from and of its mask.
        init(_ row: Manifest.Row, readingContentsWith reader: (any ImageSource)?) {
            let files = reader.map { $0.files(of: row.path) + [row.mask].compactMap { $0 } }
            self.init(split: row.split?.rawValue ?? "", name: row.path.lastPathComponent.precomposedStringWithCanonicalMapping,
                      bytes: Self.bytes(of: row.path), label: row.label?.rawValue ?? "",
                      contents: files.map { $0.map(ManifestRows.sampledContents).joined(separator: ",") },
                      files: files?.map { $0.lastPathComponent.precomposedStringWithCanonicalMapping })
            patient = row.patient
        }

        public init(split: String, name: String, bytes: Int, label: String, contents: String? = nil, files: [String]? = nil) {
            (self.split, self.name, self.bytes, self.label, self.contents, self.files) = (split, name, bytes, label, contents, files)
        }

        /// The size of `url`'s file, links followed; -1 where it cannot be read.
        static func bytes(of url: URL) -> Int {
            (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? Int) ?? -1
        }
    }

    /// A train or val row left out as unreadable: its file's path from the manifest's folder
    /// (`Manifest.relativePath(of:)`), its name, split and label as `Row` records them, and why,
    /// as it was said then ("line 9: image file spot7.h5 not found").
    public struct LeftOutRow: Codable, Sendable, Equatable {
        public var path: String?
        public var name: String, split: String, label: String, why: String
        public init(path: String, name: String, split: Split?, label: SampleLabel?, why: String) {
            (self.path, self.name) = (path.precomposedStringWithCanonicalMapping, name.precomposedStringWithCanonicalMapping)
            (self.split, self.label, self.why) = (split?.rawValue ?? "", label?.rawValue ?? "", why)
        }
    }

    /// - Parameter reader: the reader whose files to read for `contents` (nine 4 KiB pieces of
    ///   each); nil leaves `contents` out.
    public init(_ manifest: Manifest, readingContentsWith reader: (any ImageSource)?) {
        let rows = manifest.rows.filter { $0.split != .test }
        let recorded = rows.map { Row($0, readingContentsWith: reader) }
        let lines = recorded.map { "\($0.split),\($0.name),\($0.bytes),\($0.label)" }
        func fnv(_ lines: [String]) -> String { String(Self.fnv(Array(lines.joined(separator: "\n").utf8)), radix: 16) }
        train = rows.filter { $0.split == .train }.count
        validation = rows.count - train
        digest = fnv(lines.sorted())
        order = fnv(lines)
        contentsFiles = reader == nil ? nil : Self.currentContentsFiles
        contents = reader == nil ? nil : fnv(zip(lines, recorded).map { "\($0),\($1.contents ?? "")" }.sorted())
        perRow = recorded
    }

    /// The rows among `rows` (of any split) that are one of these train and val rows: the same
    /// file name and size, and the same sampled contents of the files the sample is read from
    /// (with `reader`; its tissue mask aside, which a manifest may give or not), with the split
    /// the run gave each. A sample the run learned from, or chose its epoch and threshold on, is
    /// found so wherever a manifest now files it. Nil for a run that recorded no rows' contents
    /// (`perRow` with today's `contentsFiles`): name and size alone cannot tell one spot from
    /// another of its size.
    public func trainedOn(among rows: [Manifest.Row], reader: any ImageSource) -> [(row: Manifest.Row, split: String)]? {
        guard let perRow, contentsFiles == Self.currentContentsFiles, perRow.allSatisfy({ $0.contents != nil }) else { return nil }
        let byName = Dictionary(grouping: perRow, by: \.name)
        return rows.compactMap { row in
            let name = row.path.lastPathComponent.precomposedStringWithCanonicalMapping, bytes = Row.bytes(of: row.path)
            guard bytes >= 0, let named = byName[name]?.filter({ $0.bytes == bytes }), !named.isEmpty else { return nil }
            let files = reader.files(of: row.path)
            let sampled = files.map(Self.sampledContents)
            guard let run = named.first(where: { ($0.contents ?? "").split(separator: ",").prefix(files.count).map(String.init) == sampled })
            else { return nil }
            return (row, run.split)
        }
    }

    /// `changes(since:in:)` as a message's addition, " (line 7 (a.h5): …; …)", or "" where none is named.
    public func changesNamed(since trained: ManifestRows, in manifest: Manifest) -> String {
        let changed = changes(since: trained, in: manifest)
        return changed.isEmpty ? "" : " (" + changed.joined(separator: "; ") + ")"
    }

    /// What differs between these rows (of `manifest`) and `trained`'s, row by row, by file name:
    /// "line 7 (spot009.h5): 5000 bytes, the run's 472126992"; at most `limit`, then how many more.
    /// Empty where either lacks `perRow` (a run written before it was recorded).
    public func changes(since trained: ManifestRows, in manifest: Manifest, limit: Int = 5) -> [String] {
        guard let mine = perRow, var theirs = trained.perRow else { return [] }
        let lines = manifest.rows.filter { $0.split != .test }.map(\.line)
        let names = Set(mine.map(\.name))
        var found: [String] = []
        for (row, line) in zip(mine, lines) {
            let place = "line \(line) (\(row.name))"
            guard let k = theirs.firstIndex(where: { $0.name == row.name }) else {
                // A run's row of a name no longer listed, with this file's size and contents: the file renamed.
                if let r = theirs.firstIndex(where: { !names.contains($0.name) && $0.bytes == row.bytes && $0.contents != nil
                                                   && $0.contents == row.contents }) {
                    found.append("\(place): the run's \(theirs.remove(at: r).name), renamed (the same size and contents)")
                } else {
                    found.append("\(place): not one of the run's train and val rows")
                }
                continue
            }
            let run = theirs.remove(at: k)
            var what: [String] = []
            if row.split != run.split { what.append("split \(row.split), the run's \(run.split)") }
            if row.label != run.label { what.append("label \(row.label), the run's \(run.label)") }
            if row.bytes != run.bytes { what.append(row.bytes < 0 ? "cannot be read" : "\(row.bytes) bytes, the run's \(run.bytes)") }
            else if let c = row.contents, let r = run.contents, c != r, contentsFiles == trained.contentsFiles {
                what.append(Self.contentsChange(row, run))
            }
            if !what.isEmpty { found.append("\(place): " + what.joined(separator: ", ")) }
        }
        found += theirs.map { "\($0.name) (\($0.split)): one of the run's rows, no longer in the manifest" }
        return found.count > limit ? Array(found.prefix(limit)) + ["and \(found.count - limit) more"] : found
    }

    /// What differs in the files a row's sample is read from, whose sizes of its own file agree:
    /// a file read with it missing or other, by name where both runs recorded the names.
    static func contentsChange(_ row: Row, _ run: Row) -> String {
        let now = (row.contents ?? "").split(separator: ","), then = (run.contents ?? "").split(separator: ",")
        guard let names = row.files, let before = run.files, names.count == now.count, before.count == then.count else {
            return "other contents of the same size"
        }
        let gone = before.filter { !names.contains($0) }, new = names.filter { !before.contains($0) }
        if !gone.isEmpty || !new.isEmpty {
            return "its sample is read from other files: " + (gone.isEmpty ? "" : gone.joined(separator: ", ") + " no longer")
                + (gone.isEmpty || new.isEmpty ? "" : "; ") + (new.isEmpty ? "" : new.joined(separator: ", ") + " new")
        }
        guard let k = now.indices.first(where: { now[$0] != then[$0] }), k > 0 else { return "other contents of the same size" }
        return now[k] == "-" ? "\(names[k]), read with it, cannot be read" : "\(names[k]), read with it, holds other contents"
    }

    static func fnv(_ bytes: [UInt8], _ start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        bytes.reduce(start) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// FNV-1a of 4 KiB at each of nine places spread over the file, its first and last included
    /// ("-" when it cannot be read): cheap for files of gigabytes, and two different samples of one
    /// size differ in these pieces all but surely (their values fill the file).
    static func sampledContents(_ url: URL) -> String {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return "-" }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return "-" }
        let size = Int(info.st_size), piece = 4096
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325, buffer = [UInt8](repeating: 0, count: piece)
        for k in 0..<9 {
            let offset = size <= piece ? 0 : (size - piece) * k / 8
            let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, piece, off_t(offset)) }
            guard read >= 0 else { return "-" }
            hash = fnv(Array(buffer[..<read]), hash)
            if size <= piece { break }
        }
        return String(hash, radix: 16)
    }

    /// Whether `other` holds the same rows (as `digest` sees them), whatever their order.
    public func sameRows(as other: ManifestRows) -> Bool {
        (train, validation, digest) == (other.train, other.validation, other.digest)
    }

    /// Whether the files hold what `other`'s did, as far as both recorded their contents.
    public func sameContents(as other: ManifestRows) -> Bool {
        contents == nil || other.contents == nil || contentsFiles != other.contentsFiles || contents == other.contents
    }

    public var description: String { "\(train) train and \(validation) val row\(validation == 1 ? "" : "s")" }
}
