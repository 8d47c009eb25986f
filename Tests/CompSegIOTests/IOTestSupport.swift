import Foundation
import Testing
@testable import CompSegIO
import CompSegTestSupport

/// `Tests/Fixtures/io/<name>` (written by `tools/make_io_fixtures.py`).
func ioFixture(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("io/\(name)") }

/// A fresh empty folder, removed by the returned closure.
func temporaryFolder(_ label: String) throws -> (URL, () -> Void) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-io-\(label)-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return (dir, { try? FileManager.default.removeItem(at: dir) })
}

/// Files in `dir` (to check that atomic writes leave no temporary files behind).
func contents(of dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

/// Expects `body` to throw an `IOError` for `file` whose message contains `text`.
func expectIOError(_ file: URL, containing text: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error for \(file.lastPathComponent)", sourceLocation: sourceLocation)
    } catch let error as IOError {
        #expect(error.file == file.path, sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "message: \(error.message)", sourceLocation: sourceLocation)
        #expect(error.description == "\(file.path): \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected IOError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The fixtures' byte formula: `(x + 10y + 100c) % 256`, as a row-major interleaved image.
func bytePattern(width: Int = 5, height: Int = 4, channels: Int) -> [UInt8] {
    var out: [UInt8] = []
    for y in 0..<height { for x in 0..<width { for c in 0..<channels { out.append(UInt8((x + 10 * y + 100 * c) % 256)) } } }
    return out
}
