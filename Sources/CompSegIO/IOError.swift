import Foundation

/// A file that could not be read or written: which file, and what was wrong or expected.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    public init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// Throws "does not exist" for a missing file, so the C libraries only ever see files that are there.
func requireExistingFile(_ url: URL) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw IOError(file: url.path, "does not exist")
    }
    guard !isDirectory.boolValue else { throw IOError(file: url.path, "is a folder, not a file") }
}

/// A fresh temporary path in `url`'s folder, for writing `url` atomically with `commit`.
/// - Throws: `IOError` when the folder does not exist.
func temporaryPath(for url: URL) throws -> String {
    let folder = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw IOError(file: url.path, "cannot be written: folder \(folder.path) does not exist")
    }
    return folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
}

/// Renames the finished temporary file over `url` (atomic within one file system).
func commit(temporary: String, to url: URL) throws {
    guard rename(temporary, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(atPath: temporary)
        throw IOError(file: url.path, "cannot be written: \(reason)")
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
