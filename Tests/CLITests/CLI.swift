import Foundation

/// Runs the `compseg` executable built beside the test bundle.
struct CLI {
    let binary: URL

    init() throws {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleFolder, bundleFolder.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("compseg") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CLIError("compseg executable not found beside \(bundleFolder.path); build it with --build-tests")
        }
        binary = found
    }

    struct Result { let status: Int32; let output: String }

    /// Runs `compseg arguments…` to the end, or `executable arguments…` (a shell, `taskset` in
    /// front of compseg); output is stdout and stderr together.
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:], in folder: String? = nil, through executable: String? = nil) throws -> Result {
        let process = try start(arguments, environment: environment, in: folder, executable: executable.map { URL(fileURLWithPath: $0) })
        let data = process.pipe.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return Result(status: process.process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    func start(_ arguments: [String], environment: [String: String] = [:], in folder: String? = nil, executable: URL? = nil) throws
        -> (process: Process, pipe: Pipe) {
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, pipe)
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-cli-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

extension CLI {
    /// `compseg phantom` of 8 spots into `folder/data`; the manifest's path.
    func phantom(_ folder: TemporaryFolder, size: Int, bands: Int, seed: Int) throws -> String {
        let r = try run(["phantom", "--spots", "8", "--size", "\(size)", "--bands", "\(bands)", "--seed", "\(seed)",
                         "--out", folder.path("data")])
        guard r.status == 0 else { throw CLIError("compseg phantom failed: \(r.output)") }
        return folder.path("data/manifest.csv")
    }

    /// `compseg train` of a tiny infrared U-Net (width 4, depth 2) for one epoch on `manifest`
    /// into `folder/run`; its exit status.
    func trainTiny(_ folder: TemporaryFolder, _ manifest: String) throws -> Int32 {
        try run(["train", "--modality", "infrared", "--data", manifest, "--out", folder.path("run"), "--epochs", "1",
                 "--width", "4", "--depth", "2"]).status
    }
}

/// A history.csv's lines without their seconds and images/s, which differ between runs.
func historyWithoutTimings(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        $0.split(separator: ",", omittingEmptySubsequences: false).enumerated()
            .filter { ![4, 5].contains($0.offset) }.map(\.element).joined(separator: ",")
    }
}
