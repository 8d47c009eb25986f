import CompSegCore
import CompSegTestSupport
import CompSegTraining
import ExampleTopology
import Foundation
import Testing

/// The repository's `docs/` and `Examples/` folders, found from this file's location.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // Tests/DocsTests
        .deletingLastPathComponent().deletingLastPathComponent()
    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

struct DocsTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary folder, removed by `remove()`.
struct ScratchFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-docs-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The executable `name` built beside the test bundle (`swift build --build-tests`).
func builtExecutable(_ name: String) throws -> URL {
    let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [bundleFolder, bundleFolder.deletingLastPathComponent()].map { $0.appendingPathComponent(name) }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw DocsTestError("\(name) executable not found beside \(bundleFolder.path); build it with --build-tests")
    }
    return found
}

/// Runs the built executable `name` with `arguments`: its exit status, standard output and error.
func runBuilt(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let (outputFile, errorFile) = (folder.file("stdout"), folder.file("stderr"))
    for file in [outputFile, errorFile] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
    let process = Process()
    process.executableURL = try builtExecutable(name)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outputFile)
    process.standardError = try FileHandle(forWritingTo: errorFile)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: outputFile, encoding: .utf8), try String(contentsOf: errorFile, encoding: .utf8))
}

/// Trains the guide's TinyFCN (width 8) on 16 synthetic squares through the head `head` (registered
/// by `register`) for `epochs`: the training losses, and the mean activation inside and outside
/// the squares of cancer images.
func trainTinyFCN(head: String, register: (inout Registry) throws -> Void, epochs: Int) throws
    -> (losses: [Float], meanIn: Float, meanOut: Float) {
    var registry = Registry()
    try TinyFCN.register(in: &registry)
    try register(&registry)
    let data = try SyntheticSquares(count: 16, seed: 7)
    let network = try registry.topology("tiny-fcn", inputChannels: 2, seed: 3, PluginConfiguration(json: Data(#"{"width":8}"#.utf8)))
    var settings = TrainingSettings()
    settings.epochs = epochs; settings.batchSize = 4; settings.learningRate = 3e-3; settings.seed = 1
    let trainer = try Trainer(network: network, head: try registry.head(head), settings: settings)
    try trainer.run(train: data.samples, validation: [])
    let (meanIn, meanOut) = try data.meanActivation(of: network)
    return (trainer.history.map(\.trainLoss), meanIn, meanOut)
}

/// Expects the guide `guide` to quote the example file `source` in full.
func expectQuotedVerbatim(_ source: String, in guide: String) throws {
    let (g, s) = (try Repository.text(guide), try Repository.text(source))
    #expect(g.contains(s.trimmingCharacters(in: .newlines)), "\(guide) must quote \(source) in full")
}
