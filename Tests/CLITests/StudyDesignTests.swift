@testable import CompSegIO
import Foundation
import Testing

/// Small and odd study designs are said for what they are: a truth that contradicts its label, a
/// scored split of one class, a threshold chosen on cancer samples alone, settings that train
/// otherwise than they say, one image listed twice.
@Suite struct StudyDesignTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// A 12-spot infrared phantom in `folder`/data (4 test, 2 val, 6 train rows) and its manifest's lines.
    func phantom(in folder: TemporaryFolder) throws -> [String] {
        #expect(try cli.run(["phantom", "--spots", "12", "--size", "32", "--bands", "64", "--out", folder.path("data")]).status == 0)
        return try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func write(_ lines: [String], to path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    func train(_ manifest: String, _ out: String, _ extra: [String] = []) throws -> CLI.Result {
        try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", out, "--epochs", "1", "--width", "4", "--depth", "2",
                     "--batch", "2"] + extra)
    }

    @Test func truthsAndSplitsOfOneClassAreSaid() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let lines = try phantom(in: folder)
        let run = folder.path("run")
        #expect(try train(folder.path("data/manifest.csv"), run).status == 0)

        // A cancer-free test sample whose truth marks tumor: named, and given no pixel sensitivity.
        let contradicting = lines.map { $0.hasPrefix("spot001.h5,") ? "spot001.h5,0,test,spot000_truth.png" : $0 }
        try write(contradicting, to: folder.path("data/contradicting.csv"))
        let evaluated = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/contradicting.csv"), "--out", folder.path("e1")])
        #expect(evaluated.status == 0 && evaluated.output.contains("the truth of 1 cancer-free sample marks tumor (spot001: ")
                    && evaluated.output.contains("its label or its truth is wrong"), "\(evaluated.output)")
        let table = try String(contentsOfFile: folder.path("e1/per_sample.csv"), encoding: .utf8).split(separator: "\n")
        let header = table[0].split(separator: ",", omittingEmptySubsequences: false)
        let row = table.first { $0.hasPrefix("spot001,") }!.split(separator: ",", omittingEmptySubsequences: false)
        #expect(row[header.firstIndex(of: "pixel_sensitivity")!].isEmpty, "\(row)")

        // A test split of cancer samples alone, at a threshold that marks nearly all tissue: said, and the report draws no cut.
        let cancerOnly = lines.filter { !($0.contains(",0,test")) }
        try write(cancerOnly, to: folder.path("data/cancer-test.csv"))
        let lit = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/cancer-test.csv"), "--out", folder.path("e2"),
                               "--threshold", "1e-6"])
        #expect(lit.status == 0 && lit.output.contains("of the tissue of these cancer samples, and no cancer-free sample is scored"),
                "\(lit.output)")
        let report = try String(contentsOfFile: folder.path("e2/report.html"), encoding: .utf8)
        #expect(report.contains("No cut is drawn") && !report.contains("on or above the dashed cut"))

        // A threshold chosen on a val split of cancer samples alone is said to be.
        let cancerVal = lines.filter { !($0.contains(",0,val")) }
        try write(cancerVal, to: folder.path("data/cancer-val.csv"))
        let chosen = try train(folder.path("data/cancer-val.csv"), folder.path("run-cancer-val"))
        #expect(chosen.status == 0 && chosen.output.contains("no cancer-free validation sample weighed the tissue the masks mark falsely"),
                "\(chosen.output)")
    }

    /// A warm-up not given that spans the whole run is noted; a threshold edited by hand is said
    /// to be; files of another modality than a run's name the run's own.
    @Test func shortRunsAndOtherModalitiesAreSaid() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try phantom(in: folder)
        let run = folder.path("run")
        let short = try train(folder.path("data/manifest.csv"), run, ["--epochs", "2"])
        #expect(short.status == 0 && short.output.contains("Note: the warm-up of 3 epochs spans all 2 epochs of this run")
                    && !short.output.contains("warning: a warm-up"), "\(short.output)")
        // A threshold edited by hand in model.json is said to be, beside what training chose.
        let modelFile = URL(fileURLWithPath: run + "/model.json")
        var model = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: modelFile)) as? [String: Any])
        var threshold = try #require(model["threshold"] as? [String: Any])
        threshold["value"] = 0.5
        model["threshold"] = threshold
        try JSONSerialization.data(withJSONObject: model).write(to: modelFile)
        let edited = try cli.run(["segment", "--model", run, "--out", folder.path("s0"), folder.path("data/spot000.h5")])
        #expect(edited.status == 0 && edited.output.contains("Threshold 0.50: the run's, set in model.json by hand (training chose "),
                "\(edited.output)")
        #expect(try cli.run(["phantom", "--modality", "he", "--spots", "4", "--size", "32", "--out", folder.path("he")]).status == 0)
        let other = try cli.run(["segment", "--model", run, "--data", folder.path("he/manifest.csv"), "--out", folder.path("s")])
        #expect(other.status != 0 && other.output.contains("RGB (H&E) images are read by the he modality")
                    && other.output.contains("with its modality 'infrared': files of another modality take a run trained on them"),
                "\(other.output)")
    }

    @Test func settingsAndCopiesThatTrainOtherwiseAreSaid() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let lines = try phantom(in: folder)
        // A warm-up as long as training, and a batch larger than the training split.
        let long = try train(folder.path("data/manifest.csv"), folder.path("run1"), ["--warmup", "2", "--batch", "50"])
        #expect(long.status == 0 && long.output.contains("a warm-up of 2 epochs is as long as training (1): the learning rate rises from near 0 all the way and never reaches")
                    && long.output.contains("--batch 50 is more than the 6 training samples"), "\(long.output)")
        let plain = try train(folder.path("data/manifest.csv"), folder.path("run2"))
        #expect(plain.status == 0 && !plain.output.contains("is as long as training") && !plain.output.contains("the same pixels")
                    && !plain.output.contains("rows: what sets the classes apart"), "\(plain.output)")
        // One cancer row among six cancer-free ones (the phantom's cancer-free spots of every split, as training rows).
        let skewed = lines.filter { !$0.contains(",1,") || $0.hasPrefix("spot006.h5,") }
            .map { $0.contains(",0,") ? $0.replacingOccurrences(of: ",test,", with: ",train,").replacingOccurrences(of: ",val,", with: ",train,") : $0 }
        try write(skewed + ["spot004.h5,1,val,spot004_truth.png"], to: folder.path("data/skewed.csv"))
        let few = try train(folder.path("data/skewed.csv"), folder.path("run-skewed"))
        #expect(few.status == 0 && few.output.contains("the train split holds 1 cancer and 6 cancer-free rows"), "\(few.output)")

        // A training file copied under another name with the other label: named.
        try FileManager.default.copyItem(atPath: folder.path("data/spot006.h5"), toPath: folder.path("data/copy.h5"))
        try write(lines + ["copy.h5,0,train,spot007_truth.png"], to: folder.path("data/copied.csv"))
        let copied = try train(folder.path("data/copied.csv"), folder.path("run3"))
        #expect(copied.status == 0 && copied.output.contains("1 set of train and val files holds the same pixels: ")
                    && copied.output.contains("(labelled cancer, cancer-free)")
                    && copied.output.contains("one image under both labels tells the network nothing"), "\(copied.output)")
    }

    /// What users new to the method get wrong is set right: a manifest without its header, the
    /// image as its own mask, tumor annotations in the mask column, no val rows, reversed labels,
    /// tissue masks as truth, a threshold as a percentage, outputs into the run, other tools' words.
    @Test func misconceptionsAreSetRight() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let lines = try phantom(in: folder)
        let run = folder.path("run")
        #expect(try train(folder.path("data/manifest.csv"), run).status == 0)
        func refused(_ result: CLI.Result, _ text: String) {
            #expect(result.status != 0 && result.output.contains(text), "no '\(text)' in:\n\(result.output)")
        }
        try write(Array(lines.dropFirst()), to: folder.path("data/headless.csv"))
        refused(try train(folder.path("data/headless.csv"), folder.path("r1")), "is a row of data: the header line is missing; put path,label,split,truth (or")
        try write(["path,label,split,mask"] + lines.dropFirst().map { $0.split(separator: ",")[0...2].joined(separator: ",") + "," + $0.split(separator: ",")[0] },
                  to: folder.path("data/self.csv"))
        refused(try train(folder.path("data/self.csv"), folder.path("r2")), "line 2: its mask is the sample's own image; the mask column takes a PNG of the tissue")
        #expect(try train(folder.path("data/self.csv"), folder.path("r2")).output.contains("2: mask ") == false)
        // Tumor annotations as masks: the cancer-free rows' are empty, named as such.
        try write(["path,label,split,mask"] + lines.dropFirst().map { $0 }, to: folder.path("data/truth-as-mask.csv"))
        refused(try train(folder.path("data/truth-as-mask.csv"), folder.path("r3")),
                "line 7: sample spot005 has an empty tissue mask: its mask spot005_truth.png (the manifest's mask column) marks no pixel: that column takes the tissue")
        // ... and given on the cancer rows alone, which train, warned of.
        try write(["path,label,split,mask"] + lines.dropFirst().map { $0.contains(",1,") ? $0 : String($0.split(separator: ",")[0...2].joined(separator: ",")) + "," },
                  to: folder.path("data/cancer-masks.csv"))
        let masked = try train(folder.path("data/cancer-masks.csv"), folder.path("r4"))
        #expect(masked.status == 0 && masked.output.contains("only cancer rows give a mask (spot004_truth.png, spot006_truth.png, spot008_truth.png, …)")
                    && masked.output.contains("if these mark tumor, they belong in the truth column"), "\(masked.output)")
        // No val rows.
        try write(lines.map { $0.replacingOccurrences(of: ",val,", with: ",train,") }, to: folder.path("data/no-val.csv"))
        let noVal = try train(folder.path("data/no-val.csv"), folder.path("r5"))
        #expect(noVal.status == 0 && noVal.output.contains("no val rows: the kept weights are those of the lowest training loss"), "\(noVal.output)")
        // Labels the other way round, and tissue masks (all white) as truths.
        try write(lines.map { $0.replacingOccurrences(of: ",1,", with: ",x,").replacingOccurrences(of: ",0,", with: ",1,").replacingOccurrences(of: ",x,", with: ",0,") },
                  to: folder.path("data/reversed.csv"))
        let reversed = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/reversed.csv"), "--out", folder.path("e1")])
        #expect(reversed.status == 0 && reversed.output.contains("every truth contradicts its label: those of the cancer samples mark no tumor")
                    && !reversed.output.contains("cancer-free sample marks tumor"), "\(reversed.output)")
        try PNGImage(width: 32, height: 32, channels: 1, pixels: [UInt8](repeating: 255, count: 32 * 32))
            .write(to: URL(fileURLWithPath: folder.path("data/white.png")))
        try write(lines.map { $0.hasPrefix("path") ? $0 : $0.split(separator: ",")[0...2].joined(separator: ",") + ",white.png" }, to: folder.path("data/white.csv"))
        let white = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/white.csv"), "--out", folder.path("e2")])
        #expect(white.status == 0 && white.output.contains("the truth of every sample, cancer-free ones too, marks (nearly) all of its tissue: "
                                                             + "tissue masks in the truth column?"), "\(white.output)")
        // A healthy evaluation of the run's own manifest says none of these.
        let healthy = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/manifest.csv"), "--out", folder.path("e3")])
        for doubt in ["contradicts its label", "tissue masks in the truth column", "no val rows", "only cancer rows give a mask", "rows: what sets"] {
            #expect(healthy.status == 0 && !healthy.output.contains(doubt), "'\(doubt)' in:\n\(healthy.output)")
        }
        // A percentage, outputs into the run, other tools' words.
        refused(try cli.run(["segment", "--model", run, folder.path("data/spot000.h5"), "--out", folder.path("s"), "--threshold", "35"]),
                "--threshold must be a number in (0, 1), got 35 (a fraction of 1: 0.35 for 35%)")
        refused(try cli.run(["segment", "--model", run, folder.path("data/spot000.h5"), "--out", run]), "is the run folder --model names")
        refused(try cli.run(["predict", "--model", run]), "unknown command 'predict' for 'compseg'; to apply a trained run to images: compseg segment")
        refused(try cli.run(["train", "--data", "m.csv", "--out", "o", "--gpu"]), "a GPU is chosen with --device cuda")
        refused(try cli.run(["segment", "--model", run, folder.path("data"), "--out", folder.path("s2")]),
                "is a folder holding manifest.csv: give --data")
        // --epochs given again as the total a finished run has: what it means is said.
        let again = try cli.run(["train", "--resume", run, "--epochs", "1"])
        #expect(again.status == 0 && again.output.contains("--epochs is the total, not how many more: --epochs 6 trains 5 more"), "\(again.output)")
    }
}
