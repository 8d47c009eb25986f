import CompSegCore
import CompSegIO
import ExampleModality
import Foundation
import Testing

/// The worked example of docs/adding-a-modality.md: it registers, reads a PNG, and the guide
/// quotes it as it is.
@Suite struct ExampleModalityTests {
    @Test func registersAndLoadsAGreyscalePNG() throws {
        var registry = Registry()
        try GreyscalePNGSource.register(in: &registry)
        #expect(registry.modalities.infos.map(\.identifier) == ["greyscale-png"])

        let folder = try ScratchFolder()
        defer { folder.remove() }
        // 4 wide, 3 high; the zero pixels are background.
        let pixels: [UInt8] = [0, 51, 102, 0,
                               0, 255, 204, 0,
                               0, 0, 0, 0]
        let file = folder.file("spot7.png")
        try PNGImage(width: 4, height: 3, channels: 1, pixels: pixels).write(to: file)

        let source = try registry.modality("grey-png")  // by alias, default configuration
        let sample = try source.load(file, label: .cancer)
        #expect(sample.id == "spot7")
        #expect(sample.image.shape == [1, 3, 4])
        #expect(sample.channels == .bands(["grey"]))
        #expect(sample.label == .cancer)
        #expect(sample.image.scalars == pixels.map { Float($0) / 255 })
        #expect(sample.tissue.pixels == pixels.map { $0 != 0 })
        #expect(sample.preview.bytes.count == 3 * 12 && sample.preview.bytes[3 * 5] == 255)
    }

    @Test func configurationSetsTheThresholdAndRejectsUnknownKeys() throws {
        var registry = Registry()
        try GreyscalePNGSource.register(in: &registry)
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let file = folder.file("a.png")
        try PNGImage(width: 2, height: 1, channels: 1, pixels: [40, 200]).write(to: file)

        let strict = try registry.modality("greyscale-png", PluginConfiguration(json: Data(#"{"tissueThreshold": 100}"#.utf8)))
        #expect(try strict.load(file, label: nil).tissue.pixels == [false, true])

        #expect(throws: ConfigurationError.self) {
            try registry.modality("greyscale-png", PluginConfiguration(json: Data(#"{"treshold": 1}"#.utf8)))
        }
    }

    @Test func rejectsColourPNGsNamingTheFile() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let file = folder.file("rgb.png")
        try PNGImage(width: 1, height: 1, channels: 3, pixels: [1, 2, 3]).write(to: file)
        let error = #expect(throws: IOError.self) { try GreyscalePNGSource().load(file, label: nil) }
        #expect(error?.description.contains("rgb.png") == true)
        #expect(error?.description.contains("expected an 8-bit greyscale PNG") == true)
    }

    @Test func theGuideQuotesTheExampleVerbatim() throws {
        let guide = try Repository.text("docs/adding-a-modality.md")
        let source = try Repository.text("Examples/ExampleModality/GreyscalePNGSource.swift")
        #expect(guide.contains(source.trimmingCharacters(in: .newlines)),
                "docs/adding-a-modality.md must quote Examples/ExampleModality/GreyscalePNGSource.swift in full")
    }
}
