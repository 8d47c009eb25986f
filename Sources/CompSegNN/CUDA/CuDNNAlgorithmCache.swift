import Foundation

/// The convolution algorithms cuDNN's timing chose on this machine, kept in a JSON file so that
/// later runs take the same ones: no timing, and the same algorithm, so the same bits, run after
/// run. Entries are keyed by machine (GPU, compute capability, cuDNN version, precision) and by
/// problem (kind, shapes, padding, stride). A file that is not such a cache is read as empty and
/// never written. Each write holds an exclusive lock (`flock` on a `.lock` file beside it) while it
/// reads the file, adds its entry and renames a complete copy over it, so that writers in other
/// processes (or of other precisions) lose none of each other's entries.
final class AlgorithmCache: @unchecked Sendable {
    /// The file's content.
    private struct Contents: Codable {
        var format = AlgorithmCache.format
        /// Per machine, per problem, the algorithm (cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t).
        var machines: [String: [String: Int32]] = [:]
    }

    static let format = "compseg cuDNN algorithms 1"
    static let variable = "COMPSEG_CUDNN_CACHE"

    let url: URL
    /// This machine's key in the file.
    let machine: String
    private var kept: [String: Int32]
    /// Why nothing is written, once a read or write failed (the timings then last the process).
    var unusable: String? { lock.withLock { failure } }
    private var failure: String?
    private let lock = NSLock()

    /// The cache at `url` (which need not exist yet) for `machine`'s entries.
    init(url: URL, machine: String) {
        self.url = url
        self.machine = machine
        kept = [:]
        switch Self.read(url) {
        case .success(let contents): kept = contents.machines[machine] ?? [:]
        case .failure(let why): failure = why.description
        }
        // Known at once (the backend's name says so from the start), not at the first write.
        let folder = url.deletingLastPathComponent()
        if failure == nil, (try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)) == nil
            || access(folder.path, W_OK) != 0 {
            failure = "\(url.path) cannot be written: its folder cannot be made or written"
        }
    }

    /// Where the cache lies: `COMPSEG_CUDNN_CACHE` (a path, or `off` for none), else
    /// `$XDG_CACHE_HOME/compseg/cudnn-algorithms.json`, else the same under `~/.cache`.
    static func location(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let path = environment[variable], !path.isEmpty {
            return path == "off" ? nil : URL(fileURLWithPath: path)
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : nil }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("compseg/cudnn-algorithms.json")
    }

    /// The algorithm kept for `problem`, if any.
    func algorithm(for problem: String) -> Int32? { lock.withLock { kept[problem] } }

    /// Keeps `algorithm` for `problem`, in memory and in the file (unless a read or write failed).
    func keep(_ algorithm: Int32, for problem: String) {
        lock.withLock {
            guard kept[problem] != algorithm else { return }
            kept[problem] = algorithm
            guard failure == nil else { return }
            do {
                try Self.locked(url) {
                    var contents = try Self.read(url).get()
                    contents.machines[machine, default: [:]][problem] = algorithm
                    try Self.write(contents, to: url)
                }
            } catch {
                failure = "\(error)"
            }
        }
    }

    /// The file's contents: empty where it does not exist or is empty (a write cut short before it
    /// reached the disk); a failure naming the file where it cannot be read or is not a cache.
    private static func read(_ url: URL) -> Result<Contents, CUDAError> {
        guard FileManager.default.fileExists(atPath: url.path) else { return .success(Contents()) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            return .failure(CUDAError("\(url.path) cannot be read: \(error.localizedDescription)"))
        }
        if data.isEmpty { return .success(Contents()) }
        guard let contents = try? JSONDecoder().decode(Contents.self, from: data), contents.format == format else {
            return .failure(CUDAError("\(url.path) is not compseg's cache of cuDNN algorithms (a JSON object with "
                                      + "\"format\": \"\(format)\"); left as it is"))
        }
        return .success(contents)
    }

    /// Runs `body` holding an exclusive lock on `url`'s `.lock` file, against other writers.
    private static func locked(_ url: URL, _ body: () throws -> Void) throws {
        let path = url.path + ".lock", fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw CUDAError("\(path) cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }  // which releases the lock
        guard flock(fd, LOCK_EX) == 0 else { throw CUDAError("\(path) cannot be locked: \(String(cString: strerror(errno)))") }
        try body()
    }

    /// Writes `contents` to a temporary file beside `url` (making the folder), then renames it over `url`.
    private static func write(_ contents: Contents, to url: URL) throws(CUDAError) {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(contents).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CUDAError("\(url.path) cannot be written: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CUDAError("\(url.path) cannot be written: \(reason)")
        }
    }
}
