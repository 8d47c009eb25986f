import Foundation

/// A file that could not be read or written: which file, and what was wrong or expected.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    public init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// Throws "does not exist" for a missing file, and names a folder, fifo, socket or device, so the
/// C libraries only ever see regular files that are there (a fifo would make them wait for ever).
public func requireExistingFile(_ url: URL) throws {
    var status = stat()
    guard stat(url.path, &status) == 0 else {
        let reason = errno == ELOOP ? "is a symbolic link that loops" : errno == ENOENT ? "does not exist"
            : "cannot be examined: \(String(cString: strerror(errno)))"
        throw IOError(file: url.path, reason)
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFDIR: throw IOError(file: url.path, "is a folder, not a file")
    case S_IFIFO: throw IOError(file: url.path, "is a fifo (named pipe), not a file; compseg reads only regular files")
    default: throw IOError(file: url.path, "is a device or socket, not a file; compseg reads only regular files")
    }
}

/// The names in the folder `url` (hidden ones too), sorted; none when it does not exist.
/// - Throws: `IOError` when `url` is a file, or a folder that cannot be read.
public func folderEntries(_ url: URL) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return [] }
    guard isDirectory.boolValue else { throw IOError(file: url.path, "is a file; expected a folder to write into") }
    do { return try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() } catch {
        throw IOError(file: url.path, "cannot be read: \(systemReason(error))")
    }
}

/// Throws unless the folder `url` is new or empty, so that a command writing its results there
/// never writes over a user's files: the message names the folder, what it holds (the first few
/// names) and `advice` (what to do instead).
public func requireEmptyFolder(_ url: URL, _ advice: String) throws {
    // A killed write's leftovers are no one's; a list of outputs alone lists what is gone.
    let entries = try folderEntries(url).filter { !isLeftoverTemporary($0) && $0 != OutputList.name }
    guard !entries.isEmpty else { return }
    throw IOError(file: url.path, "already holds \(entriesSummary(entries)); \(advice)")
}

/// `text` as one word of a shell command line: as it is where it holds only letters, digits and
/// `_ . / - + , : @ %`, else in single quotes (a path with spaces pastes as a working command).
public func shellWord(_ text: String) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+,:@%")
    guard text.isEmpty || !text.allSatisfy(plain.contains) else { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// What a folder holds, for a message: "1 entry (a)", "3 entries (a, b, c)", "5 entries (a, b, c, …)".
public func entriesSummary(_ entries: [String]) -> String {
    let names = entries.prefix(3).joined(separator: ", ") + (entries.count > 3 ? ", …" : "")
    return "\(entries.count) \(entries.count == 1 ? "entry" : "entries") (\(names))"
}

/// Creates the folder `url` and its parents, unless it is one already.
/// - Throws: `IOError` naming the folder: it is a file, a folder above it is a file, or the system
///   refuses (its reason: permission denied, read-only file system, no space left, …).
public func createFolder(_ url: URL) throws {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw IOError(file: url.path, "is a file; expected a folder to write into") }
        return
    }
    // A symbolic link to nothing, the folder or one above it: fileExists follows it, createDirectory finds the link.
    func refuseDanglingLink(_ folder: URL) throws {
        guard let target = try? manager.destinationOfSymbolicLink(atPath: folder.path) else { return }
        throw IOError(file: url.path, (folder == url ? "is" : "cannot be created: \(folder.path) is")
                      + " a symbolic link to \(target), which does not exist; create that folder, or give another path")
    }
    try refuseDanglingLink(url)
    var above = url.deletingLastPathComponent()
    while !manager.fileExists(atPath: above.path, isDirectory: &isDirectory), above.path != "/" {
        try refuseDanglingLink(above)
        above = above.deletingLastPathComponent()
    }
    guard isDirectory.boolValue else {
        throw IOError(file: url.path, "cannot be created: \(above.path) is a file, not a folder")
    }
    do { try manager.createDirectory(at: url, withIntermediateDirectories: true) } catch {
        throw IOError(file: url.path, "cannot be created: \(systemReason(error))")
    }
}

/// `createFolder`, then a check that files can be made in the folder, so that one that cannot be
/// written is named before any work (not a temporary file in it, later).
/// - Throws: `IOError` naming the folder and the system's reason, with `remedy` after it.
public func createWritableFolder(_ url: URL, remedy: String = "choose another --out") throws {
    try createFolder(url)
    guard access(url.path, W_OK | X_OK) == 0 else {
        throw IOError(file: url.path, "cannot be written: \(String(cString: strerror(errno))); \(remedy)")
    }
}

/// The operating system's words for why a Foundation file operation failed ("Permission denied",
/// "No space left on device", …), rather than Foundation's error domain and code.
public func systemReason(_ error: Error) -> String {
    var current = error as NSError
    while let underlying = current.userInfo[NSUnderlyingErrorKey] as? Error { current = underlying as NSError }
    if current.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(current.code))) }
    return current.localizedDescription
}

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
    try writeDurably(Data(names.joined(separator: "\n").utf8), to: staging.appendingPathComponent(movingList))
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
/// - Returns: the names moved.
@discardableResult
public func finishInterruptedMoves(in folder: URL) -> [String] {
    var finished: [String] = []
    for name in (try? folderEntries(folder)) ?? [] where name.hasPrefix(".staging-") && isLeftoverTemporary(name) {
        let staging = folder.appendingPathComponent(name)
        guard let list = try? String(contentsOf: staging.appendingPathComponent(movingList), encoding: .utf8) else { continue }
        for entry in list.split(separator: "\n").map(String.init) where !entry.contains("/") && entry != movingList {
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

/// A stop asked for by a signal (Ctrl-C, SIGTERM; the command line tool's handler sets `received`),
/// which long work checks between its parts (samples, bands of a streamed image): `check()` throws
/// `Interrupted`, so that what the work was writing is removed as after any other failure.
public enum Interruption {
    /// The signal received, 0 before one.
    nonisolated(unsafe) public static var received: sig_atomic_t = 0

    /// - Throws: `Interrupted` once a signal was received.
    public static func check() throws {
        if received != 0 { throw Interrupted(signal: Int32(received)) }
    }
}

/// Work stopped by `signal` between two of its parts.
public struct Interrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public var description: String {
        "interrupted by " + (signal == SIGINT ? "Ctrl-C (SIGINT)" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)")
            + ": stopped before the end; the files it was writing were not kept"
    }
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

/// No image codec here expands stored bytes by more than about 2,600× (Deflate at most 1,032×,
/// LZW about 2,600×, JPEG and PackBits far less), so an image declaring more decoded samples than
/// `maximumExpansion` × the file's bytes cannot hold them: its header lies, and it is refused before
/// anything is allocated.
let maximumExpansion = 4096

/// Refuses an image or region of `dimensions` (their product: decoded samples) when the product
/// overflows or the file at `file` is too small to hold that many compressed (`maximumExpansion`).
public func requirePlausibleSize(_ dimensions: [Int], file: String, what: String) throws {
    var samples = 1, overflow = false
    for d in dimensions where !overflow { (samples, overflow) = samples.multipliedReportingOverflow(by: max(d, 0)) }
    let bytes = ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? NSNumber)?.intValue ?? Int.max
    let (limit, huge) = max(bytes, 1).multipliedReportingOverflow(by: maximumExpansion)
    guard !overflow, huge || samples <= limit else {
        let declared = dimensions.count == 3 ? "\(dimensions[0])×\(dimensions[1]) pixels (width×height) of \(dimensions[2]) samples"
            : dimensions.map(String.init).joined(separator: "×") + " samples"
        throw IOError(file: file, "\(what) declares \(declared), more than "
                      + "a file of \(bytes) bytes can hold (at most \(maximumExpansion) per stored byte); "
                      + "the file is truncated or its header is damaged")
    }
}


/// "; the file ends at byte 1700, before it: it is truncated" where libtiff's `message` names an
/// offset (of a directory) at or past the end of the file at `path`; "" otherwise. For both TIFF readers.
func tiffTruncation(_ message: String, path: String) -> String {
    guard let range = message.range(of: "at offset "),
          let offset = UInt64(message[range.upperBound...].prefix(while: \.isNumber)),
          let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber,
          offset >= size.uint64Value else { return "" }
    return "; the file ends at byte \(size.uint64Value), before it: it is truncated"
}

/// An exclusive advisory lock (`flock`) on a folder, held until this is released or the process
/// ends however it ends (a kill too), so that two processes never write one run at once.
public final class FolderLock {
    private var descriptor: Int32

    /// - Parameter holder: what the process holding it does, for the message ("training this run").
    /// - Throws: `IOError` naming the folder when another process holds it or it cannot be opened.
    public init(_ url: URL, holder: String) throws {
        descriptor = open(url.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw IOError(file: url.path, "cannot be opened to lock it: \(String(cString: strerror(errno)))") }
        // Held by another process: refused. A file system without locks (some network mounts): the
        // folder is used unlocked, as before locks existed, rather than refused for a false reason.
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0, errno == EWOULDBLOCK {
            close(descriptor)
            throw IOError(file: url.path, "another compseg is \(holder) now; wait for it to end, or stop it first")
        }
    }

    /// Releases the lock now (before the folder is removed, say); later calls do nothing.
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// Removes what a command wrote at `url`: a file (or a link in its place), never a folder, whatever
/// a list or record names.
public func removeWrittenFile(_ url: URL) {
    let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
    guard type == .typeRegular || type == .typeSymbolicLink else { return }
    try? FileManager.default.removeItem(at: url)
}

/// The files a command wrote into an output folder, listed in the folder's hidden `.compseg-outputs`
/// (one name a line): what a later run there with `--force` may replace or remove, and nothing else.
public enum OutputList {
    public static let name = ".compseg-outputs"

    /// The files the list in `folder` names; nil where there is none (nothing written, or written
    /// by a compseg that kept no list).
    public static func read(in folder: URL) -> [URL]? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
        let names: [String] = text.split(separator: "\n").map(String.init)
        return names.filter { n in !n.isEmpty && !n.contains("/") && n != "." && n != ".." && n != name }
            .map { folder.appendingPathComponent($0) }
    }

    /// Writes a set of files into `folder` all or none (`writeAllOrNothing`, the names in `last`
    /// moved last) in place of `earlier` (what was written there before): those the new set does
    /// not hold are removed once it is in place. At every instant the list names every file
    /// written there (while the new set moves in, both sets), so that a kill anywhere leaves no
    /// written file that a later run would take for a user's.
    /// - Returns: the names written.
    @discardableResult
    public static func replace(in folder: URL, earlier: [URL], last: [String] = [], _ write: (URL) throws -> Void) throws -> [String] {
        var written: [String] = []
        let list = folder.appendingPathComponent(name)
        func text(_ names: [String]) -> Data { Data((names.sorted().joined(separator: "\n") + "\n").utf8) }
        try writeAllOrNothing(into: folder, last: last) { staging in
            try write(staging)
            written = try folderEntries(staging)
            try writeDurably(text(Array(Set(written).union(earlier.map(\.lastPathComponent)))), to: list)
        }
        let kept = Set(written)
        for url in earlier where !kept.contains(url.lastPathComponent) { removeWrittenFile(url) }
        try writeDurably(text(written), to: list)
        return written
    }
}
