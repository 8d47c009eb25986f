// Shared by every fuzz target: a private scratch folder and file writing, so that targets can
// hand the readers real files, as the tool does.
import Foundation

/// A folder of this process's own (in /dev/shm when there is one: no disk I/O), emptied by `reset()`.
enum Scratch {
    nonisolated(unsafe) static var folder: URL = {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("compseg-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.folder) }
        return url
    }()

    /// Removes every file the last input left.
    static func reset() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    /// Writes `bytes` to `name` in the folder.
    @discardableResult
    static func write<C: Collection>(_ bytes: C, to name: String) -> URL where C.Element == UInt8 {
        let url = folder.appendingPathComponent(name)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(url.path)")
        let array = Array(bytes)
        var done = 0
        array.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                precondition(n > 0, "cannot write \(url.path)")
                done += n
            }
        }
        close(fd)
        return url
    }
}

/// The input as a byte array.
@inline(__always)
func input(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] { Array(UnsafeBufferPointer(start: data, count: size)) }

/// With FUZZ_VERBOSE=1 in the environment, every outcome is printed (to check what seeds reach).
let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] == "1"

/// Runs `body`, ignoring the errors it throws (a clean error is the right answer to bad input);
/// anything else — a trap, an ASan report, a leak, a hang — is what the fuzzer is looking for.
@inline(__always)
func expectCleanError(_ line: Int = #line, _ body: () throws -> Void) {
    do {
        try body()
        if verbose { print("line \(line): read") }
    } catch {
        let message = "\(error)"  // the message is built as the tool would print it
        if verbose { print("line \(line): error: \(message.prefix(300))") }
    }
}

/// `bytes` with the CRC of every PNG chunk recomputed, when they start with the PNG signature,
/// so that mutations inside chunks reach the decoder instead of failing libpng's CRC check.
func withPNGChunkCRCsFixed(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { return bytes }
    var out = bytes, offset = 8
    while offset + 12 <= out.count {
        let length = Int(out[offset]) << 24 | Int(out[offset + 1]) << 16 | Int(out[offset + 2]) << 8 | Int(out[offset + 3])
        let end = offset + 8 + length
        guard length < 1 << 30, end + 4 <= out.count else { break }
        let crc = crc32(out[(offset + 4)..<end])
        for k in 0..<4 { out[end + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        offset = end + 4
    }
    return out
}

private let crcTable: [UInt32] = (0..<256).map { n in
    (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
}

/// The CRC-32 of `bytes` (PNG's and zlib's).
func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    ~bytes.reduce(~UInt32(0)) { crcTable[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
}
