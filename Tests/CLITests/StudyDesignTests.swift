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
}
