import Foundation
import Testing

/// File names on the command line as users type them.
@Suite struct FileNameTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// A file stored with its accent decomposed (as macOS and some archives store names) is found
    /// when its name is typed composed, and the other way round.
    @Test func accentedNamesMatchEitherUnicodeForm() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        let decomposed = folder.path("data/Zu\u{0308}rich.h5"), composed = folder.path("data/Z\u{00FC}rich.h5")
        try FileManager.default.copyItem(atPath: folder.path("data/spot000.h5"), toPath: decomposed)
        let r = try cli.run(["inspect", "--modality", "infrared", composed])
        #expect(r.status == 0 && r.output.contains("HDF5"), "\(r.output)")
        try FileManager.default.moveItem(atPath: decomposed, toPath: composed)
        #expect(try cli.run(["inspect", "--modality", "infrared", decomposed]).status == 0)
    }
}
