import CompSegIO
import Foundation
import Testing

/// Areas and scale from the files' recorded pixel size, or `--pixel-size`: the records' area
/// columns, the report's, the PNGs' pHYs, and `inspect`'s line.
@Suite struct ScaleTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    func cells(_ path: String) throws -> [[String]] {
        try CSV.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
    }

    @Test func areasFollowThePixelSize() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 3)  // infrared, 5.5 µm pixels
        #expect(try cli.trainTiny(folder, manifest) == 0)
        let inspected = try cli.run(["inspect", "--modality", "infrared", folder.path("data/spot000.h5")])
        #expect(inspected.output.contains("pixel size: 5.5 µm (recorded in the file)"), "\(inspected.output)")

        // As recorded: areas of 5.5 µm pixels; the mask PNG carries them.
        #expect(try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg")]).status == 0)
        let recorded = try cells(folder.path("seg/segmentation.csv"))
        #expect(recorded[0].suffix(5) == ["pixel_width_um", "pixel_height_um", "tissue_area_mm2", "tumor_area_mm2", "patient"])
        for row in recorded.dropFirst() {
            #expect(row[8] == "5.5" && row[9] == "5.5" && abs(Double(row[10])! - Double(row[2])! * 30.25e-6) < 1e-12
                    && abs(Double(row[11])! - Double(row[3])! * 30.25e-6) < 1e-12, "\(row)")
        }
        #expect(RasterFile.pixelSize(URL(fileURLWithPath: folder.path("seg/spot000_mask.png")))?.size == PixelSize(5.5))  // to 5 digits: pHYs is whole pixels per metre

        // Given: taken instead, x and y apart; a size that is none is refused before anything is read.
        let given = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("given"),
                                 "--pixel-size", "2x4"])
        #expect(given.status == 0, "\(given.output)")
        for row in try cells(folder.path("given/segmentation.csv")).dropFirst() {
            #expect(row[8] == "2.0" && row[9] == "4.0" && abs(Double(row[10])! - Double(row[2])! * 8e-6) < 1e-12, "\(row)")
        }
        let refused = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("bad"),
                                   "--pixel-size", "0.25 um"])
        #expect(refused.status != 0 && refused.output.contains("--pixel-size takes micrometres per pixel as WIDTH or WIDTHxHEIGHT"),
                "\(refused.output)")

        // evaluate: the table's area columns, the cards' and panels' areas, and the overlays' scale (enlarged 10×: 0.55 µm).
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--split", "all",
                                     "--out", folder.path("eval")])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let report = try String(contentsOfFile: folder.path("eval/report.html"), encoding: .utf8)
        #expect(report.contains("tumor area (mm²)") && report.contains("tissue area (mm²)"))
        let perSample = try cells(folder.path("eval/per_sample.csv"))
        #expect(perSample[0].suffix(5) == ["pixel_width_um", "pixel_height_um", "tissue_area_mm2", "tumor_area_mm2", "patient"]
                && perSample.dropFirst().allSatisfy { $0[14] == "5.5" })
        let overlay = try #require(RasterFile.pixelSize(URL(fileURLWithPath: folder.path("eval/spot000_overlay.png"))))
        #expect(abs(overlay.size.x - 0.55) < 1e-6, "\(overlay)")
        let panel = try Data(contentsOf: URL(fileURLWithPath: folder.path("eval/spot000_panel.png")))
        #expect(panel.range(of: Data("Description".utf8)) != nil && panel.range(of: Data("Panel of sample spot000, ".utf8)) != nil)
    }

    /// A weights file of another run put in the run's folder is named, not used.
    @Test func anotherRunsWeightsAreRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        #expect(try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", folder.path("other"), "--epochs", "1",
                             "--width", "4", "--depth", "2", "--seed", "7"]).status == 0)
        let model = try String(contentsOfFile: folder.path("run/model.json"), encoding: .utf8)
        #expect(model.contains("\"weightsChecksum\""))
        try FileManager.default.removeItem(atPath: folder.path("run/weights.safetensors"))
        try FileManager.default.copyItem(atPath: folder.path("other/weights.safetensors"), toPath: folder.path("run/weights.safetensors"))
        let r = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg")])
        #expect(r.status != 0 && r.output.contains("weights.safetensors: holds other weights (epoch 1, checksum ")
                && r.output.contains("the file was replaced, perhaps by another run's weights"), "\(r.output)")
        // The run's own, written again from its checkpoint, are taken.
        let resumed = try cli.run(["train", "--resume", folder.path("run")])
        #expect(resumed.status == 0 && resumed.output.contains("its tensors were not the kept epoch's"), "\(resumed.output)")
        #expect(try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg")]).status == 0)
    }

    /// A manifest as a spreadsheet pads it: empty columns after the named ones, rows ending in commas.
    @Test func aSpreadsheetsPaddingIsTakenInStride() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n")
        let padded = folder.path("data/padded.csv")
        try Data((lines.map { $0 + ",," }.joined(separator: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: padded))
        let r = try cli.run(["evaluate", "--model", folder.path("run"), "--data", padded, "--split", "all", "--out", folder.path("eval")])
        #expect(r.status == 0, "\(r.output)")
        // A named column beyond the five is still refused, so that a misspelt one is not passed over.
        try Data((lines.enumerated().map { $0.offset == 0 ? $0.element + ",notes" : $0.element + ",x" }.joined(separator: "\n")).utf8)
            .write(to: URL(fileURLWithPath: padded))
        let notes = try cli.run(["evaluate", "--model", folder.path("run"), "--data", padded, "--split", "all", "--out", folder.path("eval2")])
        #expect(notes.status != 0 && notes.output.contains("unknown column 'notes'"), "\(notes.output)")
    }
}
