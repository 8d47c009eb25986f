import Foundation
import Testing
import CompSegCore

/// Paths as the user gives them: `.` and doubled slashes dropped, `x/..` dropped where `x` is a
/// folder and kept where it is a link (the system resolves it where the link leads), `~/` the home folder.
@Suite struct FileURLTests {
    @Test func pathsResolveAsTheSystemResolvesThem() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-paths-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("real/deep"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/link", withDestinationPath: "real/deep")
        #expect(fileURL(root.path + "/./real//deep/").path == root.path + "/real/deep")
        #expect(fileURL(root.path + "/real/deep/../x.h5").path == root.path + "/real/x.h5")
        #expect(fileURL(root.path + "/link/../x.h5").path == root.path + "/link/../x.h5")
        #expect(fileURL("./a/../b.h5", from: root).path == root.path + "/b.h5")
        #expect(fileURL("/../..").path == "/")
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        #expect(fileURL("~/runs/a").path == fileURL(home + "/runs/a").path)
        #expect(fileURL("~/a", from: root, home: false).path == root.path + "/~/a")
        #expect(fileURL("x").path == fileURL(FileManager.default.currentDirectoryPath + "/x").path)
    }
}
