import Foundation
import Testing

/// `evaluate` recognizes the run's training and validation samples among those it scores, by the
/// file name, size and sampled contents model.json records, wherever a manifest files them: a
/// manifest edited to call training rows "test" is not reported as held out.
@Suite struct HeldOutTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    @Test func trainingSamplesFiledAsTestAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        func evaluate(_ data: String, _ out: String) throws -> (output: String, title: String) {
            let r = try cli.run(["evaluate", "--model", folder.path("run"), "--data", data, "--out", folder.path(out)])
            #expect(r.status == 0, "\(r.output)")
            let report = try String(contentsOfFile: folder.path("\(out)/report.html"), encoding: .utf8)
            return (r.output, report.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first ?? "")
        }

        // The run's own test split: held out, and nothing to warn of.
        let own = try evaluate(manifest, "own")
        #expect(!own.output.contains("learned from") && !own.output.contains("validation rows") && own.title.contains("(held out from training)"),
                "\(own)")
        // summary.json says which network scored: the compseg, and the kept epoch and checksum weights.safetensors records.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("own/summary.json")))) as? [String: Any]
        let weights = try String(decoding: Data(contentsOf: URL(fileURLWithPath: folder.path("run/weights.safetensors"))).prefix(4096), as: UTF8.self)
        let checksum = summary?["weights_checksum"] as? String ?? "none"
        #expect(summary?["compseg_version"] as? String == "0.1.0" && summary?["weights_epoch"] as? Int == 1 && checksum.count == 16
                    && weights.contains("\"compseg_data_checksum\":\"\(checksum)\""), "\(String(describing: summary))")
        let ownReport = try String(contentsOfFile: folder.path("own/report.html"), encoding: .utf8)
        #expect(ownReport.contains("Written by compseg 0.1.0; the network's weights: epoch 1, checksum \(checksum).</footer>"))

        // A second phantom whose spots have the same names and sizes, and other contents: new samples, all of them.
        let other = try TemporaryFolder()
        defer { other.remove() }
        let otherManifest = try cli.phantom(other, size: 16, bands: 20, seed: 4)
        let fresh = try cli.run(["evaluate", "--model", folder.path("run"), "--data", otherManifest, "--split", "all", "--out", folder.path("fresh")])
        #expect(fresh.status == 0 && !fresh.output.contains("(model.json records them") && !fresh.output.contains("validation rows"),
                "\(fresh.output)")
        // Nor is its manifest the run's, though its names, sizes, labels and splits are.
        let freshReport = try String(contentsOfFile: folder.path("fresh/report.html"), encoding: .utf8)
        #expect(!fresh.output.contains("learned from") && !freshReport.contains("training samples included"))

        // The same manifest edited: its training rows now called test, its test rows train.
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        let swapped = text.replacingOccurrences(of: ",train,", with: ",TEMP,").replacingOccurrences(of: ",test,", with: ",train,")
            .replacingOccurrences(of: ",TEMP,", with: ",test,")
        try swapped.write(toFile: manifest, atomically: true, encoding: .utf8)
        let leaked = try evaluate(manifest, "leaked")
        #expect(leaked.output.contains("warning: --split test scores 4 training samples the network learned from (model.json records them as "
                                       + "the run's training rows: spot004.h5, spot005.h5, spot006.h5, spot007.h5)"), "\(leaked.output)")
        #expect(!leaked.title.contains("held out from training") && leaked.title.contains("4 of its samples are training or validation samples of the run"),
                "\(leaked.title)")

        // Its validation rows, filed as test in a manifest of their own elsewhere.
        let copies = try TemporaryFolder()
        defer { copies.remove() }
        var lines = ["path,label,split,truth"]
        for (spot, label) in [("spot002", 1), ("spot003", 0)] {
            for suffix in [".h5", "_truth.png"] {
                try FileManager.default.copyItem(atPath: folder.path("data/\(spot)\(suffix)"), toPath: copies.path("\(spot)\(suffix)"))
            }
            lines.append("\(spot).h5,\(label),test,\(spot)_truth.png")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: copies.path("manifest.csv"), atomically: true, encoding: .utf8)
        let chose = try evaluate(copies.path("manifest.csv"), "chose")
        #expect(chose.output.contains("warning: --split test scores 2 validation samples of the run (model.json records them as its validation "
                                      + "rows: spot002.h5, spot003.h5): they chose its kept epoch and threshold"), "\(chose.output)")
    }
}
