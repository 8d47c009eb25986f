@testable import CompSegIO
import CompSegTestSupport
import Foundation
import Testing

/// A run's training files saved again without loss (other bytes, the same pixels) resume it; a
/// file of other pixels is refused, named as such. `model.json` records each train and val
/// sample's pixel digest, and a run that recorded none records them when resumed.
@Suite struct ResavedDataTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// `png` with a text chunk after its header: what an editor writes that keeps the pixels.
    static func withTextChunk(_ png: [UInt8]) -> [UInt8] {
        let body = Array("tEXtComment\u{0}saved again".utf8)
        let chunk = withUnsafeBytes(of: UInt32(body.count - 4).bigEndian, Array.init) + body
            + withUnsafeBytes(of: PNGChunks.crc32(body).bigEndian, Array.init)
        let afterHeader = 8 + 8 + 13 + 4  // signature, IHDR's length and type, its data and CRC
        return Array(png[..<afterHeader]) + chunk + Array(png[afterHeader...])
    }

    /// The per-row records of `run`'s model.json.
    static func recordedRows(_ run: String) throws -> [[String: Any]] {
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/model.json"))) as! [String: Any]
        return (model["rows"] as! [String: Any])["perRow"] as! [[String: Any]]
    }

    /// A phantom (`phantom` options) in `folder`/data and a one-epoch run of it in `folder`/run.
    func phantomAndRun(in folder: TemporaryFolder, _ phantom: [String]) throws -> (data: String, run: String) {
        let data = folder.path("data"), run = folder.path("run")
        #expect(try cli.run(["phantom"] + phantom + ["--out", data]).status == 0)
        let trained = try cli.run(["train", "--modality", phantom[1], "--data", data + "/manifest.csv", "--out", run,
                                   "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(trained.status == 0, "\(trained.output)")
        return (data, run)
    }

    @Test func resavedTrainingFileResumes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (data, run) = try phantomAndRun(in: folder, ["--modality", "he", "--spots", "8", "--size", "32", "--seed", "1"])
        let rows = try Self.recordedRows(run)
        #expect(rows.count == 6 && rows.allSatisfy { ($0["pixels"] as? String)?.isEmpty == false }, "\(rows)")
        let digests = rows.map { $0["pixels"] as! String }
        #expect(Set(digests).count == 6, "six samples, six digests: \(digests)")

        // spot005.png (a training row) and spot003.png (a validation row) saved again with a text chunk: other bytes, the same pixels.
        let resaved = URL(fileURLWithPath: data + "/spot005.png"), validation = URL(fileURLWithPath: data + "/spot003.png")
        let original = try Data(contentsOf: resaved)
        let saved = Data(Self.withTextChunk(Array(original)))
        try saved.write(to: resaved)
        try Data(Self.withTextChunk(Array(try Data(contentsOf: validation)))).write(to: validation)
        // Saved again and listed in another order: the order is what is refused.
        let lines = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8).split(separator: "\n")
        try Data(([lines[0]] + lines.dropFirst().reversed()).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: data + "/reversed.csv"))
        let reversed = try cli.run(["train", "--resume", run, "--epochs", "2", "--data", data + "/reversed.csv"])
        #expect(reversed.status != 0 && reversed.output.contains("holds the run's train and val rows, but in another order"), "\(reversed.output)")
        let resumed = try cli.run(["train", "--resume", run, "--epochs", "2"])
        #expect(resumed.status == 0 && resumed.output.contains(
            "Resuming \(run) after epoch 1 of 2 (epochs 1 → 2, 2 files (spot003.png, spot005.png) saved again, with the run's pixels)"),
                "\(resumed.output)")
        // The record knows the files as they are now, and their pixels as they were; the next resume is quiet.
        let after = try Self.recordedRows(run)
        let row = after.first { $0["name"] as? String == "spot005.png" }!
        #expect(row["bytes"] as? Int == original.count + 12 + 19 && after.map { $0["pixels"] as! String } == digests, "\(after)")
        let again = try cli.run(["train", "--resume", run, "--epochs", "3"])
        #expect(again.status == 0 && !again.output.contains("saved again"), "\(again.output)")

        // A training file saved again under another name, scored as a test sample: named as the run's, by its pixels.
        try Data(Self.withTextChunk(Array(try Data(contentsOf: URL(fileURLWithPath: data + "/spot007.png")))))
            .write(to: URL(fileURLWithPath: data + "/copy.png"))
        let manifest = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8)
        try Data((manifest + "copy.png,0,test,\n").utf8).write(to: URL(fileURLWithPath: data + "/with-copy.csv"))
        let evaluated = try cli.run(["evaluate", "--model", run, "--data", data + "/with-copy.csv", "--out", folder.path("eval")])
        #expect(evaluated.status == 0 && evaluated.output.contains(
            "--split test scores 1 sample holding the pixels of the run's training rows (copy.png: the run's spot007.png; "
            + "saved again or copied): their AUC and Dice say nothing of how it segments new samples; leave them out of the test split"),
                "\(evaluated.output)")
        let report = try String(contentsOfFile: folder.path("eval/report.html"), encoding: .utf8)
        #expect(report.contains("1 of its samples is a training or validation sample of the run: not held out"))

        // Another spot's pixels under its name (another size): refused, naming the file's pixels.
        try FileManager.default.removeItem(at: resaved)
        try FileManager.default.copyItem(atPath: data + "/spot007.png", toPath: resaved.path)
        try Data(Self.withTextChunk(Array(try Data(contentsOf: resaved)))).write(to: resaved)
        let other = try cli.run(["train", "--resume", run, "--epochs", "4"])
        #expect(other.status != 0 && other.output.contains("are not the ones the run was trained on")
                    && other.output.contains("; read again: line 7 (spot005.png): other pixels than the run's;"), "\(other.output)")
        try saved.write(to: resaved)

        // A run that recorded no pixels (an older compseg's) cannot tell a file saved again, and says so; resumed on
        // the files it recorded, it records their pixels.
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/model.json"))) as! [String: Any]
        var recorded = model["rows"] as! [String: Any]
        recorded["perRow"] = (recorded["perRow"] as! [[String: Any]]).map { var r = $0; r["pixels"] = nil; return r }
        model["rows"] = recorded
        try JSONSerialization.data(withJSONObject: model, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: run + "/model.json"))
        try original.write(to: resaved)
        let unrecorded = try cli.run(["train", "--resume", run, "--epochs", "5"])
        #expect(unrecorded.status != 0 && unrecorded.output.contains("the run recorded no pixels of line 7 (spot005.png) (a run of an older "
                                                                  + "compseg), so a file saved again cannot be told from one changed"),
                "\(unrecorded.output)")
        try saved.write(to: resaved)
        let older = try cli.run(["train", "--resume", run, "--epochs", "5"])
        #expect(older.status == 0, "\(older.output)")
        #expect(try Self.recordedRows(run).map { $0["pixels"] as? String } == digests)
    }

    /// A Raman text map edited in place (one intensity's last digit, in a part of the file the
    /// sampled contents do not cover: its size and those pieces as they were) is refused once read.
    @Test func aFileEditedInPlaceIsRefusedByItsPixels() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (data, run) = try phantomAndRun(in: folder, ["--modality", "raman", "--spots", "16", "--size", "16", "--bands", "32"])
        let map = URL(fileURLWithPath: data + "/spot009.txt")  // a training row, 200 KB
        var bytes = Array(try Data(contentsOf: map))
        var end = 4096 + ((bytes.count - 4096) / 8 - 4096) / 2  // between the first two pieces sampled
        while bytes[end] != UInt8(ascii: "\n") { end += 1 }
        let digit = end - 1
        #expect((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[digit]))
        bytes[digit] = bytes[digit] == UInt8(ascii: "9") ? UInt8(ascii: "8") : bytes[digit] + 1
        try Data(bytes).write(to: map)
        let resumed = try cli.run(["train", "--resume", run, "--epochs", "2"])
        #expect(resumed.status != 0 && resumed.output.contains("line 11 (spot009.txt) holds other pixels than when the run began, though "
                                                            + "its file keeps its size and the pieces compared before reading (edited in place)"),
                "\(resumed.output)")
    }

    /// The checkpoint of a run of the same settings on other rows, copied in, is refused by the
    /// rows its epochs learned from.
    @Test func anotherRunsCheckpointIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let data = folder.path("data")
        #expect(try cli.run(["phantom", "--modality", "he", "--spots", "8", "--size", "32", "--seed", "1", "--out", data]).status == 0)
        let lines = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8).split(separator: "\n")
        try Data((lines.filter { !$0.hasPrefix("spot007.png,") }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: data + "/fewer.csv"))
        for (manifest, run) in [("manifest.csv", "a"), ("fewer.csv", "b")] {
            let trained = try cli.run(["train", "--modality", "he", "--data", data + "/" + manifest, "--out", folder.path(run),
                                       "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
            #expect(trained.status == 0, "\(trained.output)")
        }
        try FileManager.default.removeItem(atPath: folder.path("a/checkpoint.safetensors"))
        try FileManager.default.copyItem(atPath: folder.path("b/checkpoint.safetensors"), toPath: folder.path("a/checkpoint.safetensors"))
        let resumed = try cli.run(["train", "--resume", folder.path("a"), "--epochs", "2"])
        #expect(resumed.status != 0 && resumed.output.contains(
            "a/checkpoint.safetensors: its epochs learned from other train and val rows than model.json records"), "\(resumed.output)")
        // The head's setting edited by hand in model.json: refused as --head-option would be.
        let model = folder.path("b/model.json")
        let text = try String(contentsOfFile: model, encoding: .utf8)
        #expect(text.contains("\"alpha\" : 0.1"))
        try Data(text.replacingOccurrences(of: "\"alpha\" : 0.1", with: "\"alpha\" : 0.3").utf8).write(to: URL(fileURLWithPath: model))
        let edited = try cli.run(["train", "--resume", folder.path("b"), "--epochs", "2"])
        #expect(edited.status != 0 && edited.output.contains("b/model.json: its topology and head are not those the epochs of "
                                                              + "checkpoint.safetensors ran with: head.configuration.alpha 0.3 (the checkpoint's: 0.1);"),
                "\(edited.output)")
    }
}
