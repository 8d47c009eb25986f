import Foundation
import Testing

/// `compseg split`: a table of labelled samples with patients becomes a manifest train reads
/// without a patient across splits; folds test every sample once; nothing there is written over.
@Suite struct SplitTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    @Test func samplesBecomeAManifestEachPatientInOneSplit() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(try cli.run(["phantom", "--spots", "16", "--size", "16", "--bands", "20", "--out", folder.path("data")]).status == 0)
        // The phantom's manifest, its splits dropped and two spots per patient: the table a study starts from.
        let lines = try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[0] == "path,label,split,truth")
        let samples = ["path,label,truth,patient"] + lines.dropFirst().enumerated().map { i, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return "data/\(f[0]),\(f[1]),data/\(f[3]),P\(i / 2)"
        }
        try Data((samples.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("samples.csv")))

        let split = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("study/manifest.csv"), "--seed", "2"])
        #expect(split.status == 0 && split.output.contains("16 samples of 8 patients, seed 2")
                    && split.output.contains("  split   samples  cancer  cancer-free  patients"), "\(split.output)")
        let written = try String(contentsOfFile: folder.path("study/manifest.csv"), encoding: .utf8)
        #expect(written.hasPrefix("path,label,split,truth,patient\n../data/spot000.h5,"), "\(written)")
        // train reads it (its paths from the new folder), and finds no patient in two splits.
        let trained = try cli.run(["train", "--modality", "infrared", "--data", folder.path("study/manifest.csv"), "--out", folder.path("run"),
                                   "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(trained.status == 0 && !trained.output.contains("more than one split"), "\(trained.output)")
        // The run records the command that began it, and where it was typed.
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as? [String: Any]
        let versions = model?["versions"] as? [String: String]
        #expect(versions?["command"]?.hasPrefix("compseg train --modality infrared --data ") == true && versions?["workingFolder"]?.isEmpty == false,
                "\(String(describing: versions))")

        // Run again: the same seed gives the same file; it is not written over without --force, and never the --data file.
        let again = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("study/manifest.csv"), "--seed", "2"])
        #expect(again.status == 64 && again.output.contains("exists already; pass --force"), "\(again.output)")
        #expect(try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("study/manifest.csv"), "--seed", "2",
                             "--force"]).status == 0)
        #expect(try String(contentsOfFile: folder.path("study/manifest.csv"), encoding: .utf8) == written)
        let over = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("samples.csv"), "--force"])
        #expect(over.status == 64 && over.output.contains("is the --data file"), "\(over.output)")

        // Folds: four manifests, each sample in exactly one fold's test split; --test is refused beside --folds.
        let folds = try cli.run(["split", "--data", folder.path("data/manifest.csv"), "--out",
                                 folder.path("cv/m.csv"), "--folds", "4"])
        #expect(folds.status == 0 && folds.output.contains("(the split column of manifest.csv is not read)")
                    && folds.output.contains("fold 4: m-fold4.csv"), "\(folds.output)")
        var tested: [String: Int] = [:]
        for k in 1...4 {
            for row in try String(contentsOfFile: folder.path("cv/m-fold\(k).csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            where row.contains(",test") { tested[String(row.prefix { $0 != "," }), default: 0] += 1 }
        }
        #expect(tested.count == 16 && tested.values.allSatisfy { $0 == 1 }, "\(tested)")
        let both = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("cv2/m.csv"), "--folds", "3", "--test", "0.2"])
        #expect(both.status == 64 && both.output.contains("leave --test out"), "\(both.output)")
        // Fewer folds over an earlier split's: its folds beyond are refused, and removed with --force, so a loop takes no stale fold.
        let fewer = ["split", "--data", folder.path("data/manifest.csv"), "--out", folder.path("cv/m.csv"), "--folds", "3"]
        let stale = try cli.run(fewer)
        #expect(stale.status == 64 && stale.output.contains("exists already"), "\(stale.output)")
        let replaced = try cli.run(fewer + ["--force"])
        #expect(replaced.status == 0 && replaced.output.contains("removed the earlier split's m-fold4.csv")
                    && !FileManager.default.fileExists(atPath: folder.path("cv/m-fold4.csv")), "\(replaced.output)")
        // --force replaces only manifests, and never removes the --data file, though it be named as a fold beyond.
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: folder.path("notes.csv")))
        let notes = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("notes.csv"), "--force"])
        #expect(notes.status == 64 && notes.output.contains("exists and is no manifest"), "\(notes.output)")
        try FileManager.default.copyItem(atPath: folder.path("samples.csv"), toPath: folder.path("samples-fold5.csv"))
        let input = try cli.run(["split", "--data", folder.path("samples-fold5.csv"), "--out", folder.path("samples.csv"), "--folds", "4", "--force"])
        #expect(input.status == 64 && input.output.contains("samples-fold5.csv is the --data file, which split does not remove")
                    && FileManager.default.fileExists(atPath: folder.path("samples-fold5.csv")), "\(input.output)")
        // More folds than patients, or a folder for --out, are refused.
        let many = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("cv3/m.csv"), "--folds", "9"])
        #expect(many.status == 64 && many.output.contains("the samples come from 8 patients"), "\(many.output)")
        let slash = try cli.run(["split", "--data", folder.path("samples.csv"), "--out", folder.path("cv3") + "/"])
        #expect(slash.status == 64 && slash.output.contains("names a folder"), "\(slash.output)")
    }
}
