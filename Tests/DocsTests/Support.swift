import Foundation

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
