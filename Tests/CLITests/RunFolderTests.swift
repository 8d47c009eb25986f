import CompSegIO
import Foundation
import Testing

/// The run folder survives any kill: `compseg train` is killed (SIGKILL, through the
/// COMPSEG_FAULT_KILL_AT hook) just before and just after every durable write of a 3-epoch run,
/// and `--resume` (or, when the kill came before the run's model.json existed, training again
/// into the same folder) ends with the same weights, model.json and history as one uninterrupted run.
@Suite(.serialized) struct RunFolderTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    func train(_ manifest: String, _ out: String) -> [String] {
        ["train", "--modality", "infrared", "--data", manifest, "--out", out, "--epochs", "3",
         "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2"]
    }

    /// A small infrared phantom in `folder/data`; its manifest's path.
    func phantom(_ folder: TemporaryFolder) throws -> String { try cli.phantom(folder, size: 16, bands: 20, seed: 5) }

    @Test func killAtEveryWriteThenResumeEqualsOneRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let whole = try cli.run(train(manifest, folder.path("whole")))
        #expect(whole.status == 0, "\(whole.output)")

        var point = 1
        while point < 100 {
            let cut = folder.path("cut-\(point)")
            let killed = try cli.run(train(manifest, cut), environment: ["COMPSEG_FAULT_KILL_AT": "\(point)"])
            if killed.status == 0 { break }  // past the last write: the run finished
            let hasModel = FileManager.default.fileExists(atPath: cut + "/model.json")
            let again = try cli.run(hasModel ? ["train", "--resume", cut] : train(manifest, cut))
            #expect(again.status == 0, "kill at write point \(point): \(again.output)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: cut).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty, "kill at write point \(point): \(leftovers)")
            // The curves follow from the history alone (no timings), so they match byte for byte too.
            for file in ["weights.safetensors", "curves.png", "curves.svg"] {
                let same = try Data(contentsOf: URL(fileURLWithPath: cut + "/" + file))
                    == Data(contentsOf: URL(fileURLWithPath: folder.path("whole/\(file)")))
                #expect(same, "kill at write point \(point): \(file) differs from the uninterrupted run's")
            }
            // model.json too, but for the command line that began it (its --out differs).
            func model(_ run: String) throws -> String {
                try String(contentsOfFile: run + "/model.json", encoding: .utf8).replacingOccurrences(of: run, with: "RUN")
            }
            #expect(try model(cut) == model(folder.path("whole")), "kill at write point \(point): model.json differs from the uninterrupted run's")
            #expect(try historyWithoutTimings(cut + "/history.csv") == historyWithoutTimings(folder.path("whole/history.csv")), "kill at write point \(point)")
            try? FileManager.default.removeItem(atPath: cut)
            point += 1
        }
        // model.json at creation, then per epoch the checkpoint, weights, model.json, history and
        // the curves' PNG and SVG (weights only when the epoch is the best): before and after each rename.
        #expect(point > 10, "only \(point - 1) write points were found")
    }

    @Test func resumeRefusesWhatItCannotHonourAndStatesWhatItDoes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let run = folder.path("run")
        #expect(try cli.run(train(phantom(folder), run)).status == 0)
        let refused = try cli.run(["train", "--resume", run, "--lr", "0.1", "--width", "8", "--optimizer", "sgd"])
        #expect(refused.status == 64 && refused.output.contains("cannot honour width 8 (the run's: 4), --lr 0.1 (the run's: ")
                    && refused.output.contains(", --optimizer sgd (the run's: "), "\(refused.output)")
        // The command that began the run, with --resume added, continues it: every value is the run's.
        let begun = try cli.run(train(folder.path("data/manifest.csv"), run) + ["--resume", run])
        #expect(begun.status == 0 && begun.output.contains("nothing"), "\(begun.output)")
        // The run's own settings given again are taken; another value is refused, naming the run's.
        let same = try cli.run(["train", "--resume", run, "--seed", "0", "--batch", "2"])
        #expect(same.status == 0, "\(same.output)")
        let otherSeed = try cli.run(["train", "--resume", run, "--seed", "5"])
        // Refused as a command line (exit 64), as the structural options above are.
        #expect(otherSeed.status == 64 && otherSeed.output.contains("cannot honour --seed 5 (the run's: 0)"), "\(otherSeed.output)")
        // --paper-recipe sets its settings as their options would; a settings file's weightDecay is compared too.
        let recipe = try cli.run(["train", "--resume", run, "--paper-recipe"])
        #expect(recipe.status == 64 && recipe.output.contains("cannot honour --paper-recipe's batch 7 (the run's: 2), --paper-recipe's "
                                                                + "optimizer rmsprop (the run's: adam), --paper-recipe's warmup 0 (the run's: 3), "
                                                                + "--paper-recipe's balancedBatches false (the run's: true);"), "\(recipe.output)")
        let decay = folder.path("decay.yaml")
        try Data("weightDecay: 0.01\nminDelta: 0\n".utf8).write(to: URL(fileURLWithPath: decay))
        let decayed = try cli.run(["train", "--resume", run, "--config", decay])
        #expect(decayed.status == 64 && decayed.output.contains("cannot honour \(decay)'s (or the command line's) weightDecay 0.01 "
                                                                  + "(the run's: 0.0); start"), "\(decayed.output)")
        // A modalityConfiguration given alone is compared with the run's modality's options too.
        let masking = folder.path("masking.yaml")
        try Data("modalityConfiguration:\n  mask: null\n".utf8).write(to: URL(fileURLWithPath: masking))
        let remasked = try cli.run(["train", "--resume", run, "--config", masking])
        #expect(remasked.status == 64 && remasked.output.contains("cannot honour \(masking)'s (or the command line's) modalityConfiguration: "
                                                                    + "options.mask null (the run's: /mask)"), "\(remasked.output)")
        let paperRun = folder.path("paper")
        #expect(try cli.run(train(folder.path("data/manifest.csv"), paperRun) + ["--paper-recipe"]).status == 0)
        let paperResumed = try cli.run(["train", "--resume", paperRun, "--paper-recipe", "--batch", "2", "--epochs", "4"])
        #expect(paperResumed.status == 0 && paperResumed.output.contains("after epoch 3 of 4 (epochs 3 → 4)"), "\(paperResumed.output)")
        let more = try cli.run(["train", "--resume", run, "--epochs", "4"])
        #expect(more.status == 0 && more.output.contains("after epoch 3 of 4 (epochs 3 → 4)"), "\(more.output)")
        #expect(more.output.contains("epoch 4/4"), "\(more.output)")
        let fewer = try cli.run(["train", "--resume", run, "--epochs", "2"])
        // Fewer epochs than it has trained: a usage error, as the refusals above, saying what --epochs means.
        #expect(fewer.status == 64 && fewer.output.contains("already completed 4 epochs, more than the 2 asked for (--epochs is the total "
                                                            + "to reach)"), "\(fewer.output)")
        let model = try String(contentsOfFile: run + "/model.json", encoding: .utf8)
        #expect(model.contains("\"epochs\" : 4"), "a refused resume must not rewrite model.json: \(model)")
        // model.json's training settings edited by hand: the checkpoint knows those its epochs ran with.
        let handEdited = folder.path("hand-edited")
        try FileManager.default.copyItem(atPath: run, toPath: handEdited)
        let text = try String(contentsOfFile: handEdited + "/model.json", encoding: .utf8)
        try text.replacingOccurrences(of: "\"learningRate\" : ", with: "\"learningRate\" : 0.5, \"was\" : ")
            .write(toFile: handEdited + "/model.json", atomically: true, encoding: .utf8)
        let tampered = try cli.run(["train", "--resume", handEdited, "--epochs", "5"])
        #expect(tampered.status == 1 && tampered.output.contains("its training settings are not those its epochs ran with (learningRate 0.5 "
                                                                  + "(the checkpoint's: ") && !tampered.output.contains("Prepared"),
                "\(tampered.output)")

        // The settings file that began a run, given again with --resume: taken where it sets what the run has.
        let settings = folder.path("run.yaml")
        func write(_ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: settings)) }
        try write("modality: ftir\ndata: data/manifest.csv\nout: cfg\ntopology: u-net\nwidth: 4\ndepth: 2\nepochs: 2\nbatch: 2\n"
                  + "headConfiguration: {alpha: 0.1}\n")
        #expect(try cli.run(["train", "--config", settings]).status == 0)
        try write("modality: ftir\ndata: data/manifest.csv\nout: cfg\ntopology: u-net\nwidth: 4\ndepth: 2\nepochs: 3\nbatch: 2\n"
                  + "headConfiguration: {alpha: 0.1}\n")
        let repeated = try cli.run(["train", "--config", settings, "--resume", folder.path("cfg")])
        #expect(repeated.status == 0 && repeated.output.contains("after epoch 2 of 3 (epochs 2 → 3)"), "\(repeated.output)")
        try write("modality: raman\ndata: data/manifest.csv\nout: other\nwidth: 8\ndepth: 2\nepochs: 4\nbatch: 2\nhead: topk\n"
                  + "headConfiguration: {alpha: 0.2}\n")
        let changed = try cli.run(["train", "--config", settings, "--resume", folder.path("cfg")])
        #expect(changed.status == 64 && changed.output.contains("so it cannot honour \(settings)'s (or the command line's) out \(folder.path("other")) (the run resumed is ")
                    && changed.output.contains(", head topk (the run's: compsegnet), width 8 (the run's: 4), headConfiguration.alpha 0.2 (the run's: 0.1), "
                                                + "modality raman: reader raman (the run's: infrared)"), "\(changed.output)")
        #expect(try String(contentsOfFile: folder.path("cfg/model.json"), encoding: .utf8).contains("\"epochs\" : 3"))
        // A modality file with the run's steps compares their settings too (the fit they recorded aside).
        let lab = folder.path("lab.yaml")
        try Data("reader: infrared\npreprocessing:\n  - crop: {lower: 948, upper: 1800}\n  - normalize: {method: vector}\n  - pca: {components: 8}\n"
            .utf8).write(to: URL(fileURLWithPath: lab))
        let steps = try cli.run(["train", "--resume", run, "--modality", lab])
        #expect(steps.status == 64 && steps.output.contains("cannot honour modality \(lab): pca.components 8 (the run's: 16);"),
                "\(steps.output)")
        // The run's own steps given again are taken.
        try Data("reader: infrared\npreprocessing:\n  - crop: {lower: 948, upper: 1800}\n  - normalize: {method: vector}\n  - pca: {components: 16}\n"
            .utf8).write(to: URL(fileURLWithPath: lab))
        let ownSteps = try cli.run(["train", "--resume", run, "--modality", lab])
        #expect(ownSteps.status == 0, "\(ownSteps.output)")

        // --data is for the run's manifest where it moved: the same rows elsewhere resume; other rows are refused.
        let moved = folder.path("moved")
        try FileManager.default.copyItem(atPath: folder.path("data"), toPath: moved)
        let there = try cli.run(["train", "--resume", run, "--epochs", "5", "--data", moved + "/manifest.csv"])
        #expect(there.status == 0 && there.output.contains("after epoch 4 of 5 (epochs 4 → 5, manifest ")
                    && there.output.contains("/data/manifest.csv → \(moved)/manifest.csv)"), "\(there.output)")
        let recorded = try String(contentsOfFile: run + "/model.json", encoding: .utf8)
        #expect(recorded.contains("\"manifest\" : \"\(moved)/manifest.csv\""), "model.json names where the manifest is now: \(recorded)")
        let lines = try String(contentsOfFile: moved + "/manifest.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        // The last spot (a training one) with the other label.
        let relabelled = lines.enumerated().map { k, line in
            k < lines.count - 1 ? line : line.contains(",1,") ? line.replacingOccurrences(of: ",1,", with: ",0,")
                : line.replacingOccurrences(of: ",0,", with: ",1,")
        }
        try Data((relabelled.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: moved + "/other.csv"))
        let other = try cli.run(["train", "--resume", run, "--epochs", "6", "--data", moved + "/other.csv"])
        // The row that changed is named, with its line, as the run had it.
        let lastName = lines.last!.prefix { $0 != "," }, lastLabel = lines.last!.contains(",1,") ? ("cancer-free", "cancer") : ("cancer", "cancer-free")
        #expect(other.status != 0 && other.output.contains("its train and val rows (")
                    && other.output.contains("are not the ones the run was trained on")
                    && other.output.contains("line \(lines.count) (\(lastName)): label \(lastLabel.0), the run's \(lastLabel.1)"), "\(other.output)")
        // The same rows in another order would batch otherwise: refused.
        let reordered = [lines[0]] + lines.dropFirst().reversed()
        try Data((reordered.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: moved + "/reordered.csv"))
        let shuffled = try cli.run(["train", "--resume", run, "--epochs", "6", "--data", moved + "/reordered.csv"])
        #expect(shuffled.status != 0 && shuffled.output.contains("holds the run's train and val rows, but in another order"),
                "\(shuffled.output)")
        // A training file written over with another sample of its size (names and sizes as they were): refused.
        let trainFiles = lines.dropFirst().filter { $0.contains(",train") }.map { moved + "/" + $0.prefix { $0 != "," } }
        let (kept, overwritten) = (try Data(contentsOf: URL(fileURLWithPath: trainFiles[1])), trainFiles[0])
        let original = try Data(contentsOf: URL(fileURLWithPath: overwritten))
        #expect(kept.count == original.count && kept != original)
        try kept.write(to: URL(fileURLWithPath: overwritten))
        let swapped = try cli.run(["train", "--resume", run, "--epochs", "6", "--data", moved + "/manifest.csv"])
        let overwrittenName = URL(fileURLWithPath: overwritten).lastPathComponent
        let overwrittenLine = lines.firstIndex { $0.hasPrefix(overwrittenName + ",") }! + 1
        #expect(swapped.status != 0 && swapped.output.contains("but one or more of them holds other data than when the run began")
                    && swapped.output.contains("line \(overwrittenLine) (\(overwrittenName)): other contents of the same size"),
                "\(swapped.output)")
        try original.write(to: URL(fileURLWithPath: overwritten))
        // A manifest that moved away is named with the remedy; another thread count is said and recorded.
        try FileManager.default.moveItem(atPath: moved, toPath: folder.path("moved-again"))
        let gone = try cli.run(["train", "--resume", run, "--epochs", "6"])
        #expect(gone.status != 0 && gone.output.contains("the run's manifest is not there any more; if it moved, pass --data"),
                "\(gone.output)")
        let threads = try cli.run(["train", "--resume", run, "--epochs", "6", "--threads", "1", "--data", folder.path("moved-again/manifest.csv")])
        #expect(threads.status == 0 && threads.output.contains("threads 2 → 1: the epochs from here differ slightly"), "\(threads.output)")
        #expect(try String(contentsOfFile: run + "/model.json", encoding: .utf8).contains("\"threads\" : \"2 → 1\""))
        // A finished run resumed trains nothing: another thread count is not recorded, model.json stays as it was.
        let finished = try Data(contentsOf: URL(fileURLWithPath: run + "/model.json"))
        let again = try cli.run(["train", "--resume", run, "--threads", "2", "--data", folder.path("moved-again/manifest.csv")])
        #expect(again.status == 0 && !again.output.contains("threads 1 → 2"), "\(again.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/model.json")) == finished)
        // A file given as the run, and a model.json compseg did not write, are named as such.
        let file = try cli.run(["train", "--resume", folder.path("moved-again/manifest.csv")])
        #expect(file.status == 1 && file.output.contains("moved-again/manifest.csv: is a file; expected a run folder"), "\(file.output)")
        try FileManager.default.createDirectory(atPath: folder.path("broken"), withIntermediateDirectories: true)
        try Data("{\"format\": 4}".utf8).write(to: URL(fileURLWithPath: folder.path("broken/model.json")))
        let broken = try cli.run(["train", "--resume", folder.path("broken")])
        #expect(broken.status == 1 && broken.output.contains("broken/model.json: not a run configuration that compseg wrote (")
                    && !broken.output.contains("CodingKeys"), "\(broken.output)")
        // A topology setting out of range in an edited model.json is named with the file.
        try FileManager.default.copyItem(atPath: run, toPath: folder.path("wide"))
        var edited = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("wide/model.json")))) as! [String: Any]
        var topology = edited["topology"] as! [String: Any], configuration = topology["configuration"] as! [String: Any]
        configuration["width"] = 100_000
        topology["configuration"] = configuration
        edited["topology"] = topology
        try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: folder.path("wide/model.json")))
        let wide = try cli.run(["segment", "--model", folder.path("wide"), "--data", folder.path("moved-again/manifest.csv"), "--out", folder.path("s")])
        #expect(wide.status == 1 && wide.output.contains("wide/model.json: ") && wide.output.contains("width must lie in 1…4096, got 100000"),
                "\(wide.output)")
        // A COMPSEG_THREADS that is no thread count is named, not silently ignored.
        let threadsVariable = try cli.run(["train", "--resume", run, "--data", folder.path("moved-again/manifest.csv")],
                                          environment: ["COMPSEG_THREADS": "abc"])
        #expect(threadsVariable.status == 0 && threadsVariable.output.contains("warning: COMPSEG_THREADS=abc is not a thread count in 1…1024: ignored"),
                "\(threadsVariable.output)")
    }

    /// COMPSEG_THREADS (or OMP_NUM_THREADS) sets every pool's threads (OpenMP's and OpenBLAS's too), as `--threads`
    /// does: the run it records as one thread trains as one thread. (On 2 cores or more, this data
    /// trains to other weights with 2 threads, which OpenMP's pool took when only CompSeg's count was set.)
    @Test func threadsVariableTrainsAsTheOption() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        func weights(_ run: String, threads: String, environment: [String: String] = [:]) throws -> Data {
            let args = train(manifest, folder.path(run)).dropLast(2) + (threads.isEmpty ? [] : ["--threads", threads])
            let r = try cli.run(Array(args), environment: environment)
            #expect(r.status == 0, "\(r.output)")
            return try Data(contentsOf: URL(fileURLWithPath: folder.path(run + "/weights.safetensors")))
        }
        let one = try weights("one", threads: "1"), variable = try weights("variable", threads: "", environment: ["COMPSEG_THREADS": "1"])
        #expect(one == variable)
        // A batch job's OMP_NUM_THREADS (its first count, where it lists one per nesting level) counts where COMPSEG_THREADS is not set.
        #expect(try weights("omp", threads: "", environment: ["OMP_NUM_THREADS": "1,1"]) == one)
        // The data tell the thread counts apart, so the check above can fail (on one core they agree).
        if ProcessInfo.processInfo.activeProcessorCount > 1 { #expect(try weights("two", threads: "2") != one) }
        let model = try String(contentsOfFile: folder.path("variable/model.json"), encoding: .utf8)
        #expect(model.contains("\"threads\":\"1\"") || model.contains("\"threads\" : \"1\""), "\(model)")
    }

    /// One command for a pipeline: `--resume` naming `--out`'s folder starts the run where there
    /// is none, and continues it, or has nothing to do, when run again.
    @Test func resumeNamingOutStartsTheRunWhereThereIsNone() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let run = folder.path("run")
        let command = train(manifest, run) + ["--resume", run]
        let first = try cli.run(command)
        #expect(first.status == 0 && first.output.contains("No run in \(run) yet: starting it") && first.output.contains("epoch 3/3"),
                "\(first.output)")
        let again = try cli.run(command)
        #expect(again.status == 0 && !again.output.contains("No run in") && !again.output.contains("epoch 1/3"), "\(again.output)")
        let further = try cli.run(command.map { $0 == "3" ? "4" : $0 })  // --epochs 4
        #expect(further.status == 0 && further.output.contains("epoch 4/4") && !further.output.contains("epoch 1/4"), "\(further.output)")
        // --resume naming another folder than --out's stays a resume: no run there is an error.
        let other = try cli.run(train(manifest, folder.path("new")) + ["--resume", folder.path("elsewhere")])
        #expect(other.status == 1 && other.output.contains("model.json: not found")
                && !FileManager.default.fileExists(atPath: folder.path("new")), "\(other.output)")
    }

    /// A project copied whole (its data and its run) resumes on the copy's manifest, not on the
    /// original that model.json names, and records the copy's.
    @Test func aCopiedProjectResumesOnItsOwnManifest() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(try cli.run(["phantom", "--spots", "8", "--size", "16", "--bands", "20", "--out", folder.path("a/data")]).status == 0)
        let manifest = folder.path("a/data/manifest.csv")
        #expect(try cli.run(train(manifest, folder.path("a/run")).map { $0 == "3" ? "1" : $0 }).status == 0)
        try FileManager.default.copyItem(atPath: folder.path("a"), toPath: folder.path("b"))
        let resumed = try cli.run(["train", "--resume", folder.path("b/run"), "--epochs", "2"])
        #expect(resumed.status == 0 && resumed.output.contains("Resuming on \(folder.path("b/data/manifest.csv")), the manifest where it lay")
                    && resumed.output.contains("epoch 2/2"), "\(resumed.output)")
        let model = try String(contentsOfFile: folder.path("b/run/model.json"), encoding: .utf8)
        // (The command that began the run, recorded as typed, names a's.)
        #expect(model.contains("\"manifest\" : \"\(folder.path("b/data/manifest.csv"))\"")
                    && !model.contains("\"manifest\" : \"\(folder.path("a/data/manifest.csv"))\""), "\(model)")
        // The original still resumes on its own.
        let original = try cli.run(["train", "--resume", folder.path("a/run"), "--epochs", "2"])
        #expect(original.status == 0 && !original.output.contains("Resuming on"), "\(original.output)")
    }

    /// A run is applied with its model.json and weights.safetensors: sent without its weights,
    /// it is said to lack them (not to be unfinished); the two alone suffice.
    @Test func aRunSentWithoutItsWeightsSaysSo() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        #expect(try cli.run(train(manifest, folder.path("run"))).status == 0)
        try FileManager.default.createDirectory(atPath: folder.path("sent"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder.path("run/model.json"), toPath: folder.path("sent/model.json"))
        let lacking = try cli.run(["segment", "--model", folder.path("sent"), "--data", manifest, "--out", folder.path("s1")])
        #expect(lacking.status == 1 && lacking.output.contains("weights.safetensors: not found, though model.json records the weights of epoch")
                    && lacking.output.contains("ask whoever sent the run"), "\(lacking.output)")
        try FileManager.default.copyItem(atPath: folder.path("run/weights.safetensors"), toPath: folder.path("sent/weights.safetensors"))
        let applied = try cli.run(["segment", "--model", folder.path("sent"), "--data", manifest, "--out", folder.path("s2")])
        #expect(applied.status == 0, "\(applied.output)")
        // Resumed where its modality manifest is not at hand: it is not needed.
        let resumed = try cli.run(["train", "--resume", folder.path("run"), "--modality", folder.path("lab.yaml")])
        #expect(resumed.status == 1 && resumed.output.contains("--resume needs no --modality: the run's model.json holds its modality"),
                "\(resumed.output)")
    }

    /// The log a shell writes the run's output to inside its own folder (`> run/train.log`), or a
    /// job's earlier log (`slurm-1.out`), is no obstacle; another file still is.
    @Test func theRunsOwnLogMayLieInItsFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let run = folder.path("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let words = train(manifest, run).map { "'\($0)'" }.joined(separator: " ")
        let logged = try cli.run(["-c", "exec '\(cli.binary.path)' \(words) > '\(run)/train.log' 2>&1"], through: "/bin/sh")
        let log = try String(contentsOfFile: "\(run)/train.log", encoding: .utf8)
        #expect(logged.status == 0 && log.contains("epoch 3/3") && FileManager.default.fileExists(atPath: "\(run)/weights.safetensors"), "\(log)")
        let other = folder.path("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: "\(other)/notes.txt"))
        let refused = try cli.run(train(manifest, other))
        #expect(refused.status == 1 && refused.output.contains("already holds 1 entry (notes.txt) and no run"), "\(refused.output)")
        // A batch job's log from an earlier start (slurm-1.out), not this process's output, is no obstacle either: no run writes such a name.
        let requeued = folder.path("requeued")
        try FileManager.default.createDirectory(atPath: requeued, withIntermediateDirectories: true)
        try Data("epoch 1/3\n".utf8).write(to: URL(fileURLWithPath: "\(requeued)/slurm-1.out"))
        let started = try cli.run(train(manifest, requeued) + ["--resume", requeued])
        let earlierLog = try String(contentsOfFile: "\(requeued)/slurm-1.out", encoding: .utf8)
        #expect(started.status == 0 && earlierLog == "epoch 1/3\n", "\(started.output)")
    }

    /// A run stopped before its last epoch (or still training) has chosen no threshold: segment
    /// says so, with how to finish it, rather than blaming its validation split.
    @Test func anUnfinishedRunIsSaidToBeOne() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let run = folder.path("run")
        #expect(try cli.run(train(manifest, run)).status == 0)
        let modelFile = URL(fileURLWithPath: run + "/model.json")
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: modelFile)) as! [String: Any]
        var training = model["training"] as! [String: Any]
        training["epochs"] = 5  // as a run of 5 epochs stopped after its third
        model["training"] = training
        model["threshold"] = nil
        try JSONSerialization.data(withJSONObject: model).write(to: modelFile)
        let r = try cli.run(["segment", "--model", run, "--data", manifest, "--out", folder.path("s")])
        #expect(r.status == 0 && r.output.contains("Threshold 0.35: the paper's (the run recorded none: it has trained 3 of its 5 epochs)")
                    && r.output.contains("warning: \(run) has trained 3 of its 5 epochs") && r.output.contains("train --resume"), "\(r.output)")
        // Stopped by --patience (no better epoch since its best for that many) it has finished: no such warning.
        training["patience"] = 1
        (model["training"], model["bestEpoch"]) = (training, 1)
        try JSONSerialization.data(withJSONObject: model).write(to: modelFile)
        let stopped = try cli.run(["segment", "--model", run, "--data", manifest, "--out", folder.path("s2")])
        #expect(stopped.status == 0 && stopped.output.contains("its validation split could not choose one")
                    && !stopped.output.contains("has trained 3 of"), "\(stopped.output)")
    }

    /// `--resume` says, before the data are prepared, what is left: nothing of a finished run, no
    /// run in a folder a train left while preparing, a last epoch that cannot be read.
    @Test func resumeSaysWhatIsLeftBeforePreparing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let run = folder.path("run")
        #expect(try cli.run(train(manifest, run)).status == 0)
        // Finished, with a threshold recorded (written in, should the short run have found none to choose).
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/model.json"))) as! [String: Any]
        if model["threshold"] == nil { model["threshold"] = ["value": 0.4, "origin": "set here"] }
        try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: run + "/model.json"))
        let finished = try cli.run(["train", "--resume", run])
        #expect(finished.status == 0 && finished.output.contains("already completed its 3 epochs and recorded its threshold")
                    && finished.output.contains("nothing to do") && !finished.output.contains("Prepared"), "\(finished.output)")
        // Its kept weights and history deleted: written again from the checkpoint, as segment's refusal promises.
        let weights = URL(fileURLWithPath: run + "/weights.safetensors"), history = URL(fileURLWithPath: run + "/history.csv")
        let (kept, curve) = (try Data(contentsOf: weights), try Data(contentsOf: history))
        try FileManager.default.removeItem(at: weights)
        try FileManager.default.removeItem(at: history)
        let refused = try cli.run(["segment", "--model", run, "--data", manifest, "--out", folder.path("seg")])
        #expect(refused.status == 1 && refused.output.contains("writes it again from checkpoint.safetensors"), "\(refused.output)")
        let restored = try cli.run(["train", "--resume", run])
        #expect(restored.status == 0 && restored.output.contains("Wrote weights.safetensors, history.csv again from checkpoint.safetensors")
                    && restored.output.contains("nothing else to do"), "\(restored.output)")
        #expect(try Data(contentsOf: weights) == kept && Data(contentsOf: history) == curve)
        #expect(try cli.run(["segment", "--model", run, "--data", manifest, "--out", folder.path("seg")]).status == 0)
        // Cut short: segment says how to mend it, and the resume writes it again.
        try kept.prefix(kept.count / 2).write(to: weights)
        let cut = try cli.run(["segment", "--model", run, "--data", manifest, "--out", folder.path("seg2")])
        #expect(cut.status == 1 && cut.output.contains("writes it again from checkpoint.safetensors"), "\(cut.output)")
        let mended = try cli.run(["train", "--resume", run])
        #expect(mended.status == 0 && mended.output.contains("Wrote weights.safetensors (it could not be read: "), "\(mended.output)")
        #expect(try Data(contentsOf: weights) == kept)
        // A folder that is not there is named as such.
        let typo = try cli.run(["train", "--resume", folder.path("rnu")])
        #expect(typo.status == 1 && !typo.output.contains("holds no run") && typo.output.contains("rnu"), "\(typo.output)")
        // A folder a train left while it prepared the data: no run, and how to start it again.
        try FileManager.default.createDirectory(atPath: folder.path("begun"), withIntermediateDirectories: true)
        let empty = try cli.run(["train", "--resume", folder.path("begun")])
        #expect(empty.status == 1 && empty.output.contains("\(folder.path("begun")) holds no run: a train stopped before it wrote one")
                    && empty.output.contains("start it again with train --out"), "\(empty.output)")
        // A damaged checkpoint: named before anything is prepared, and nothing changed.
        try FileManager.default.copyItem(atPath: run, toPath: folder.path("damaged"))
        let checkpoint = URL(fileURLWithPath: folder.path("damaged/checkpoint.safetensors"))
        try Data(try Data(contentsOf: checkpoint).prefix(5000)).write(to: checkpoint)
        let damaged = try cli.run(["train", "--resume", folder.path("damaged"), "--epochs", "4"])
        #expect(damaged.status == 1 && damaged.output.contains("checkpoint.safetensors: the run's last epoch cannot be read (")
                    && !damaged.output.contains("Prepared"), "\(damaged.output)")
    }

    /// A comparison killed while its second entry trains continues with --resume to the tables
    /// an uninterrupted one writes; a resume with other settings is refused, naming the entry.
    @Test func aStoppedComparisonResumesToTheSameTables() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        func compare(_ out: String) -> [String] {
            ["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,segnet", "--epochs", "2",
             "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2", "--out", folder.path(out)]
        }
        let whole = try cli.run(compare("whole"))
        #expect(whole.status == 0, "\(whole.output)")
        var point = 10
        while point < 200, !FileManager.default.fileExists(atPath: folder.path("cut/segnet/model.json")) {
            try? FileManager.default.removeItem(atPath: folder.path("cut"))
            let killed = try cli.run(compare("cut"), environment: ["COMPSEG_FAULT_KILL_AT": "\(point)"])
            #expect(killed.status != 0, "the kill at write point \(point) came after the comparison ended")
            point += 5
        }
        // --resume continues only a comparison: a folder of a user's files is not written into.
        try FileManager.default.createDirectory(atPath: folder.path("mine"), withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path("mine/report.html")))
        let noEntry = try cli.run(compare("mine") + ["--resume"])
        #expect(noEntry.status != 0 && noEntry.output.contains("already holds 1 entry (report.html); no entry of this comparison was begun there"),
                "\(noEntry.output)")
        #expect(try String(contentsOfFile: folder.path("mine/report.html"), encoding: .utf8) == "mine")
        // Where no entry was begun (a job's first start, its log beside), --resume begins the comparison.
        try FileManager.default.removeItem(atPath: folder.path("mine/report.html"))
        try Data("log".utf8).write(to: URL(fileURLWithPath: folder.path("mine/slurm-1.out")))
        let begun = try cli.run(compare("mine") + ["--resume"])
        #expect(begun.status == 0 && begun.output.contains("No entry of this comparison was begun in ")
                    && FileManager.default.fileExists(atPath: folder.path("mine/comparison.csv")), "\(begun.output)")
        // A begun comparison's folder holding a file no comparison writes is not one to resume; a job's log is no obstacle.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path("cut/notes.txt")))
        try Data("log".utf8).write(to: URL(fileURLWithPath: folder.path("cut/slurm-1.out")))
        let notOne = try cli.run(compare("cut") + ["--resume"])
        #expect(notOne.status != 0 && notOne.output.contains("holds 1 entry (notes.txt), which no comparison of these entries writes"),
                "\(notOne.output)")
        try FileManager.default.removeItem(atPath: folder.path("cut/notes.txt"))
        let refused = try cli.run(compare("cut") + ["--resume", "--seed", "9"])
        #expect(refused.status == 64 && refused.output.contains("entry unet was begun otherwise than these options say: training "
                                                               + "settings seed 9 (the run's: "), "\(refused.output)")
        let again = try cli.run(compare("cut"))
        #expect(again.status != 0 && again.output.contains("--resume"), "\(again.output)")
        // What a kill leaves half-written (a table's or a test picture's temporary) goes with the resume.
        let leftovers = ["cut/.roc.png.6F9619FF-8B86-D011-B42D-00C04FC964FF.tmp", "cut/unet/test/.spot002_panel.png.6F9619FF-8B86-D011-B42D-00C04FC964FF.tmp"]
        for leftover in leftovers {
            try FileManager.default.createDirectory(atPath: (folder.path(leftover) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: folder.path(leftover)))
        }
        let resumed = try cli.run(compare("cut") + ["--resume"])
        #expect(resumed.status == 0 && resumed.output.contains("Resuming "), "\(resumed.output)")
        #expect(leftovers.allSatisfy { !FileManager.default.fileExists(atPath: folder.path($0)) })
        func numbers(_ out: String) throws -> [String] {  // every column but the timings
            try String(contentsOfFile: folder.path("\(out)/comparison.csv"), encoding: .utf8).split(separator: "\n").map {
                let c = $0.split(separator: ",", omittingEmptySubsequences: false)
                return ([c[0], c[1], c[2], c[3]] + c[6...]).joined(separator: ",")
            }
        }
        #expect(try numbers("cut") == numbers("whole"))
        for entry in ["unet", "segnet"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("cut/\(entry)/weights.safetensors")))
                        == Data(contentsOf: URL(fileURLWithPath: folder.path("whole/\(entry)/weights.safetensors"))), "\(entry)")
        }
        // A comparison begun by an earlier compseg, which named run folders as typed (UNet), resumes under that name.
        try FileManager.default.copyItem(atPath: folder.path("whole"), toPath: folder.path("typed"))
        try FileManager.default.moveItem(atPath: folder.path("typed/unet"), toPath: folder.path("typed/UNet"))
        let typed = try cli.run(compare("typed").map { $0 == "unet,segnet" ? "UNet,segnet" : $0 } + ["--resume"])
        #expect(typed.status == 0 && typed.output.contains("== UNet") && !FileManager.default.fileExists(atPath: folder.path("typed/unet")),
                "\(typed.output)")
        // Every entry finished: each says there is nothing to train, not that it resumes.
        #expect(typed.output.contains("typed/UNet completed its 2 epochs: nothing to train") && !typed.output.contains("Resuming "),
                "\(typed.output)")
    }

    /// compare takes train's --paper-recipe and --patience: each entry records them, a resume may
    /// change the patience as train's may, and one without the recipe is refused, naming the optimizer.
    @Test func compareTakesThePaperRecipeAndPatience() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let options = ["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,segnet", "--epochs", "1",
                       "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2", "--out", folder.path("c")]
        let first = try cli.run(options + ["--paper-recipe", "--patience", "1"])
        #expect(first.status == 0, "\(first.output)")
        for entry in ["unet", "segnet"] {
            let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("c/\(entry)/model.json"))))
            let training = (model as? [String: Any])?["training"] as? [String: Any]
            #expect(training?["optimizer"] as? String == "rmsprop" && training?["patience"] as? Int == 1
                        && training?["batchSize"] as? Int == 2 && training?["warmupEpochs"] as? Int == 0, "\(entry): \(training ?? [:])")
        }
        #expect(try String(contentsOfFile: folder.path("c/report.html"), encoding: .utf8).contains("1 epoch (patience 1)"))
        let withoutRecipe = try cli.run(options.map { $0 == "1" ? "2" : $0 } + ["--resume"])
        #expect(withoutRecipe.status == 64 && withoutRecipe.output.contains("optimizer \"adam\" (the run's: \"rmsprop\")"), "\(withoutRecipe.output)")
        // An entry not begun yet, resumed without --patience, takes the begun runs' patience, and the report names it.
        try FileManager.default.removeItem(atPath: folder.path("c/segnet"))
        let missing = try cli.run(options + ["--paper-recipe", "--resume"])
        #expect(missing.status == 0, "\(missing.output)")
        let segnet = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("c/segnet/model.json"))))
        #expect(((segnet as? [String: Any])?["training"] as? [String: Any])?["patience"] as? Int == 1)
        #expect(try String(contentsOfFile: folder.path("c/report.html"), encoding: .utf8).contains("1 epoch (patience 1)"))
        // A resume killed once unet's weights changed leaves no table or test result of its earlier weights.
        var point = 1, epochs = 1
        while point < 40, epochs == 1 {
            try? FileManager.default.removeItem(atPath: folder.path("k"))
            try FileManager.default.copyItem(atPath: folder.path("c"), toPath: folder.path("k"))
            let killed = try cli.run(options.map { $0 == "1" ? "2" : $0 == folder.path("c") ? folder.path("k") : $0 }
                                     + ["--paper-recipe", "--patience", "5", "--resume"], environment: ["COMPSEG_FAULT_KILL_AT": "\(point)"])
            #expect(killed.status != 0, "the kill at write point \(point) came after the comparison ended")
            epochs = try String(contentsOfFile: folder.path("k/unet/history.csv"), encoding: .utf8).split(separator: "\n").count - 1
            point += 1
        }
        #expect(epochs == 2 && !FileManager.default.fileExists(atPath: folder.path("k/report.html"))
                    && !FileManager.default.fileExists(atPath: folder.path("k/comparison.csv"))
                    && !FileManager.default.fileExists(atPath: folder.path("k/unet/test")), "write point \(point - 1)")
        let longer = try cli.run(options.map { $0 == "1" ? "2" : $0 } + ["--paper-recipe", "--patience", "5", "--resume"])
        #expect(longer.status == 0 && longer.output.contains("Resuming ") && longer.output.contains("after epoch 1 of 2"), "\(longer.output)")
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("c/unet/model.json"))))
        #expect(((model as? [String: Any])?["training"] as? [String: Any])?["patience"] as? Int == 5)
        let fewer = try cli.run(options + ["--paper-recipe", "--resume"])
        #expect(fewer.status == 64 && fewer.output.contains("entry unet already completed 2 epochs, more than the 1 asked for"), "\(fewer.output)")
    }

    /// Output into a pipe (a job's log, `tee`) comes line by line while the command runs, not at its end.
    @Test func linesReachAPipeWhileTheCommandRuns() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (process, pipe) = try cli.start(train(try phantom(folder), folder.path("run")) + ["--epochs", "10000"])
        defer { process.terminate(); process.waitUntilExit() }
        var received = Data()
        let deadline = Date().addingTimeInterval(120)
        while !String(decoding: received, as: UTF8.self).contains("Prepared"), process.isRunning, Date() < deadline {
            received += pipe.fileHandleForReading.availableData
        }
        // Block-buffered, "Prepared" would come only with a buffer's worth of epoch lines after it.
        let text = String(decoding: received, as: UTF8.self)
        #expect(process.isRunning && text.contains("Prepared") && !text.contains("epoch 3/"), "\(text)")
    }

    /// A training file written over while a run reads it epoch by epoch (no cache) stops the run,
    /// naming the file, rather than mixing two files' data unsaid; the epochs before are kept.
    @Test func aFileWrittenOverWhileTrainingStopsTheRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let run = folder.path("run")
        let manifest = try phantom(folder)
        let other = try TemporaryFolder()
        defer { other.remove() }
        _ = try cli.phantom(other, size: 16, bands: 20, seed: 9)
        let training = try cli.start(train(manifest, run) + ["--epochs", "100000", "--cache-mb", "0"])
        final class Output: @unchecked Sendable { var text = ""; let lock = NSLock() }
        let output = Output()
        training.pipe.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            output.lock.withLock { output.text += String(decoding: d, as: UTF8.self) }
        }
        defer { if training.process.isRunning { training.process.terminate() }; training.process.waitUntilExit() }
        var waited = 0
        while waited < 600, (try? String(contentsOfFile: run + "/history.csv", encoding: .utf8)) == nil { usleep(100_000); waited += 1 }
        // A training spot of the run (spot004 onwards are train) replaced by another phantom's of that name.
        let spot = folder.path("data/spot005.h5")
        try FileManager.default.removeItem(atPath: spot)
        try FileManager.default.copyItem(atPath: other.path("data/spot005.h5"), toPath: spot)
        waited = 0
        while waited < 300, training.process.isRunning { usleep(100_000); waited += 1 }
        #expect(!training.process.isRunning)
        training.process.waitUntilExit()
        let said = output.lock.withLock { output.text }
        #expect(training.process.terminationStatus == 1 && said.contains("\(spot): changed while the run used it")
                    && said.contains("is saved; once the cause is mended, continue with: "), "\(said.suffix(600))")
    }

    /// Two processes never train one folder at once: the second is refused while the first runs.
    @Test func aRunFolderIsTrainedByOneProcessAtATime() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let run = folder.path("run")
        let manifest = try phantom(folder)
        let first = try cli.start(train(manifest, run) + ["--epochs", "10000"])
        first.pipe.fileHandleForReading.readabilityHandler = { _ = $0.availableData }  // a full pipe would block it
        defer { first.process.terminate(); first.process.waitUntilExit() }
        var waited = 0
        while waited < 600, (try? String(contentsOfFile: run + "/history.csv", encoding: .utf8)) == nil {
            usleep(100_000); waited += 1
        }
        let second = try cli.run(["train", "--resume", run])
        // Refused before its data are read and prepared (minutes at the paper's scale).
        // It names the process that holds the folder, and its user.
        #expect(second.status == 75 && second.output.contains("\(run): another compseg (PID \(first.process.processIdentifier), user ")
                    && second.output.contains(") is training this run now")
                    && !second.output.contains("Prepared"), "\(second.output)")
        // A new train into it is told the same, not to continue it with --resume (which would be refused).
        let fresh = try cli.run(train(manifest, run))
        #expect(fresh.status != 0 && fresh.output.contains("is training this run now")
                    && !fresh.output.contains("--resume"), "\(fresh.output)")
        first.process.interrupt()
        first.process.waitUntilExit()
        let after = try cli.run(["train", "--resume", run, "--epochs", "\(try String(contentsOfFile: run + "/history.csv", encoding: .utf8).split(separator: "\n").count)"])
        #expect(after.status == 0, "\(after.output)")
    }

    /// An evaluation replaced under --force and killed at any write or move leaves no file that the
    /// next --force would take for a user's: every file there is named in its list of outputs; one
    /// killed while it moved its files into place is completed by the next run in the folder.
    @Test func aKilledEvaluationLeavesNoFileItCannotReplace() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        let out = folder.path("eval")
        func evaluate(_ split: String, _ extra: [String] = []) -> [String] {
            ["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", out, "--split", split] + extra
        }
        #expect(try cli.run(evaluate("all")).status == 0)
        var point = 1, finished = false, completed = 0
        while !finished && point < 600 {
            let killed = try cli.run(evaluate("test", ["--force"]), environment: ["COMPSEG_FAULT_KILL_AT": "\(point)"])
            finished = killed.status == 0
            let listed = Set(try String(contentsOfFile: out + "/.compseg-outputs", encoding: .utf8).split(separator: "\n")
                .map { String($0.prefix { $0 != "\t" }) })
            let held = Set(try FileManager.default.contentsOfDirectory(atPath: out).filter { !isLeftoverTemporary($0) && $0 != ".compseg-outputs" })
            #expect(held.isSubset(of: listed), "kill at \(point): not listed \(held.subtracting(listed))")
            let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
            #expect(summary.contains("\"split\" : \"all\"") || summary.contains("\"split\" : \"test\""), "kill at \(point)")
            // Killed while the whole new set was moved into place: the next run in the folder (here one refused, as
            // its outputs exist) completes the moves first, so the folder holds the new evaluation whole.
            let moving = try FileManager.default.contentsOfDirectory(atPath: out).filter {
                $0.hasPrefix(".staging-") && FileManager.default.fileExists(atPath: out + "/" + $0 + "/.moving")
            }
            if !moving.isEmpty {
                let next = try cli.run(["segment", "--model", folder.path("run"), "--out", out, folder.path("data/spot000.h5")])
                #expect(next.output.contains("Completed an earlier run's writing"), "kill at \(point): \(next.output)")
                #expect(try String(contentsOfFile: out + "/summary.json", encoding: .utf8).contains("\"split\" : \"test\""), "kill at \(point)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.hasPrefix(".staging-") }, "kill at \(point)")
                completed += 1
            }
            point += 9
        }
        #expect(finished, "the evaluation never finished")
        #expect(completed > 0, "no kill fell while the files were moved into place")
        #expect(try cli.run(evaluate("all", ["--force"])).status == 0)
    }

    /// A run that patience ended stays ended: --resume trains no epoch more (it trained one, and
    /// the resumed run differed from the uninterrupted one).
    @Test func patienceThatRanOutEndsTheRunForGood() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let run = folder.path("run")
        try Data("minDelta: 1\n".utf8).write(to: URL(fileURLWithPath: folder.path("never-better.yaml")))  // only epoch 1 counts as better
        let first = try cli.run(train(phantom(folder), run) + ["--epochs", "10", "--patience", "2", "--config", folder.path("never-better.yaml")])
        #expect(first.status == 0 && first.output.contains("epoch 3/10") && !first.output.contains("epoch 4/10"), "\(first.output)")
        let history = try String(contentsOfFile: run + "/history.csv", encoding: .utf8)
        let again = try cli.run(["train", "--resume", run])
        #expect(again.status == 0 && !again.output.contains("epoch 4/10"), "\(again.output)")
        // Both say why they stopped short of 10 epochs, and how to go on.
        for r in [first, again] {
            #expect(r.output.contains("Stopped by --patience 2 after epoch 3 of 10: the monitored loss has not improved on epoch 1's "
                                      + "for 2 epochs (train --resume with a larger --patience trains further)"), "\(r.output)")
        }
        let zero = try cli.run(["train", "--resume", run, "--patience", "0"])
        #expect(zero.status == 64 && zero.output.contains("--patience must be positive, got 0"), "\(zero.output)")
        #expect(try String(contentsOfFile: run + "/history.csv", encoding: .utf8) == history)
        let patient = try cli.run(["train", "--resume", run, "--patience", "3"])
        #expect(patient.status == 0 && patient.output.contains("epoch 4/10") && !patient.output.contains("epoch 5/10"), "\(patient.output)")
    }

    /// `train --skip-unreadable` leaves out a damaged train row and a missing val row, naming
    /// them, and trains as on a manifest without them; model.json records them, so a resume leaves
    /// out the same rows (one put back, too), and refuses a row it trained on that is now missing.
    /// `compare --skip-unreadable` leaves out an unreadable test row as well, and counts it.
    @Test func skipUnreadableTrainsOnTheRestAndResumesAlike() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let made = try cli.run(["phantom", "--spots", "12", "--size", "16", "--bands", "20", "--seed", "5", "--out", folder.path("data")])
        #expect(made.status == 0, "\(made.output)")
        let manifest = folder.path("data/manifest.csv")
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        func row(_ split: String, _ k: Int = 0) -> String { lines.filter { $0.contains(",\(split),") || $0.hasSuffix(",\(split)") }[k] }
        let damaged = row("train"), missing = row("val"), test = row("test")
        func file(_ line: String) -> String { folder.path("data/" + line.split(separator: ",")[0]) }
        let kept = try Data(contentsOf: URL(fileURLWithPath: file(missing)))
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: file(damaged)))
        try FileManager.default.removeItem(atPath: file(missing))
        // The same rows but those two, in the same order: what the left-out run must equal.
        try Data((lines.filter { $0 != damaged && $0 != missing }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: folder.path("data/rest.csv")))

        let refused = try cli.run(train(manifest, folder.path("run")))
        #expect(refused.status == 1 && refused.output.contains("(nothing was written: --skip-unreadable leaves out"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("run")))
        let skipped = try cli.run(train(manifest, folder.path("run")) + ["--skip-unreadable"])
        #expect(skipped.status == 0, "\(skipped.output)")
        for line in [damaged, missing] {
            let name = String(line.split(separator: ",")[0])
            #expect(skipped.output.contains("left out (--skip-unreadable): \(manifest): line \(lines.firstIndex(of: line)! + 1): ")
                        && skipped.output.contains(name), "\(name): \(skipped.output)")
        }
        #expect(skipped.output.contains("2 of 12 inputs left out"), "\(skipped.output)")
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as! [String: Any]
        let leftOut = ((model["rows"] as? [String: Any])?["leftOut"] as? [[String: String]]) ?? []
        #expect(leftOut.map { $0["name"] ?? "" }.sorted() == [damaged, missing].map { String($0.split(separator: ",")[0]) }.sorted()
                    && leftOut.allSatisfy { !($0["why"] ?? "").isEmpty }, "\(leftOut)")
        #expect(try cli.run(train(folder.path("data/rest.csv"), folder.path("rest"))).status == 0)
        func weights(_ run: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: folder.path("\(run)/weights.safetensors"))) }
        #expect(try weights("run") == weights("rest"))

        // The missing file put back is still left out: the run goes on as it began.
        try kept.write(to: URL(fileURLWithPath: file(missing)))
        let resumed = try cli.run(["train", "--resume", folder.path("run"), "--epochs", "4", "--threads", "2"])
        #expect(resumed.status == 0 && resumed.output.contains("Leaving out 2 rows as the run began"), "\(resumed.output)")
        #expect(try cli.run(["train", "--resume", folder.path("rest"), "--epochs", "4", "--threads", "2"]).status == 0)
        #expect(try weights("run") == weights("rest"))
        // A row it trained on, gone: refused, named.
        let other = row("train", 1)
        try FileManager.default.moveItem(atPath: file(other), toPath: file(other) + ".away")
        let gone = try cli.run(["train", "--resume", folder.path("run"), "--epochs", "5"])
        #expect(gone.status == 1 && gone.output.contains("(the run trained on it: put it back)"), "\(gone.output)")
        try FileManager.default.moveItem(atPath: file(other) + ".away", toPath: file(other))

        // Files of one name in two folders: only the unreadable one is left out, and the run resumes.
        try FileManager.default.createDirectory(atPath: folder.path("data/a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path("data/b"), withIntermediateDirectories: true)
        let twins = [row("train", 1), row("train", 2)]
        try FileManager.default.copyItem(atPath: file(twins[0]), toPath: folder.path("data/a/x.h5"))
        try FileManager.default.copyItem(atPath: file(twins[1]), toPath: folder.path("data/b/x.h5"))
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: folder.path("data/a/x.h5")))
        let named = lines.filter { !twins.contains($0) && $0 != damaged }
            + zip(["a/x.h5", "b/x.h5"], twins).map { path, line in ([path] + line.split(separator: ",").dropFirst().map(String.init)).joined(separator: ",") }
        try Data((named.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/twins.csv")))
        let twinRun = try cli.run(train(folder.path("data/twins.csv"), folder.path("twins")) + ["--skip-unreadable", "--epochs", "1"])
        #expect(twinRun.status == 0 && twinRun.output.contains("1 of 11 inputs left out"), "\(twinRun.output)")
        let twinResumed = try cli.run(["train", "--resume", folder.path("twins"), "--epochs", "2"])
        #expect(twinResumed.status == 0 && twinResumed.output.contains("Leaving out 1 row as the run began (model.json's rows.leftOut): a/x.h5 (train)"),
                "\(twinResumed.output)")
        // A row whose mask file is missing, or cut short, is left out too (and recorded); when no row is left, that is said.
        let cutMask = folder.path("data/cut.png")
        try PNGImage(width: 16, height: 16, channels: 1, pixels: (0..<256).map { UInt8($0 % 7 * 30) }).write(to: URL(fileURLWithPath: cutMask))
        let png = try Data(contentsOf: URL(fileURLWithPath: cutMask))
        try png.prefix(png.count - 20).write(to: URL(fileURLWithPath: cutMask))
        let masks = [missing: ",nowhere.png", twins[0]: ",cut.png"]
        try Data((lines[0] + ",mask\n" + lines.dropFirst().map { $0 + masks[$0, default: ","] }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: folder.path("data/masked.csv")))
        let masked = try cli.run(train(folder.path("data/masked.csv"), folder.path("masked")) + ["--skip-unreadable", "--epochs", "1"])
        #expect(masked.status == 0 && masked.output.contains("mask file nowhere.png not found")
                    && masked.output.contains("mask \(cutMask): "), "\(masked.output)")
        let maskedModel = try String(contentsOfFile: folder.path("masked/model.json"), encoding: .utf8)
        #expect(maskedModel.contains("cut.png"), "\(maskedModel)")
        try Data((lines[0] + "\n" + lines.dropFirst().map { "gone-" + $0 }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: folder.path("data/gone.csv")))
        let none = try cli.run(train(folder.path("data/gone.csv"), folder.path("none")) + ["--skip-unreadable"])
        #expect(none.status == 1 && none.output.contains("none of the 12 inputs could be read"), "\(none.output)")

        // compare: a test row that cannot be read is left out of every entry's evaluation, and counted there.
        try Data(count: 3000).write(to: URL(fileURLWithPath: file(test)))
        let compared = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,segnet", "--epochs", "1",
                                    "--width", "4", "--depth", "2", "--batch", "2", "--out", folder.path("cmp"), "--skip-unreadable"])
        #expect(compared.status == 0 && compared.output.contains("2 of 12 inputs left out"), "\(compared.output)")
        for entry in ["unet", "segnet"] {
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("cmp/\(entry)/test/summary.json"))))
            #expect((summary as? [String: Any])?["n_left_out"] as? Int == 1, "\(entry)")
            let recorded = try String(contentsOfFile: folder.path("cmp/\(entry)/model.json"), encoding: .utf8)
            #expect(recorded.contains("\"leftOut\"") && recorded.contains(String(damaged.split(separator: ",")[0])), "\(entry)")
        }
        // Resumed without the option (the test row readable again): an entry begun now records the rows the others left
        // out, so that it resumes alike; a missing test image is then refused, not left out unsaid.
        try FileManager.default.removeItem(atPath: folder.path("cmp/segnet"))
        try FileManager.default.copyItem(atPath: file(row("test", 1)), toPath: file(test) + ".tmp")
        try FileManager.default.removeItem(atPath: file(test))
        try FileManager.default.moveItem(atPath: file(test) + ".tmp", toPath: file(test))
        let compare = ["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,segnet", "--epochs", "1",
                       "--width", "4", "--depth", "2", "--batch", "2", "--out", folder.path("cmp"), "--resume"]
        let resumedCompare = try cli.run(compare)
        #expect(resumedCompare.status == 0 && resumedCompare.output.contains("Leaving out 1 row as the run began"), "\(resumedCompare.output)")
        #expect(try String(contentsOfFile: folder.path("cmp/segnet/model.json"), encoding: .utf8).contains("\"leftOut\""))
        #expect(try cli.run(["train", "--resume", folder.path("cmp/segnet"), "--epochs", "2"]).status == 0)
        try FileManager.default.moveItem(atPath: file(test), toPath: file(test) + ".away")
        let missingTest = try cli.run(compare.map { $0 == "1" ? "2" : $0 })  // --epochs 2: segnet has trained 2 now
        #expect(missingTest.status == 1 && missingTest.output.contains("image file \(test.split(separator: ",")[0]) not found"), "\(missingTest.output)")
    }

    /// A settings file's relative paths are taken from its folder, and recorded without "..".
    @Test func settingsFilePathsAreTakenFromItsFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try phantom(folder)
        try FileManager.default.createDirectory(atPath: folder.path("cfg"), withIntermediateDirectories: true)
        try Data("modality: infrared\ndata: ../data/manifest.csv\nout: ../run\nepochs: 1\nwidth: 4\ndepth: 2\nbatch: 2\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("cfg/run.yaml")))
        let r = try cli.run(["train", "--config", folder.path("cfg/run.yaml")])
        #expect(r.status == 0, "\(r.output)")
        let model = try String(contentsOfFile: folder.path("run/model.json"), encoding: .utf8)
        #expect(model.contains("\"manifest\" : \"\(folder.path("data/manifest.csv"))\"") && !model.contains("cfg/.."), "\(model.prefix(600))")
    }

    /// A settings file that began a run continues it, its choices in any letters (`ReLU`, `Zero`, `Sum`:
    /// recorded as `relu`, `zero`, `sum`); `~/` is the home folder; files given for settings that are
    /// something else are named; a run refused before it began leaves no folders behind.
    @Test func settingsFilesResumeAsBegunAndWrongFilesAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        try FileManager.default.createDirectory(atPath: folder.path("home"), withIntermediateDirectories: true)
        let settings = folder.path("run.yaml")
        try Data(("modality: infrared\ndata: \(manifest)\nout: ~/run\nepochs: 1\nwidth: 4\ndepth: 2\nbatch: 2\n"
                  + "modalityConfiguration: {nonFinite: Zero}\ntopologyConfiguration: {activation: ReLU}\nheadConfiguration: {reduction: Sum}\n").utf8)
            .write(to: URL(fileURLWithPath: settings))
        let home = ["HOME": folder.path("home")]
        let begun = try cli.run(["train", "--config", settings, "--head-option", "alpha=.2"], environment: home)
        #expect(begun.status == 0, "\(begun.output)")
        let model = try String(contentsOfFile: folder.path("home/run/model.json"), encoding: .utf8)
        #expect(model.contains("\"activation\" : \"relu\"") && model.contains("\"reduction\" : \"sum\"") && model.contains("\"alpha\" : 0.2")
                && model.contains("\"format\" : 5"), "\(model.prefix(600))")
        let resumed = try cli.run(["train", "--config", settings, "--resume", folder.path("home/run"), "--epochs", "2"], environment: home)
        #expect(resumed.status == 0 && resumed.output.contains("epochs 1 → 2"), "\(resumed.output)")
        let asModel = try cli.run(["train", "--config", folder.path("home/run/model.json")])
        #expect(asModel.status != 0 && asModel.output.contains("is a run's model.json, not a settings file; continue that run with --resume "
                                                               + folder.path("home/run")), "\(asModel.output)")
        let renamed = folder.path("renamed.yaml")
        try Data("learningRate: 0.01\n".utf8).write(to: URL(fileURLWithPath: renamed))
        let named = try cli.run(["train", "--config", renamed])
        #expect(named.output.contains("unknown key 'learningRate': model.json's name for it; a settings file names the option, 'lr' (--lr)"),
                "\(named.output)")
        for (text, message) in [("alpha: 0.2\n", "unknown key 'alpha': a setting of the head compsegnet; give it in headConfiguration: {alpha: …}"),
                                ("batchNorm: true\n", "unknown key 'batchNorm': a setting of the topology unet; give it in topologyConfiguration: {batchNorm: …}"),
                                ("epochs:\n", "key 'epochs' has no value (YAML reads nothing, null and a lone ~ as none); give one, or leave the key out")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: renamed))
            let r = try cli.run(["train", "--config", renamed])
            #expect(r.status != 0 && r.output.contains(message), "\(r.output)")
        }
        let partial = folder.path("partial.yaml")
        try Data("modality: infrared\npatience: ~\n".utf8).write(to: URL(fileURLWithPath: partial))  // null: no patience, its default
        #expect(try cli.run(["train", "--config", partial]).output.contains("; missing: data, out"))
        let refused = try cli.run(["train", "--modality", "infrared", "--data", folder.path("none.csv"), "--out", folder.path("a/b/c")])
        #expect(refused.status != 0 && !FileManager.default.fileExists(atPath: folder.path("a")), "\(refused.output)")
    }

    @Test func settingsFileMistakesAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        func settings(_ text: String) throws -> String {
            let path = folder.path("s-\(UUID()).yaml")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let base = ["train", "--modality", "infrared", "--data", manifest, "--epochs", "1", "--width", "4", "--depth", "2"]

        let adamw = try cli.run(base + ["--out", folder.path("a"), "--config", settings("optimizer: adamw\n")])
        #expect(adamw.status != 0 && adamw.output.contains("optimizer"), "\(adamw.output)")
        let cache = try cli.run(base + ["--out", folder.path("b"), "--config", settings("cacheMb: -5\n")])
        #expect(cache.status != 0 && cache.output.contains("'cacheMb' must be 0 or more"), "\(cache.output)")
        let unknown = try cli.run(base + ["--out", folder.path("c"), "--config", settings("epoch: 3\n")])
        #expect(unknown.status != 0 && unknown.output.contains("unknown key 'epoch'")
                && unknown.output.contains("balancedBatches") && unknown.output.contains("topologyConfiguration"), "\(unknown.output)")
        // Values the command line would refuse, refused from the file with the file and key named.
        for (text, message) in [("patience: 0\n", "key 'patience' must be positive, got 0"),
                                ("minDelta: -1\n", "key 'minDelta' must be 0 or more, got -1.0"),
                                ("weightDecay: .inf\n", "key 'weightDecay': .inf is not a finite number"),
                                ("topologyConfiguration: 5\n", "key 'topologyConfiguration' must be a mapping of the plugin's keys, got 5")] {
            let path = try settings(text)
            let r = try cli.run(base + ["--out", folder.path("f"), "--config", path])
            #expect(r.status != 0 && r.output.contains(message) && r.output.contains(URL(fileURLWithPath: path).lastPathComponent),
                    "\(r.output)")
        }
        // Keys as the options are spelled, or in camelCase (not both); every option, augment and paper-recipe too.
        let spelled = try cli.run(base + ["--out", folder.path("h"), "--config", settings("augment: dihedral\npaper-recipe: true\ncache-mb: 10\n")])
        #expect(spelled.status == 0, "\(spelled.output)")
        let run = try String(contentsOfFile: folder.path("h/model.json"), encoding: .utf8)
        #expect(run.contains("\"augmentation\" : \"dihedral\"") && run.contains("\"optimizer\" : \"rmsprop\""), "\(run)")
        let twice = try cli.run(base + ["--out", folder.path("i"), "--config", settings("cache-mb: 10\ncacheMb: 5\n")])
        #expect(twice.output.contains("keys 'cache-mb' and 'cacheMb' both set cacheMb; give it once"), "\(twice.output)")
        let both = try cli.run(["train", "--modality", "infrared", "--data", manifest, "--epochs", "1", "--out", folder.path("j"),
                                 "--config", settings("width: 8\ntopologyConfiguration: {width: 4}\n")])
        #expect(both.output.contains("key 'width' is given twice, as 'width' and in topologyConfiguration"), "\(both.output)")
        let options = try settings("modalityConfiguration: {bogus: true}\n")
        let bogus = try cli.run(base + ["--out", folder.path("g"), "--config", options])
        #expect(bogus.output.contains("modality 'infrared' (modalities/infrared.yaml) with \(options)'s modalityConfiguration: "
                                      + "options: unknown key 'bogus'"), "\(bogus.output)")
        // A key within a section is checked too, and a section given in part keeps the modality's other keys.
        let misspelt = try settings("modalityConfiguration: {tissue: {fillHolesSmalerThan: 5}}\n")
        let typo = try cli.run(base + ["--out", folder.path("g2"), "--config", misspelt])
        #expect(typo.status != 0 && typo.output.contains("options: unknown key 'tissue.fillHolesSmalerThan'; did you mean "
                                                         + "'tissue.fillHolesSmallerThan'?"), "\(typo.output)")
        let partial = try cli.run(base + ["--out", folder.path("g3"), "--config", settings("modalityConfiguration: {tissue: {fillHolesSmallerThan: 5}}\n")])
        #expect(partial.status == 0, "\(partial.output)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("g3/model.json")))) as? [String: Any]
        let tissue = ((written?["modality"] as? [String: Any])?["options"] as? [String: Any])?["tissue"] as? [String: Any]
        #expect(tissue?["fillHolesSmallerThan"] as? Int == 5 && tissue?["removeSpecksSmallerThan"] as? Int == 16,  // infrared.yaml's
                "\(String(describing: tissue))")
        let key = try settings("topologyConfiguration: {widht: 8}\n")
        let topology = try cli.run(base + ["--out", folder.path("d"), "--config", key])
        #expect(topology.status != 0 && topology.output.contains(key) && !topology.output.contains("model.json"), "\(topology.output)")
        #expect(!topology.output.contains("Prepared"), "named before the data are read: \(topology.output)")
        // Mistakes in both sections are named at once.
        let two = try cli.run(base + ["--out", folder.path("d3"), "--config", settings("topologyConfiguration: {widht: 8}\nheadConfiguration: {alfa: 1}\n")])
        #expect(two.status != 0 && two.output.contains("unknown key 'widht'") && two.output.contains("unknown key 'alfa'"), "\(two.output)")
        let width = try cli.run(base + ["--out", folder.path("d2"), "--width", "0"])
        #expect(width.output.contains("width must lie in 1…4096, got 0") && !width.output.contains("Prepared"), "\(width.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("d/model.json")))
        let equals = try cli.run(base + ["--out", folder.path("e"), "--config", settings("topology: unet\n"), "--topology=segnet"])
        #expect(equals.status == 0, "\(equals.output)")
        let model = try String(contentsOfFile: folder.path("e/model.json"), encoding: .utf8)
        #expect(model.contains("\"segnet\""), "--topology=segnet must win over the settings file: \(model)")
    }
}
