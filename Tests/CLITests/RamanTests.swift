import Foundation
import Testing

/// The Raman modality as a user runs it: phantom files (ENVI and WiRE's text export) → train →
/// segment → evaluate, through the real readers and `modalities/raman.yaml`'s chain.
@Suite struct RamanTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    @Test func phantomTrainSegmentEvaluate() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let phantom = try cli.run(["phantom", "--modality", "raman", "--spots", "10", "--size", "24", "--bands", "120",
                                   "--seed", "1", "--out", folder.path("data")])
        #expect(phantom.status == 0, "\(phantom.output)")
        let manifest = try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8)
        #expect(manifest.contains("spot000.hdr,1,") && manifest.contains("spot001.txt,0,"), "\(manifest)")
        let inspected = try cli.run(["inspect", "--modality", "raman", folder.path("data/spot000.hdr"), folder.path("data/spot001.txt")])
        #expect(inspected.output.contains("spot000.hdr: ENVI, float32, 24×24×120 (H×W×B), axis 400–1800 Raman shift read as cm⁻¹,"),
                "\(inspected.output)")
        #expect(inspected.output.contains("spot001.txt: text map (long), text, 24×24×120 (H×W×B), axis 1800–400 (no unit) read as cm⁻¹,"),
                "\(inspected.output)")

        let trained = try cli.run(["train", "--modality", "raman", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"),
                                   "--epochs", "3", "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2"])
        #expect(trained.status == 0 && trained.output.contains("epoch 3/3"), "\(trained.output)")
        let model = try String(contentsOfFile: folder.path("run/model.json"), encoding: .utf8)
        for step in ["despike", "resample", "arpls", "normalize", "pca"] {
            #expect(model.contains("\"identifier\" : \"\(step)\""), "model.json lacks step \(step)")
        }
        #expect(model.contains("\"reader\" : \"raman\""))

        // An instrument's own grid, 395–1805 cm⁻¹ with no band at 400 or 1800, reads: resample
        // interpolates the fingerprint region from it (a crop to 400–1800 first refused it).
        let text = try String(contentsOfFile: folder.path("data/spot001.txt"), encoding: .utf8)
        let regridded = text.split(separator: "\n").map { line -> String in
            var fields = line.split(separator: "\t").map(String.init)
            if fields.count == 4, let wave = Double(fields[2]) { fields[2] = "\(395 + (wave - 400) * 1410 / 1400)" }
            return fields.joined(separator: "\t")
        }.joined(separator: "\n")
        try regridded.write(toFile: folder.path("data/grid.txt"), atomically: true, encoding: .utf8)
        let segmented = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot001.txt"),
                                     folder.path("data/grid.txt"), "--out", folder.path("seg")])
        #expect(segmented.status == 0 && FileManager.default.fileExists(atPath: folder.path("seg/spot001_mask.png"))
                    && FileManager.default.fileExists(atPath: folder.path("seg/grid_mask.png")), "\(segmented.output)")
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/manifest.csv"),
                                     "--out", folder.path("eval")])
        #expect(evaluated.status == 0 && evaluated.output.contains("AUC"), "\(evaluated.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path("eval/summary.json")))
    }
}
