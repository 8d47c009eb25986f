import Foundation

/// A file that could not be read or written: which file, and what was wrong or expected.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    /// Whether the file is busy with another process now (`FolderLock`): trying again later may
    /// succeed, so the command exits with its own status (75) for a scheduler to retry.
    public var isBusy = false
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

/// The operating system's words for why a Foundation file operation failed ("Permission denied",
/// "No space left on device", …), rather than Foundation's error domain and code.
public func systemReason(_ error: Error) -> String {
    var current = error as NSError
    while let underlying = current.userInfo[NSUnderlyingErrorKey] as? Error { current = underlying as NSError }
    if current.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(current.code))) }
    return current.localizedDescription
}

/// No image codec here expands stored bytes by more than about 2,600× (Deflate at most 1,032×,
/// LZW about 2,600×, JPEG and PackBits far less), so an image declaring more decoded bytes than
/// `maximumExpansion` × the file's bytes cannot hold them: its header lies, and it is refused before
/// anything is allocated.
let maximumExpansion = 4096

/// An unstored part of a TIFF (a tile with offset and byte count 0, white glass) decodes nothing,
/// but is walked, and held where the image is read whole: it counts at this share of its bytes,
/// so that a mostly blank slide passes and a small file declaring a vast image still does not.
let unstoredWeight = 1.0 / 8

/// An HDF5 chunk never written, read region by region (never held whole), counts at this share.
let unwrittenWeight = 1.0 / 64

/// Refuses an image or region of `dimensions` (their product: decoded samples, of `bitsPerSample`
/// each, counted as a byte at most: ZSTD holds a flat 16-bit image in fewer bytes than Deflate
/// does an 8-bit one) when the product overflows or the file at `file` is too small to hold that
/// many bytes compressed (`maximumExpansion`). `storedShare`: the share of the image the file stores (a
/// TIFF's strips or tiles with data), the rest weighed by `unstoredWeight`; an image that stores
/// none is refused as holding no pixels.
public func requirePlausibleSize(_ dimensions: [Int], bitsPerSample: Int = 8, storedShare: Double = 1, file: String, what: String) throws {
    var samples = 1, overflow = false
    for d in dimensions where !overflow { (samples, overflow) = samples.multipliedReportingOverflow(by: max(d, 0)) }
    let declared = dimensions.count == 3 ? "\(dimensions[0])×\(dimensions[1]) pixels (width×height) of \(dimensions[2]) samples"
        : dimensions.map(String.init).joined(separator: "×") + " samples"
    guard storedShare > 0 || overflow || samples == 0 else {
        throw IOError(file: file, "\(what) declares \(declared), but stores none of its strips or tiles (each has offset and byte "
                      + "count 0): it holds no pixels")
    }
    let bytes = ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? NSNumber)?.intValue ?? Int.max
    let share = min(max(storedShare, 0), 1)
    let decoded = Double(samples) * Double(min(max(bitsPerSample, 1), 8)) / 8 * (share + (1 - share) * unstoredWeight)
    guard !overflow, decoded <= Double(max(bytes, 1)) * Double(maximumExpansion) else {
        let bits = bitsPerSample >= 8 ? "" : " of \(bitsPerSample) bits"
        let stored = storedShare < 1 ? " (in the \(Int((storedShare * 100).rounded(.up)))% of its strips or tiles stored)" : ""
        throw IOError(file: file, "\(what) declares \(declared)\(bits)\(stored), more than "
                      + "a file of \(bytes) bytes can hold (at most \(maximumExpansion) decoded bytes per stored byte); "
                      + "the file is truncated or its header is damaged")
    }
}


/// Refuses a dataset declaring `declaredBytes` of which the file stores only `storedBytes` (an
/// HDF5 dataset's chunks written): the stored part may expand by `maximumExpansion`, the rest
/// counts at `unwrittenWeight`, as `requirePlausibleSize` weighs a TIFF's unstored tiles.
public func requirePlausibleStorage(declaredBytes: Double, storedBytes: Int, file: String, what: String) throws {
    guard declaredBytes * unwrittenWeight <= Double(storedBytes) * Double(maximumExpansion) else {
        throw IOError(file: file, "\(what) declares \(Int(declaredBytes)) bytes, but stores only \(storedBytes): too few even for an "
                      + "image mostly never written (at most \(Int(Double(maximumExpansion) / unwrittenWeight)) declared bytes a stored one); "
                      + "the file is damaged or was never finished")
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
