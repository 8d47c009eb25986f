import CompSegIO
import Foundation
import Testing

/// `train --init-from RUN` fine-tunes a trained run on other data: its network starts from the
/// run's kept weights, reads the data with the run's fitted preprocessing, keeps its topology,
/// records where it began, and a resume stopped before its first epoch begins there again.
@Suite struct FineTuneTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// The largest difference between two weights files' tensors (batch-norm statistics aside,
    /// which a training epoch moves whatever the learning rate).
    func largestDifference(_ a: String, _ b: String) throws -> Float {
        let x = try Safetensors(contentsOf: URL(fileURLWithPath: a)).tensors, y = try Safetensors(contentsOf: URL(fileURLWithPath: b)).tensors
        #expect(Set(x.keys) == Set(y.keys))
        return x.keys.filter { !$0.contains("running") }.map { key in
            zip(x[key]!.scalars, y[key]!.scalars).map { abs($0 - $1) }.max() ?? 0
        }.max() ?? .infinity
    }

    @Test func aFineTunedRunStartsFromTheRunsWeights() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let first = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        #expect(try cli.trainTiny(folder, first) == 0)
        let other = try TemporaryFolder()
        defer { other.remove() }
        let second = try cli.phantom(other, size: 16, bands: 20, seed: 4)

        // One epoch at a learning rate too small to move a weight measurably (Adam's steps are about
        // lr each): the kept weights are the first run's (their epochs apart, which moved them
        // by about 1e-3 from the initializer's), not a new initializer's (another seed).
        let tuned = try cli.run(["train", "--init-from", folder.path("run"), "--data", second, "--out", folder.path("tuned"),
                                 "--epochs", "1", "--lr", "1e-9", "--seed", "5"])
        #expect(tuned.status == 0, "\(tuned.output)")
        #expect(tuned.output.contains("Starting from the weights of \(folder.path("run")) (epoch 1), with its unet"), "\(tuned.output)")
        let difference = try largestDifference(folder.path("run/weights.safetensors"), folder.path("tuned/weights.safetensors"))
        #expect(difference < 1e-5, "the fine-tuned weights moved by \(difference) from those it began with")

        // model.json names where it began, with the checksum of those weights and the rows they learned from,
        // and keeps the first run's topology and fitted preprocessing.
        func json(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
        }
        let model = try json(folder.path("tuned/model.json")), original = try json(folder.path("run/model.json"))
        let initial = model["initialWeights"] as? [String: Any] ?? [:]
        let checksum = try Safetensors(contentsOf: URL(fileURLWithPath: folder.path("run/weights.safetensors"))).dataChecksum
        #expect(initial["run"] as? String == folder.path("run") && initial["epoch"] as? Int == 1 && initial["checksum"] as? String == checksum
                    && (initial["rows"] as? [Any])?.count == 1, "\(initial)")
        func described(_ m: [String: Any], _ key: String) throws -> Data {
            try JSONSerialization.data(withJSONObject: m[key] ?? [:], options: .sortedKeys)
        }
        #expect(try described(model, "topology") == described(original, "topology"))
        #expect(model["format"] as? Int == 6 && original["format"] as? Int == 5, "a compseg that reads only 5 refuses it, not drops initialWeights")
        #expect(try described(model, "modality") == described(original, "modality"), "the preprocessing was fitted anew")

        // What would change the network or its inputs is refused, each named.
        let refused = try cli.run(["train", "--init-from", folder.path("run"), "--data", second, "--out", folder.path("wider"),
                                   "--width", "8", "--modality", "raman"])
        #expect(refused.status != 0 && refused.output.contains("--init-from keeps the modality and topology of \(folder.path("run"))")
                    && refused.output.contains("width 8 (the run's: 4)") && refused.output.contains("reader raman (the run's: infrared)"),
                "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("wider")))
        let nowhere = try cli.run(["train", "--init-from", folder.path("nowhere"), "--data", second, "--out", folder.path("x")])
        #expect(nowhere.status != 0 && nowhere.output.contains("--init-from \(folder.path("nowhere")): no such folder"), "\(nowhere.output)")
        // A settings file's reader keys are checked as for a new run, though the run's options stand.
        try "initFrom: run\ndata: \(second)\nout: x\nmodalityConfiguration: {tissue: {removeSpecks: 3}}\n"
            .write(toFile: folder.path("tune.yaml"), atomically: true, encoding: .utf8)
        let unknown = try cli.run(["train", "--config", folder.path("tune.yaml")])
        #expect(unknown.status != 0 && unknown.output.contains("removeSpecks"), "\(unknown.output)")

        // Files the run's fitted preprocessing cannot take (10 bands, not 20): refused, saying why the remedies differ, or left out.
        let narrow = try TemporaryFolder()
        defer { narrow.remove() }
        _ = try cli.phantom(narrow, size: 16, bands: 10, seed: 6)
        let folderOfSecond = (second as NSString).deletingLastPathComponent
        var mixed = ["path,label,split"] + (try String(contentsOfFile: second, encoding: .utf8)).split(separator: "\n").dropFirst().map {
            "\(folderOfSecond)/" + $0.split(separator: ",").prefix(3).joined(separator: ",")
        }
        mixed.append(narrow.path("data/spot000.h5") + ",1,train")
        try (mixed.joined(separator: "\n") + "\n").write(toFile: folder.path("mixed.csv"), atomically: true, encoding: .utf8)
        let mismatch = try cli.run(["train", "--init-from", folder.path("run"), "--data", folder.path("mixed.csv"), "--out", folder.path("mixed")])
        #expect(mismatch.status != 0 && mismatch.output.contains("With --init-from the files are read as \(folder.path("run")) read its own"),
                "\(mismatch.output)")
        let skipped = try cli.run(["train", "--init-from", folder.path("run"), "--data", folder.path("mixed.csv"), "--out", folder.path("mixed"),
                                   "--epochs", "1", "--skip-unreadable"])
        #expect(skipped.status == 0 && skipped.output.contains("mixed.csv: line 10: sample spot000: its channels (10 bands"), "\(skipped.output)")

        // evaluate knows the first run's samples as ones the network saw.
        let seen = try cli.run(["evaluate", "--model", folder.path("tuned"), "--data", first, "--split", "all", "--out", folder.path("seen")])
        #expect(seen.status == 0 && seen.output.contains("training samples the network learned from (model.json records them as training "
                                                         + "rows of the run or of the runs its weights began from"), "\(seen.output)")

        // evaluate's summary and report say where the weights began.
        let summary = try json(folder.path("seen/summary.json"))
        #expect(summary["fine_tuned_from"] as? String == folder.path("run"), "\(summary)")
        #expect(try String(contentsOfFile: folder.path("seen/report.html"), encoding: .utf8)
                    .contains("; fine-tuned from the weights of \(folder.path("run")) (epoch 1).</footer>"))

        // A copy without the names of the files those weights learned from (sent elsewhere) is still applied.
        try FileManager.default.copyItem(atPath: folder.path("tuned"), toPath: folder.path("private"))
        var stripped = try json(folder.path("private/model.json")), start = stripped["initialWeights"] as? [String: Any] ?? [:]
        start["rows"] = nil
        stripped["initialWeights"] = start
        try JSONSerialization.data(withJSONObject: stripped).write(to: URL(fileURLWithPath: folder.path("private/model.json")))
        let unnamed = try cli.run(["evaluate", "--model", folder.path("private"), "--data", first, "--split", "all", "--out", folder.path("unnamed")])
        #expect(unnamed.status == 0 && !unnamed.output.contains("the runs its weights began from"), "\(unnamed.output)")

        // A fine-tuned run stopped before its first epoch (its model.json alone) resumes from the weights it began with…
        for name in ["stopped", "moved", "changed"] {
            try FileManager.default.createDirectory(atPath: folder.path(name), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: folder.path("tuned/model.json"), toPath: folder.path("\(name)/model.json"))
        }
        let resumed = try cli.run(["train", "--resume", folder.path("stopped")])
        #expect(resumed.status == 0 && resumed.output.contains("after epoch 0 of 1 on \(second), from the weights of \(folder.path("run")) it began "
                                                               + "with (their checksum agrees)"), "\(resumed.output)")
        #expect(try largestDifference(folder.path("run/weights.safetensors"), folder.path("stopped/weights.safetensors")) < 1e-5)
        // …from where they moved, given by --init-from (the checksum there agreeing), which it records.
        try FileManager.default.moveItem(atPath: folder.path("run"), toPath: folder.path("elsewhere"))
        let lost = try cli.run(["train", "--resume", folder.path("moved")])
        #expect(lost.status != 0 && lost.output.contains("give its new place with --init-from"), "\(lost.output)")
        let found = try cli.run(["train", "--resume", folder.path("moved"), "--init-from", folder.path("elsewhere")])
        #expect(found.status == 0 && found.output.contains("(initial weights \(folder.path("run")) → \(folder.path("elsewhere")))"), "\(found.output)")
        #expect((try json(folder.path("moved/model.json"))["initialWeights"] as? [String: Any])?["run"] as? String == folder.path("elsewhere"))
        try FileManager.default.moveItem(atPath: folder.path("elsewhere"), toPath: folder.path("run"))
        // …and refuses where those weights are others now (a network of another seed's).
        #expect(try cli.run(["train", "--modality", "infrared", "--data", second, "--out", other.path("run"), "--epochs", "1",
                             "--width", "4", "--depth", "2", "--seed", "5"]).status == 0)
        try FileManager.default.removeItem(atPath: folder.path("run/weights.safetensors"))
        try FileManager.default.copyItem(atPath: other.path("run/weights.safetensors"), toPath: folder.path("run/weights.safetensors"))
        let changed = try cli.run(["train", "--resume", folder.path("changed")])
        #expect(changed.status != 0 && changed.output.contains("\(folder.path("run/weights.safetensors")): holds other weights"), "\(changed.output)")
    }
}
