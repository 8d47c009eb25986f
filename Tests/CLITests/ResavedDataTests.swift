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

    @Test func resavedTrainingFileResumes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let data = folder.path("data"), run = folder.path("run")
        #expect(try cli.run(["phantom", "--modality", "he", "--spots", "8", "--size", "32", "--seed", "1", "--out", data]).status == 0)
        let trained = try cli.run(["train", "--modality", "he", "--data", data + "/manifest.csv", "--out", run,
                                   "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(trained.status == 0, "\(trained.output)")
        let rows = try Self.recordedRows(run)
        #expect(rows.count == 6 && rows.allSatisfy { ($0["pixels"] as? String)?.isEmpty == false }, "\(rows)")
        let digests = rows.map { $0["pixels"] as! String }
        #expect(Set(digests).count == 6, "six samples, six digests: \(digests)")

        // spot005.png (a training row) saved again with a text chunk: other bytes, the same pixels.
        let resaved = URL(fileURLWithPath: data + "/spot005.png")
        let original = try Data(contentsOf: resaved)
        let saved = Data(Self.withTextChunk(Array(original)))
        try saved.write(to: resaved)
        let resumed = try cli.run(["train", "--resume", run, "--epochs", "2"])
        #expect(resumed.status == 0 && resumed.output.contains("Resuming \(run) after epoch 1 of 2 (epochs 1 → 2, spot005.png saved again, with the run's pixels)"),
                "\(resumed.output)")
        // The record knows the file as it is now, and its pixels as they were.
        let after = try Self.recordedRows(run)
        let row = after.first { $0["name"] as? String == "spot005.png" }!
        #expect(row["bytes"] as? Int == original.count + 12 + 19 && after.map { $0["pixels"] as! String } == digests, "\(after)")

        // A training file saved again under another name, scored as a test sample: named as the run's, by its pixels.
        try Data(Self.withTextChunk(Array(try Data(contentsOf: URL(fileURLWithPath: data + "/spot007.png")))))
            .write(to: URL(fileURLWithPath: data + "/copy.png"))
        let manifest = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8)
        try Data((manifest + "copy.png,0,test,\n").utf8).write(to: URL(fileURLWithPath: data + "/with-copy.csv"))
        let evaluated = try cli.run(["evaluate", "--model", run, "--data", data + "/with-copy.csv", "--out", folder.path("eval")])
        #expect(evaluated.status == 0 && evaluated.output.contains(
            "--split test scores 1 sample holding the pixels of the run's training rows in other files (copy.png: the run's spot007.png; "
            + "saved again or copied): their AUC and Dice say nothing of how it segments new samples; leave them out of the test split"),
                "\(evaluated.output)")
        let report = try String(contentsOfFile: folder.path("eval/report.html"), encoding: .utf8)
        #expect(report.contains("1 of its samples are the run's training or validation samples: not held out"))

        // Another spot's pixels under its name (another size): refused, naming the file's pixels.
        try FileManager.default.removeItem(at: resaved)
        try FileManager.default.copyItem(atPath: data + "/spot007.png", toPath: resaved.path)
        try Data(Self.withTextChunk(Array(try Data(contentsOf: resaved)))).write(to: resaved)
        let other = try cli.run(["train", "--resume", run, "--epochs", "3"])
        #expect(other.status != 0 && other.output.contains("are not the ones the run was trained on")
                    && other.output.contains("read, its pixels are not the run's either: line 7 (spot005.png)"), "\(other.output)")
        try saved.write(to: resaved)

        // A run that recorded no pixels (an older compseg's) records them when resumed.
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/model.json"))) as! [String: Any]
        var recorded = model["rows"] as! [String: Any]
        recorded["perRow"] = (recorded["perRow"] as! [[String: Any]]).map { var r = $0; r["pixels"] = nil; return r }
        model["rows"] = recorded
        try JSONSerialization.data(withJSONObject: model, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: run + "/model.json"))
        let older = try cli.run(["train", "--resume", run, "--epochs", "3"])
        #expect(older.status == 0, "\(older.output)")
        #expect(try Self.recordedRows(run).map { $0["pixels"] as? String } == digests)
    }
}
