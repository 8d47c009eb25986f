import Foundation

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
/// names) and `advice` (what to do instead). Logs (`isLogFile`) do not count: no command writes
/// one, and a job's log is often written into the folder it works in.
public func requireEmptyFolder(_ url: URL, _ advice: String) throws {
    // A killed write's leftovers are no one's; a list of outputs alone lists what is gone.
    let entries = try folderEntries(url).filter { !isLeftoverTemporary($0) && $0 != OutputList.name && !isLogFile($0, in: url) }
    guard !entries.isEmpty else { return }
    throw IOError(file: url.path, "already holds \(entriesSummary(entries)); \(advice)")
}

/// Whether the entry `name` of `folder` is a log: the file this process writes its output to
/// (`compseg train --out run > run/train.log`), or a plain file named `*.log`, `*.out` or
/// `*.err`, as a batch system names a job's output (`slurm-1234.out`). No compseg output has
/// such a name, so a log in a folder a command writes into is never written over.
public func isLogFile(_ name: String, in folder: URL) -> Bool {
    let url = folder.appendingPathComponent(name)
    var file = stat()
    guard lstat(url.path, &file) == 0, (file.st_mode & S_IFMT) == S_IFREG else { return false }
    if ["log", "out", "err"].contains(url.pathExtension.lowercased()) { return true }
    return [STDOUT_FILENO, STDERR_FILENO].contains { fd in
        var open = stat()
        return fstat(fd, &open) == 0 && open.st_dev == file.st_dev && open.st_ino == file.st_ino
    }
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

/// The folders `createFolder(url)` makes: `url` and those above it that do not exist yet, the
/// deepest first; none when `url` exists.
public func missingFolders(_ url: URL) -> [URL] {
    // By the path's text, each parent one component shorter: `link/..` is left to the system, which
    // resolves it where the link leads (standardizing it as text would name other folders).
    var missing: [URL] = [], folder = url.path
    while !FileManager.default.fileExists(atPath: folder), folder != "/", !folder.isEmpty {
        missing.append(URL(fileURLWithPath: folder))
        folder = (folder as NSString).deletingLastPathComponent
    }
    return missing
}

/// Removes `folders` (`missingFolders` before they were made, the deepest first) while they are
/// empty: a work that failed leaves no empty folders behind, and a folder something was written
/// into stays, with those above it.
public func removeEmptyFolders(_ folders: [URL]) {
    for folder in folders where rmdir(folder.path) != 0 { return }
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

/// An exclusive advisory lock (`flock`) on a folder, held until this is released or the process
/// ends however it ends (a kill too), so that two processes never write one run at once.
public final class FolderLock {
    private var descriptor: Int32
    /// The folder's `fileIdentity`, while this process holds it.
    private var identity: String?
    /// The folders this process holds (flock conflicts between two opens in one process as well).
    nonisolated(unsafe) private static var heldHere: [String: Int] = [:]
    /// Whether this process has said that a folder cannot be locked.
    nonisolated(unsafe) private static var saidUnlocked = false
    private static let heldHereLock = NSLock()

    /// Why the folder could not be locked, where its file system has no locks (some network
    /// mounts: Lustre without `-o flock`, NFS without its lock daemon): it is then used unlocked,
    /// and `unlocked` is said. Nil where it is locked.
    public private(set) var unlockedReason: String?

    /// Says that a folder is used unlocked (`unlockedReason`, as a sentence naming the folder);
    /// by default on standard error. The command line tool says it as its other warnings.
    nonisolated(unsafe) public static var unlocked: (String) -> Void = { message in
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// - Parameters:
    ///   - holder: what the process holding it does, for the message ("training this run").
    ///   - lock: `flock`, or a stand-in that fails as a file system without locks does (tests).
    /// - Throws: `IOError` naming the folder when another process holds it or it cannot be opened.
    public init(_ url: URL, holder: String, lock: (Int32, Int32) -> Int32 = { flock($0, $1) }) throws {
        descriptor = open(url.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw IOError(file: url.path, "cannot be opened to lock it: \(String(cString: strerror(errno)))") }
        // Held by another process: refused. A file system without locks (some network mounts): the
        // folder is used unlocked, as before locks existed, rather than refused for a false reason, and that is said.
        if lock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure != EWOULDBLOCK else {
                close(descriptor)
                let who = Self.holdingProcess(url).map { " (\($0))" } ?? ""
                var busy = IOError(file: url.path, "another compseg\(who) is \(holder) now; wait for it to end, or stop it first")
                busy.isBusy = true
                throw busy
            }
            let reason = String(cString: strerror(failure))
            unlockedReason = reason
            // Said once per process: a command locks several folders (compare: each entry's too), all on one file system mostly.
            if Self.heldHereLock.withLock({ () -> Bool in defer { Self.saidUnlocked = true }; return !Self.saidUnlocked }) {
                Self.unlocked("\(url.path) cannot be locked (\(reason): its file system, a network mount?, has no locks), so a second "
                              + "compseg working there at the same time would not be stopped: make sure none does")
            }
        }
        identity = fileIdentity(url.path)
        if let identity { Self.heldHereLock.withLock { Self.heldHere[identity, default: 0] += 1 } }
    }

    /// Whether another process holds the lock on `url` now (a run training there, say); this
    /// process's own lock is none.
    public static func isHeld(_ url: URL) -> Bool {
        if let identity = fileIdentity(url.path), heldHereLock.withLock({ heldHere[identity] != nil }) { return false }
        let descriptor = open(url.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }  // closing releases a shared lock taken here
        return flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    /// The process holding the lock on `url`, as "PID 1234, user bob", from the kernel's table of
    /// locks (`/proc/locks`: each lock's kind, its process and the device and inode it is on); nil
    /// where it cannot be told (no such table, a process of another PID namespace).
    static func holdingProcess(_ url: URL) -> String? {
        var folder = stat()
        guard stat(url.path, &folder) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8),
              let pid = lockingProcess(in: table, device: UInt64(folder.st_dev), inode: UInt64(folder.st_ino)) else { return nil }
        var process = stat()
        guard stat("/proc/\(pid)", &process) == 0 else { return "PID \(pid)" }
        let user = getpwuid(process.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(process.st_uid)"
        // Its command, `compseg evaluate` say, from its arguments (NUL-separated), where they can be read.
        let arguments = (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()).split(separator: 0)
            .map { String(decoding: $0, as: UTF8.self) }
        let command = arguments.count > 1 ? ": \((arguments[0] as NSString).lastPathComponent) \(arguments[1])" : ""
        return "PID \(pid), user \(user)\(command)"
    }

    /// The process holding an `flock` on the file of `device` and `inode`, in a table of locks as
    /// `/proc/locks` gives it ("1: FLOCK  ADVISORY  WRITE 4242 fe:00:16458084 0 EOF": the device's
    /// major and minor numbers in hexadecimal, the inode in decimal); nil where none, or where the
    /// kernel could not name the process (0: one of another PID namespace).
    static func lockingProcess(in table: String, device: UInt64, inode: UInt64) -> Int32? {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff)), minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        for line in table.split(separator: "\n") where !line.contains("->") {  // "->": a process waiting for the lock
            let fields = line.split(separator: " ")
            guard fields.count > 5, fields[1] == "FLOCK", let pid = Int32(fields[4]), pid > 0 else { continue }
            let place = fields[5].split(separator: ":")
            if place.count == 3, UInt64(place[0], radix: 16) == major, UInt64(place[1], radix: 16) == minor, UInt64(place[2]) == inode {
                return pid
            }
        }
        return nil
    }

    /// Releases the lock now (before the folder is removed, say); later calls do nothing.
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        if let identity {
            Self.heldHereLock.withLock {
                Self.heldHere[identity, default: 1] -= 1
                if Self.heldHere[identity] == 0 { Self.heldHere[identity] = nil }
            }
        }
    }

    deinit { release() }
}

/// The file at `path` itself, links followed: its device and inode ("2049:131074"), the same for
/// every name it has (a symbolic or hard link, another case on a disk that ignores case); nil
/// where nothing is there.
public func fileIdentity(_ path: String) -> String? {
    var status = stat()
    return stat(path, &status) == 0 ? "\(status.st_dev):\(status.st_ino)" : nil
}

/// Whether anything is at `url`: a file, a folder, or a symbolic link, even one that leads
/// nowhere (which `FileManager.fileExists` calls absent, and a write would replace).
public func entryExists(at url: URL) -> Bool {
    var status = stat()
    return lstat(url.path, &status) == 0
}
