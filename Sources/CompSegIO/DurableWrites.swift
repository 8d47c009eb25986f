import Foundation

/// A fresh temporary path in `url`'s folder, for writing `url` atomically with `commit`.
/// - Throws: `IOError` when the folder does not exist.
func temporaryPath(for url: URL) throws -> String {
    let folder = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw IOError(file: url.path, "cannot be written: folder \(folder.path) does not exist")
    }
    return folder.appendingPathComponent(".\(temporaryStem(url.lastPathComponent)).\(UUID().uuidString).tmp").path
}

/// The part of `name` that its temporary file (`.STEM.UUID.tmp`) carries: the whole name, or
/// its beginning where the whole would make the temporary's name longer than a file system takes
/// (255 bytes).
public func temporaryStem(_ name: String) -> String {
    var stem = Substring(name)
    while stem.utf8.count > 255 - 42 { stem = stem.dropLast() }
    return String(stem)
}

/// Flushes the finished temporary file to disk, renames it over `url` (atomic within one file
/// system) and flushes the folder, so that after a crash `url` holds either its old or its new
/// contents, never a part.
func commit(temporary: String, to url: URL) throws {
    func fail(_ what: String) -> IOError {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: temporary)
        return IOError(file: url.path, "cannot be written: \(what): \(reason)")
    }
    guard flush(temporary) else { throw fail("flushing to disk") }
    // A file written again keeps the permissions it was given (weights made read-only stay so).
    var earlier = stat()
    if stat(url.path, &earlier) == 0, (earlier.st_mode & S_IFMT) == S_IFREG { _ = chmod(temporary, earlier.st_mode & 0o777) }
    FaultInjection.point()
    guard rename(temporary, url.path) == 0 else { throw fail("renaming") }
    _ = flush(url.deletingLastPathComponent().path)
    FaultInjection.point()
}

/// fsync of a file or folder by path.
private func flush(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return fsync(fd) == 0
}

/// Writes `data` to `url` atomically and durably (temporary file, fsync, rename, fsync of the folder).
public func writeDurably(_ data: Data, to url: URL) throws {
    // Not `Data.write`: this platform's Foundation writes a file over 2 GiB wrongly (past the first
    // write(2), which Linux stops at 0x7ffff000 bytes, the file does not hold the data's bytes).
    try withDurableFile(url) { fd in try data.withUnsafeBytes { try writeAll(fd, $0, url: url) } }
}

/// Writes a file atomically and durably, as `writeDurably(_:to:)`, from the parts `body` hands to
/// the function it is given: for files too large to hold whole in memory.
public func writeDurably(to url: URL, _ body: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
    try withDurableFile(url) { fd in try body { part in try part.withUnsafeBytes { try writeAll(fd, $0, url: url) } } }
}

/// Runs `body` on a new file's descriptor, the temporary that `writeAtomically` makes `url`.
private func withDurableFile(_ url: URL, _ body: (Int32) throws -> Void) throws {
    try writeAtomically(to: url) { temporary in
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)  // less the umask, as Data.write makes files
        guard fd >= 0 else { throw IOError(file: url.path, "cannot be written: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try body(fd)
    }
}

/// Writes every byte of `bytes` to `fd`, however many write(2) calls it takes.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, url: URL) throws {
    var done = 0
    while done < bytes.count {
        let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { throw IOError(file: url.path, "cannot be written: \(String(cString: strerror(errno)))") }
        done += n
    }
}

/// Writes a set of files all or none. `body` writes them into a staging folder inside `folder`
/// (`.staging-<UUID>.tmp`); when it returns, each is renamed into `folder` (no copy, so a full disk
/// cannot strike then) and the folder is flushed. When `body` throws or a rename fails, the staging
/// folder and the files moved so far are removed: `folder` gains no file (files replaced under
/// `--force` keep their new contents). The names in `last` are moved after all others (a record
/// that says the set is there). A kill while they move leaves the staging folder holding the
/// order of the moves (`movingList`), for `finishInterruptedMoves` to complete.
public func writeAllOrNothing(into folder: URL, last: [String] = [], _ body: (URL) throws -> Void) throws {
    let staging = folder.appendingPathComponent(".staging-\(UUID().uuidString).tmp")
    try createFolder(staging)
    defer { try? FileManager.default.removeItem(at: staging) }
    do { try body(staging) } catch let error as IOError {
        // Name the file as the user will look for it, not its staging copy.
        throw IOError(file: error.file.replacingOccurrences(of: staging.path, with: folder.path),
                      error.message + " (no file of this run was kept)")
    }
    let written = try FileManager.default.contentsOfDirectory(atPath: staging.path).sorted()
    let names = written.filter { !last.contains($0) } + last.filter(written.contains)
    // From here the set is whole: a kill during the moves leaves the staging folder with this list,
    // and the next run in the folder completes the moves (`finishInterruptedMoves`).
    try writeDurably(Data(names.map(OutputList.listed).joined(separator: "\n").utf8), to: staging.appendingPathComponent(movingList))
    var moved: [String] = []
    for name in names {
        FaultInjection.point()
        let target = folder.appendingPathComponent(name).path
        let existed = FileManager.default.fileExists(atPath: target)
        guard rename(staging.appendingPathComponent(name).path, target) == 0 else {
            let reason = String(cString: strerror(errno))
            for done in moved { try? FileManager.default.removeItem(atPath: folder.appendingPathComponent(done).path) }
            throw IOError(file: target, "cannot be written: renaming from the staging folder: \(reason)")
        }
        if !existed { moved.append(name) }
    }
    _ = flush(folder.path)
}

/// The file a staging folder holds while its files are moved into place: their names, in the
/// order they are moved.
let movingList = ".moving"

/// Completes the moves of every staging folder in `folder` that a killed `writeAllOrNothing` left
/// while it moved its files into place (it holds `movingList`): the files not yet moved are
/// moved, in their order, and the staging folder goes. Call it holding the folder's lock, before
/// `removeLeftoverTemporaries` (which removes staging folders whose set was never whole).
/// With `last`, only a staging folder whose list ends with that name (one command's own set) is completed.
/// - Returns: the names moved.
@discardableResult
public func finishInterruptedMoves(in folder: URL, endingWith last: String? = nil) -> [String] {
    var finished: [String] = []
    for name in (try? folderEntries(folder)) ?? [] where name.hasPrefix(".staging-") && isLeftoverTemporary(name) {
        let staging = folder.appendingPathComponent(name)
        guard let list = try? String(contentsOf: staging.appendingPathComponent(movingList), encoding: .utf8),
              last == nil || list.split(separator: "\n").last.map(OutputList.unlisted) == last else { continue }
        for entry in list.split(separator: "\n").map(OutputList.unlisted) where !entry.contains("/") && entry != movingList {
            let from = staging.appendingPathComponent(entry).path
            guard FileManager.default.fileExists(atPath: from), rename(from, folder.appendingPathComponent(entry).path) == 0 else { continue }
            finished.append(entry)
        }
        _ = flush(folder.path)
        try? FileManager.default.removeItem(at: staging)
    }
    return finished
}

/// Removes the temporary files that writes in `folder` left behind when their process was killed.
/// - Returns: the names removed.
@discardableResult
public func removeLeftoverTemporaries(in folder: URL) -> [String] {
    let leftovers = ((try? folderEntries(folder)) ?? []).filter(isLeftoverTemporary)
    for name in leftovers { try? FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
    return leftovers
}

/// Whether `name` is a temporary file a killed write leaves: ours (`.NAME.UUID.tmp`, a staging
/// folder `.staging-UUID.tmp`) or one of Foundation's atomic writes (`.dat.nosync…`). A user's
/// own hidden `.draft.tmp` is not one.
public func isLeftoverTemporary(_ name: String) -> Bool {
    if name.hasPrefix(".dat.nosync") { return true }
    guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return false }
    let stem = name.dropFirst().dropLast(4)  // ".x.UUID.tmp" → "x.UUID"; ".staging-UUID.tmp" → "staging-UUID"
    let uuid = stem.hasPrefix("staging-") ? stem.dropFirst(8) : stem.suffix(36)
    return uuid.count == 36 && UUID(uuidString: String(uuid)) != nil && (stem.hasPrefix("staging-") || stem.dropLast(36).hasSuffix("."))
}

/// A test hook: with `COMPSEG_FAULT_KILL_AT=N` in the environment, the process kills itself
/// (SIGKILL, as `kill -9`) at the N-th point where a file write is about to be, or has just been,
/// committed, so tests can stop a run at every such instant.
enum FaultInjection {
    nonisolated(unsafe) private static var remaining: Int? = ProcessInfo.processInfo.environment["COMPSEG_FAULT_KILL_AT"]
        .flatMap(Int.init)

    static func point() {
        guard let n = remaining else { return }
        if n <= 1 { kill(getpid(), SIGKILL) }
        remaining = n - 1
    }
}

/// Writes a file atomically: `body` writes to a temporary path in the same folder, which is then
/// renamed over `url`; on any error the temporary file is removed and `url` is left as it was.
func writeAtomically(to url: URL, _ body: (_ temporaryPath: String) throws -> Void) throws {
    let temporary = try temporaryPath(for: url)
    do { try body(temporary) } catch {
        try? FileManager.default.removeItem(atPath: temporary)
        throw error
    }
    try commit(temporary: temporary, to: url)
}

/// Removes what a command wrote at `url`: a file (or a link in its place), never a folder, whatever
/// a list or record names.
public func removeWrittenFile(_ url: URL) {
    let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
    guard type == .typeRegular || type == .typeSymbolicLink else { return }
    try? FileManager.default.removeItem(at: url)
}

/// The files a command wrote into an output folder, listed in the folder's hidden `.compseg-outputs`
/// (one a line: the name, and the size, modification time and content digest it was written with):
/// what a later run there with `--force` may replace or remove, and nothing else. A listed file
/// changed since (edited by hand) is no longer taken for one compseg wrote (`changed(in:)`); one
/// only copied (`cp -r`, `tar`: another time, the same bytes) still is.
public enum OutputList {
    public static let name = ".compseg-outputs"

    /// The files the list in `folder` names; nil where there is none (nothing written, or written
    /// by a compseg that kept no list). A line without a size and time is taken only from a list
    /// whose lines all lack them (one an earlier compseg wrote): added by hand to a list of ours, it is a user's.
    public static func read(in folder: URL) -> [URL]? {
        entries(in: folder).map { entries in
            var seen = Set<String>()
            return entries.filter { seen.insert($0.name).inserted }.map { folder.appendingPathComponent($0.name) }
        }
    }

    /// The files the list in `folder` names that no longer hold what they were written with (a
    /// name listed twice, while a new set moved in, may hold either): another size, or another
    /// modification time and other bytes; edited or replaced since, by hand or by another program.
    /// `bytesCompared` is false where the list, an earlier compseg's, holds no digest to tell a
    /// copy (another time, the same bytes) from an edit: such a file is taken as changed.
    public static func changed(in folder: URL) -> [(url: URL, bytesCompared: Bool)] {
        let recorded = Dictionary(grouping: entries(in: folder) ?? [], by: \.name).mapValues { $0.compactMap(\.signature) }
        return recorded.keys.sorted().compactMap { name in
            let url = folder.appendingPathComponent(name)
            guard let signatures = recorded[name], !signatures.isEmpty, let now = signature(of: url, digest: false) else { return nil }
            let fields = signatures.map { $0.split(separator: "\t").map(String.init) }, current = now.split(separator: "\t").map(String.init)
            if fields.contains(where: { $0.prefix(2) == current.prefix(2) }) { return nil }  // size and time as written
            let digests = fields.filter { $0.count == 3 && $0[0] == current[0] }.map { $0[2] }
            if digests.isEmpty { return (url, fields.allSatisfy { $0.count == 3 }) }
            return digests.contains(contentDigest(of: url) ?? "") ? nil : (url, true)
        }
    }

    /// The first line of a list whose names are escaped (`listed`); a line without a tab, which
    /// an earlier compseg's reading passes over.
    static let escapedMark = "# names escaped: \\n newline, \\t tab, \\\\ backslash"

    /// A file's name as a line of the list holds it: a newline, tab or backslash in it written `\n`,
    /// `\t`, `\\` (a sample's file may be named so), so that each name stays one field of one line.
    static func listed(_ name: String) -> String {
        name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\t", with: "\\t")
    }

    /// The name a list's field holds (`listed` undone; another backslash stays as it is, as lists
    /// before escaping hold it).
    static func unlisted(_ field: Substring) -> String {
        var name = "", escaped = false
        for c in field {
            if escaped {
                switch c {
                case "n": name.append("\n")
                case "t": name.append("\t")
                case "\\": name.append("\\")
                default: name.append("\\"); name.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                name.append(c)
            }
        }
        return escaped ? name + "\\" : name
    }

    private static func entries(in folder: URL) -> [(name: String, signature: String?)]? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
        // Names are escaped in lists that say so on their first line; an earlier compseg's hold them as they are.
        let escaped = text.hasPrefix(escapedMark + "\n")
        let lines = text.dropFirst(escaped ? escapedMark.count + 1 : 0).split(separator: "\n").map { line -> [String] in
            let fields = line.split(separator: "\t", maxSplits: 1)
            return fields.first.map { [escaped ? unlisted($0) : String($0)] + fields.dropFirst().map(String.init) } ?? []
        }
        let signed = lines.contains { $0.count == 2 }
        return lines.compactMap { fields -> (String, String?)? in
            guard let n = fields.first, !n.isEmpty, !n.contains("/"), n != ".", n != "..", n != name, !signed || fields.count == 2 else { return nil }
            return (n, fields.count == 2 ? fields[1] : nil)
        }
    }

    /// The file's size, modification time (to the nanosecond) and, with `digest`, its content's
    /// (`contentDigest`), as a list records them; nil where it is not there, or is a folder (never removed).
    static func signature(of url: URL, digest: Bool = true) -> String? {
        var status = stat()
        guard lstat(url.path, &status) == 0, status.st_mode & S_IFMT != S_IFDIR else { return nil }
        let written = "\(status.st_size)\t\(status.st_mtim.tv_sec).\(String(format: "%09ld", status.st_mtim.tv_nsec))"
        return digest ? written + "\t" + (contentDigest(of: url) ?? "-") : written
    }

    /// FNV-1a (64-bit, hex) of the file's bytes, read 1 MiB at a time: tells a copy from an edit,
    /// not a security measure. Nil where it cannot be read.
    static func contentDigest(of url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
        }
        return String(hash, radix: 16)
    }

    /// Writes a set of files into `folder` all or none (`writeAllOrNothing`, the names in `last`
    /// moved last) in place of `earlier` (what was written there before): those the new set does
    /// not hold are removed once it is in place. At every instant the list names every file
    /// written there (while the new set moves in, both sets), so that a kill anywhere leaves no
    /// written file that a later run would take for a user's.
    /// - Returns: the names written.
    @discardableResult
    public static func replace(in folder: URL, earlier: [URL], last: [String] = [], _ write: (URL) throws -> Void) throws -> [String] {
        var written: [String] = [], lines: [String] = []
        let list = folder.appendingPathComponent(name)
        func text(_ lines: [String]) -> Data { Data(([escapedMark] + Set(lines).sorted()).joined(separator: "\n").utf8 + Data([10])) }
        try writeAllOrNothing(into: folder, last: last) { staging in
            try write(staging)
            written = try folderEntries(staging)
            // Each name with its file's signature, its bytes read once: a file moved into place keeps its size and time.
            lines = written.compactMap { name in signature(of: staging.appendingPathComponent(name)).map { "\(listed(name))\t\($0)" } }
            // The earlier set as the list recorded it (a file of it the list lacks, by size and time only).
            let recorded = Dictionary((entries(in: folder) ?? []).compactMap { e in e.signature.map { (e.name, $0) } }, uniquingKeysWith: { a, _ in a })
            let before = earlier.compactMap { url in
                (recorded[url.lastPathComponent] ?? signature(of: url, digest: false)).map { "\(listed(url.lastPathComponent))\t\($0)" }
            }
            try writeDurably(text(lines + before), to: list)
        }
        let kept = Set(written)
        for url in earlier where !kept.contains(url.lastPathComponent) { removeWrittenFile(url) }
        try writeDurably(text(lines), to: list)
        return written
    }
}
