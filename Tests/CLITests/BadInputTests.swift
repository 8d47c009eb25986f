import Foundation
import Testing

/// Hostile but realistic input: each gives a clean error naming what is wrong, exit status 1 or
/// 64 (usage), never a trap.
@Suite struct BadInputTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    func refuses(_ arguments: [String], saying text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try cli.run(arguments)
        #expect([1, 64].contains(r.status), "exit \(r.status): \(r.output)", sourceLocation: sourceLocation)
        #expect(r.output.contains(text), "expected '\(text)' in: \(r.output)", sourceLocation: sourceLocation)
    }

    /// A demo whose network, head or options cannot be used is refused before anything is written:
    /// no phantom made for nothing, no demo.json that a corrected rerun would have to --force.
    @Test func aDemoThatCannotRunWritesNothing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (extra, text) in [(["--depth", "0"], "depth must lie in 1…8, got 0"), (["--topology", "unetz"], "unknown topology 'unetz'"),
                              (["--modality", "he", "--components", "4"], "--components: H&E images are RGB")] {
            try refuses(["demo", "--out", folder.path("demo")] + extra, saying: text)
            #expect(!FileManager.default.fileExists(atPath: folder.path("demo")), "\(extra) left \(folder.path("demo"))")
        }
    }

    /// A negative number is a value outside the option's range, not a missing value.
    @Test func negativeNumbersAreOutOfRangeNotMissing() throws {
        for (arguments, text) in [(["evaluate", "--model", "r", "--data", "m.csv", "--out", "o", "--threshold", "-0.1"],
                                   "--threshold must be 'auto' or a number in (0, 1), got -0.1"),
                                  (["compare", "--modality", "infrared", "--data", "m.csv", "--out", "o", "--seeds", "-1"],
                                   "--seeds must be whole numbers 0 or more, comma-separated, got -1"),
                                  (["bench-ops", "--repeats", "-1"], "--repeats must be positive, got -1"),
                                  (["demo", "--alpha", "-0.1"], "--alpha must lie in (0, 1), got -0.1"),
                                  (["evaluate", "--model", "r", "--data", "m.csv", "--out", ""], "--out must name a folder, got an empty path"),
                                  (["compare", "--modality", "infrared", "--data", "m.csv", "--out", ""], "--out must name a folder, got an empty path"),
                                  // An empty --model was the current folder, read as a run folder.
                                  (["evaluate", "--model", "", "--data", "m.csv", "--out", "o"], "--model must name a folder, got an empty path"),
                                  (["segment", "--model", "", "a.h5", "--out", "o"], "--model must name a folder, got an empty path"),
                                  // --topologies=NAME is --topologies too (it was taken for none, and --config's list trained alone).
                                  (["compare", "--modality", "infrared", "--data", "m.csv", "--out", "o", "--config", "c.yaml", "--topologies=segnet"],
                                   "give either --topologies or --config, not both")] {
            let r = try cli.run(arguments)
            #expect(r.status == 64 && r.output.contains(text) && !r.output.contains("Missing value"), "\(arguments): \(r.output)")
        }
    }

    /// A misspelled option or command is named, with the nearest there is (one the typed name
    /// begins, else the fewest edits away), even where a required option is missing or
    /// `validate()` would fail first; `--name=value` and options after a bare `--` (values) are
    /// handled; a right command line is not touched.
    @Test func aMisspelledOptionIsNamedBeforeAnythingElse() throws {
        try refuses(["train", "--modalty", "he", "--data", "m.csv", "--out", "run"],
                    saying: "Error: unknown option '--modalty' for 'compseg train'; did you mean '--modality'?\n  See 'compseg train --help'")
        try refuses(["segment", "--modl=run", "x.png"], saying: "unknown option '--modl' for 'compseg segment'; did you mean '--model'?")
        try refuses(["demo", "--no-batch-norm", "--bogus"], saying: "Error: unknown option '--bogus' for 'compseg demo'\n")
        try refuses(["--verson"], saying: "unknown option '--verson' for 'compseg'; did you mean '--version'?")
        try refuses(["segment", "--thresh", "0.3"], saying: "unknown option '--thresh' for 'compseg segment'; did you mean '--threshold'?")
        try refuses(["train", "-modality", "he", "--data", "m.csv", "--out", "run"],
                    saying: "unknown option '-modality' for 'compseg train'; did you mean '--modality'?")
        // A file named with a leading dash reads as short flags, -h among them: no help and exit 0, but said.
        try refuses(["segment", "--model", "run", "--out", "x", "-dash.h5"], saying: "unknown option '-dash.h5' for 'compseg segment'")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data().write(to: URL(fileURLWithPath: folder.path("-dash.h5")))
        let dashed = try cli.run(["inspect", "-dash.h5"], in: folder.path(""))
        #expect(dashed.status == 64 && dashed.output.contains("'-dash.h5' reads as options (it starts with a dash): to name the file, "
                                                              + "write ./-dash.h5, or put -- before the files"), "\(dashed.output)")
        // A misspelled command, with or without options after it; an option's value is no command.
        try refuses(["segmnt", "--model", "run"], saying: "unknown command 'segmnt' for 'compseg'; did you mean 'segment'?")
        try refuses(["sgment"], saying: "unknown command 'sgment' for 'compseg'; did you mean 'segment'?")
        try refuses(["train", "--data", "demo", "--out", "x"], saying: "missing: --modality\n")
        try refuses(["help", "segment", "--bogus"], saying: "Error:")  // ArgumentParser's own, not "unknown command 'help'"
        try refuses([""], saying: "unknown command '' for 'compseg'\n")
        // `help` with a word that names no command fails (ArgumentParser shows the tool's help and exits 0).
        try refuses(["help", "segmnt"], saying: "Error: unknown command 'segmnt' for 'compseg'; did you mean 'segment'?\n  See 'compseg --help'")
        try refuses(["help", "train", "now"], saying: "unknown command 'now' for 'compseg train'; 'compseg train' has no subcommands")
        let help = try cli.run(["help", "segment"])
        #expect(help.status == 0 && help.output.contains("USAGE: compseg segment"), "\(help.output)")
        // Known options: ArgumentParser's own message stands.
        try refuses(["segment", "--model", "run", "--", "--out"], saying: "Missing expected argument '--out <out>'")
    }

    @Test func numericOptionsAreCheckedWithTheirRanges() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let train = ["train", "--modality", "infrared", "--data", manifest, "--out", folder.path("run")]
        // --head-option: KEY=VALUE, its key and value checked by the head.
        try refuses(train + ["--head-option", "alpha"], saying: "--head-option takes KEY=VALUE, such as alpha=0.2; got alpha")
        try refuses(train + ["--head-option", "alfa=0.2"], saying: "unknown key 'alfa'; did you mean 'alpha'?")
        try refuses(train + ["--head-option", "alpha=0.1", "--head-option", "alpha=0.3"], saying: "--head-option alpha is given twice; give each key once")
        try refuses(train + ["--head-option", "alpha=8"], saying: "--head-option: head 'compsegnet': compsegnet head: alpha must lie in (0, 1), got 8.0")
        try refuses(train + ["--head-option", "alpha="], saying: "--head-option alpha= gives no value; write KEY=VALUE, such as alpha=0.2")
        try refuses(train + ["--head-option", "alpha=~"], saying: "--head-option alpha=~ gives no value (null); give one, or leave the key out")
        try refuses(train + ["--head-option", "alpha=1e400"], saying: "--head-option alpha=1e400: 1e400 is not a finite number")
        try refuses(train + ["--head-option", "alpha=#1"], saying: "key 'alpha': expected a number, got the text '#1'")
        try refuses(["compare", "--data", manifest, "--modality", "infrared", "--out", folder.path("c"), "--head", "topk", "--head-option", "fraction=1.5"],
                    saying: "--head topk: topk head: fraction must lie in (0, 1], got 1.5")
        try refuses(["compare", "--data", manifest, "--modality", "infrared", "--out", folder.path("c"), "--head-option", "=1"],
                    saying: "--head-option takes KEY=VALUE")
        let given = try cli.run(train + ["--head-option", "alpha=0.2", "--epochs", "1", "--width", "4", "--depth", "2"])
        #expect(given.status == 0, "\(given.output)")
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as? [String: Any]
        #expect(((model?["head"] as? [String: Any])?["configuration"] as? [String: Any])?["alpha"] as? Double == 0.2, "\(String(describing: model))")
        try FileManager.default.removeItem(atPath: folder.path("run"))
        try refuses(train + ["--epochs", "-1"], saying: "--epochs must be positive, got -1")
        try refuses(train + ["--lr", "inf"], saying: "--lr must be a positive finite number, got inf")
        try refuses(train + ["--threads", "0"], saying: "--threads must lie in 1…1024, got 0")
        try refuses(train + ["--threads", "100000"], saying: "--threads must lie in 1…1024, got 100000")
        try refuses(train + ["--width", "100000000", "--depth", "2"], saying: "width must lie in 1…4096, got 100000000")
        #expect(!FileManager.default.fileExists(atPath: folder.path("run/model.json")))
        try refuses(["train", "--modality", "infrared", "--data", manifest, "--out", ""], saying: "empty path")
        try refuses(["phantom", "--size", "1000000", "--out", folder.path("p")], saying: "--size must lie in 8…8192, got 1000000")
    }

    /// A folder that holds a user's files is not written into by the commands that make one
    /// (phantom, train, demo, compare): each refuses, names what is there, and the files stay as
    /// they were; a run folder holding only the model.json of a run stopped before its first
    /// epoch is taken again.
    @Test func aFolderHoldingAUsersFilesIsNotWrittenInto() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let small = ["--epochs", "1", "--width", "4", "--depth", "1", "--threads", "1"]
        let commands: [(String, [String], String)] = [
            ("phantom", ["phantom", "--spots", "4", "--size", "16", "--bands", "20"], "choose a new or empty folder"),
            ("train", ["train", "--modality", "infrared", "--data", manifest] + small, "and no run; choose a new or empty --out"),
            ("demo", ["demo", "--spots", "10", "--size", "16"] + small, "it holds no earlier demo for --force to replace: choose another --out"),
            ("compare", ["compare", "--modality", "infrared", "--data", manifest, "--topologies", "unet"] + small,
             "choose a new or empty --out"),
        ]
        for (name, arguments, advice) in commands {
            let out = folder.path(name)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for file in ["spot000.h5", "history.csv", "report.html", "comparison.csv"] {
                try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(out)/\(file)"))
            }
            try refuses(arguments + ["--out", out], saying: "\(out): already holds 4 entries (comparison.csv, history.csv, report.html, …)")
            try refuses(arguments + ["--out", out], saying: advice)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted()
                        == ["comparison.csv", "history.csv", "report.html", "spot000.h5"], "\(name)")
            for file in ["spot000.h5", "history.csv", "report.html", "comparison.csv"] {
                #expect(try String(contentsOfFile: "\(out)/\(file)", encoding: .utf8) == "mine", "\(name): \(file)")
            }
        }
        // demo --force replaces only an earlier demo (its demo.json): not a folder of a user's files, a
        // dataset or a run that merely looks like a demo's, nor a demo's folder holding a user's file.
        let demo = folder.path("demo")
        try FileManager.default.createDirectory(atPath: demo + "/data", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: manifest, toPath: demo + "/data/manifest.csv")
        let first = try firstRun(folder, manifest)
        try FileManager.default.copyItem(atPath: first, toPath: demo + "/run")
        try refuses(commands[2].1 + ["--out", demo, "--force"],
                    saying: "\(demo): already holds 6 entries (comparison.csv, data, history.csv, …); it holds no earlier demo (no demo.json), "
                        + "and --force replaces only a demo's files")
        #expect(FileManager.default.fileExists(atPath: demo + "/data/manifest.csv") && FileManager.default.fileExists(atPath: demo + "/run/model.json"))
        let earlier = folder.path("earlier")
        let made = try cli.run(commands[2].1 + ["--out", earlier])
        #expect(made.status == 0 && FileManager.default.fileExists(atPath: earlier + "/demo.json"), "\(made.output)")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: earlier + "/run/NOTES.txt"))
        try refuses(commands[2].1 + ["--out", earlier, "--force"], saying: "run holds NOTES.txt, which no demo writes, so --force leaves the folder")
        try FileManager.default.removeItem(atPath: earlier + "/run/NOTES.txt")
        // A user's file in data (which a Raman or H&E demo writes): refused before anything goes, so the earlier demo's run stays whole.
        try FileManager.default.createDirectory(atPath: earlier + "/data", withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: earlier + "/data/NOTES.txt"))
        try refuses(commands[2].1 + ["--out", earlier, "--force"], saying: "data holds NOTES.txt, which no demo writes")
        #expect(FileManager.default.fileExists(atPath: earlier + "/run/weights.safetensors"))
        try FileManager.default.removeItem(atPath: earlier + "/data/NOTES.txt")
        try refuses(commands[2].1 + ["--out", earlier], saying: "pass --force to replace the demo there")
        // A replacement killed at its first writes, or later, leaves the earlier demo: the next demo there puts it back whole.
        let summary = try Data(contentsOf: URL(fileURLWithPath: earlier + "/summary.json"))
        for killedAt in ["1", "2", "3", "12"] {
            let stoppedDemo = try cli.run(commands[2].1 + ["--out", earlier, "--force"], environment: ["COMPSEG_FAULT_KILL_AT": killedAt])
            #expect(stoppedDemo.status != 0)
            let back = try cli.run(commands[2].1 + ["--out", earlier])
            #expect(back.status != 0 && back.output.contains("pass --force to replace the demo there"), "\(back.output)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: earlier + "/summary.json")) == summary, "killed at \(killedAt)")
            #expect(FileManager.default.fileExists(atPath: earlier + "/run/weights.safetensors")
                        && !FileManager.default.fileExists(atPath: earlier + "/.earlier-demo"), "killed at \(killedAt)")
        }
        let replaced = try cli.run(commands[2].1 + ["--out", earlier, "--force"])
        #expect(replaced.status == 0, "\(replaced.output)")
        // What a run stopped before its first epoch leaves is its own: training into it again starts it.
        let stopped = folder.path("stopped")
        try FileManager.default.createDirectory(atPath: stopped, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: first + "/model.json", toPath: stopped + "/model.json")
        try Data().write(to: URL(fileURLWithPath: stopped + "/.dat.nosync1234"))
        let again = try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", stopped] + small)
        #expect(again.status == 0, "\(again.output)")
        #expect(!FileManager.default.fileExists(atPath: stopped + "/.dat.nosync1234"))
    }

    /// --out as the data's folder, where a truth is named as an output (<id>_mask.png): evaluate,
    /// segment and overlay refuse, even with --force, before anything is segmented, and the
    /// truth stays as it was (written over, a later evaluation scored the network against itself).
    @Test func noCommandWritesOverWhatItReads() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let run = try firstRun(folder, manifest)
        let data = folder.path("data")
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "_truth.png", with: "_mask.png").write(toFile: manifest, atomically: true, encoding: .utf8)
        let truths = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.hasSuffix("_truth.png") }
        for name in truths {
            try FileManager.default.moveItem(atPath: "\(data)/\(name)", toPath: "\(data)/" + name.replacingOccurrences(of: "_truth", with: "_mask"))
        }
        let first = "\(data)/" + truths.sorted()[0].replacingOccurrences(of: "_truth", with: "_mask")
        let before = try Data(contentsOf: URL(fileURLWithPath: first))
        for command in [["evaluate", "--split", "all"], ["segment"], ["overlay"]] {
            try refuses(command + ["--model", run, "--data", manifest, "--out", data, "--force"],
                        saying: "_mask.png: is the truth of line ")
            try refuses(command + ["--model", run, "--data", manifest, "--out", data, "--force"],
                        saying: "writes a file of this name into its --out (or removes an earlier run's): choose another --out")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == before)
        let evaluated = try cli.run(["evaluate", "--split", "all", "--model", run, "--data", manifest, "--out", folder.path("eval")])
        #expect(evaluated.status == 0, "\(evaluated.output)")
    }

    /// A one-epoch run in `folder/first`; its path.
    private func firstRun(_ folder: TemporaryFolder, _ manifest: String) throws -> String {
        let out = folder.path("first")
        let r = try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", out, "--epochs", "1",
                             "--width", "4", "--depth", "1", "--threads", "1"])
        #expect(r.status == 0, "\(r.output)")
        return out
    }

    /// A run whose checkpoint is gone is not started over on --resume (that would write over its
    /// trained weights); a diverging run stops with what to do, keeping no epoch of NaN.
    @Test func aRunIsNotLostToAMissingCheckpointOrADivergence() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let run = try firstRun(folder, manifest)
        let weights = try Data(contentsOf: URL(fileURLWithPath: run + "/weights.safetensors"))
        try FileManager.default.removeItem(atPath: run + "/checkpoint.safetensors")
        try refuses(["train", "--resume", run, "--epochs", "2"],
                    saying: "checkpoint.safetensors is missing, though weights.safetensors is there: the run cannot continue")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/weights.safetensors")) == weights)
        let diverged = folder.path("diverged")
        try refuses(["train", "--modality", "infrared", "--data", manifest, "--out", diverged, "--epochs", "1", "--width", "4",
                     "--depth", "1", "--lr", "1e30"],
                    saying: "loss is nan: training diverged, and this epoch is not kept; train anew with a lower learning rate")
        #expect(try FileManager.default.contentsOfDirectory(atPath: diverged) == ["model.json"])
        // Resuming a run without an epoch writes nothing before its first commit, so stopped again it
        // still resumes; a history.csv of its header alone (as earlier versions' resumes left) is no epoch.
        try refuses(["train", "--resume", diverged], saying: "loss is nan: training diverged")
        #expect(try FileManager.default.contentsOfDirectory(atPath: diverged) == ["model.json"])
        let header = try String(contentsOfFile: run + "/history.csv", encoding: .utf8).prefix { $0 != "\n" } + "\n"
        try Data(header.utf8).write(to: URL(fileURLWithPath: diverged + "/history.csv"))
        try refuses(["train", "--resume", diverged], saying: "loss is nan: training diverged")
    }

    /// A manifest without training rows is named as such before anything is fitted (not as the
    /// PCA step's "no training samples"); bench-ops times the layers asked for, and refuses a spec it cannot read.
    @Test func aManifestWithoutTrainingRowsAndALayerSpecAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let r = try cli.run(["phantom", "--spots", "2", "--size", "8", "--out", folder.path("two")])
        #expect(r.status == 0 && r.output.contains("warning: the train split holds no spot, and train needs both labels; give --spots 4"),
                "\(r.output)")
        let three = try cli.run(["phantom", "--spots", "3", "--size", "8", "--out", folder.path("three")])
        #expect(three.status == 0 && three.output.contains("warning: the train split holds 1 spot, all cancer, and train needs both"),
                "\(three.output)")
        let four = try cli.run(["phantom", "--spots", "4", "--size", "8", "--out", folder.path("four")])
        #expect(four.status == 0 && !four.output.contains("warning"), "\(four.output)")
        try refuses(["train", "--modality", "infrared", "--data", folder.path("two/manifest.csv"), "--out", folder.path("run")],
                    saying: "two/manifest.csv: no row has split train")
        // A phantom killed midway (at its first write) leaves no spot, only a staging folder, which the next run there removes.
        for modality in ["infrared", "raman", "he"] {
            let out = folder.path("killed-\(modality)")
            let killed = try cli.run(["phantom", "--modality", modality, "--spots", "4", "--size", "8", "--out", out],
                                     environment: ["COMPSEG_FAULT_KILL_AT": "1"])
            #expect(killed.status != 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { $0.hasPrefix(".staging-") }, "\(modality)")
            #expect(try cli.run(["phantom", "--modality", modality, "--spots", "4", "--size", "8", "--out", out]).status == 0)
            #expect(try !FileManager.default.contentsOfDirectory(atPath: out).contains { $0.hasPrefix(".") }, "\(modality)")
        }
        try refuses(["phantom", "--modality", "raman", "--spots", "4", "--bands", "10", "--out", folder.path("raman")],
                    saying: "--bands: a Raman phantom needs 32 or more (over fewer, its cosmic-ray spikes outweigh the tissue's signal")
        // A manifest given where sample files (or a modality) belong is named as one, before anything is read.
        for command in ["segment", "overlay"] {
            let r = try cli.run([command, "--model", folder.path("run"), "--out", folder.path("seg"), folder.path("four/manifest.csv")])
            #expect(r.status == 64 && r.output.contains("four/manifest.csv is a manifest (a CSV table with a path column), not an image file: "
                                                        + "give it with --data"), "\(command): \(r.output)")
        }
        try refuses(["inspect", folder.path("four/manifest.csv")], saying: "not an image file: give its images (inspect reads image files)")
        try refuses(["convert", folder.path("four/manifest.csv"), "--out", folder.path("converted")],
                    saying: "not an image file: give its images (convert reads image files)")
        try refuses(["train", "--modality", folder.path("four/manifest.csv"), "--data", folder.path("four/manifest.csv"), "--out", folder.path("run")],
                    saying: "four/manifest.csv: is a data manifest (a CSV table with a path column), which --data takes, not a settings file")
        let layer = try cli.run(["bench-ops", "--repeats", "1", "--layers", "3->5@8"])
        #expect(layer.status == 0 && layer.output.hasPrefix("{\"layer\": \"3->5@8\""), "\(layer.output)")
        try refuses(["bench-ops", "--layers", "64->64"], saying: "--layers: '64->64' is not CIN->COUT@SIZE")
        // A batch (or a network) beyond the memory is refused before it is made, not ended by the allocation.
        try refuses(["bench", "--channels", "1000000000", "--width", "4", "--depth", "2", "--size", "8", "--batch", "1", "--steps", "1"],
                    saying: "two batches of 1 image of 8×8 pixels × 1000000000 channels needs 512 GB of memory")
    }

    /// A compare entry's name is a folder inside --out: '..' or '.' would put a run elsewhere, and
    /// the name of a file compare writes would clash with it.
    @Test func aCompareEntryStaysInsideItsFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        for name in ["..", "."] {
            let config = folder.path("compare.yaml")
            try Data("topologies:\n  - {name: \"\(name)\", topology: unet}\n".utf8).write(to: URL(fileURLWithPath: config))
            try refuses(["compare", "--modality", "infrared", "--data", manifest, "--config", config, "--out", folder.path("c/d")],
                        saying: "topologies entry 1: 'name' must be a folder name inside --out (text without '/', not '.' or '..')")
        }
        // Nor a file compare writes there: all training would be lost to it at the end.
        let config = folder.path("compare.yaml")
        try Data("topologies:\n  - {name: comparison.md, topology: unet}\n".utf8).write(to: URL(fileURLWithPath: config))
        try refuses(["compare", "--modality", "infrared", "--data", manifest, "--config", config, "--out", folder.path("c/d")],
                    saying: "topologies entry 1: 'name' comparison.md is a file compare writes into --out")
        // With --seeds, nor a name like the runs' own folders (x-seed0 beside x).
        try Data("topologies:\n  - {name: x, topology: unet}\n  - {name: x-seed0, topology: unet}\n".utf8).write(to: URL(fileURLWithPath: config))
        try refuses(["compare", "--modality", "infrared", "--data", manifest, "--config", config, "--out", folder.path("c/d"), "--seeds", "0,1"],
                    saying: "entry name x-seed0 ends as the runs' folders do with --seeds (NAME-seedN, one per entry and seed)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("c")))
    }

    /// Work too large for the machine is refused before allocating, saying how much it needs.
    @Test func workBeyondTheMachinesMemoryIsRefusedFirst() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try refuses(["phantom", "--spots", "2", "--size", "8192", "--bands", "100000", "--out", folder.path("p")],
                    saying: "a spot of 8192×8192 pixels × 100000 values needs 81 TB of memory, more than ")
        #expect(!FileManager.default.fileExists(atPath: folder.path("p/manifest.csv")))
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 1)
        let modality = folder.path("wide.yaml")
        try Data("reader: infrared\npreprocessing:\n  - resample: {from: 948, to: 1800, count: 100000000}\n".utf8)
            .write(to: URL(fileURLWithPath: modality))
        // An axis of more bands than any spectrometer writes is refused as a value, before it is made.
        try refuses(["train", "--modality", modality, "--data", manifest, "--out", folder.path("run"), "--epochs", "1"],
                    saying: "wide.yaml: preprocessing step 1 'resample': 'count' must lie in 2…100000, got 100000000")
    }

    @Test func manifestsWithDuplicatesOrOneClassAreRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 2)
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        func write(_ name: String, _ rows: [String], bom: Bool = false, separator: String = "\n") throws -> String {
            let path = folder.path("data/\(name)")
            try Data(((bom ? "\u{FEFF}" : "") + rows.joined(separator: separator) + separator).utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        func train(_ path: String, _ out: String) -> [String] {
            ["train", "--modality", "infrared", "--data", path, "--out", folder.path(out), "--epochs", "1", "--width", "4", "--depth", "2"]
        }
        // A byte-order mark and CR-only line endings are read as meant.
        let mac = try write("mac.csv", lines, bom: true, separator: "\r")
        #expect(try cli.run(train(mac, "mac")).status == 0)
        // The same file twice, in one split or two.
        let twice = try write("twice.csv", lines + [lines[1]])
        try refuses(train(twice, "twice"), saying: "is listed already on line 2")
        let moved = lines[1].replacingOccurrences(of: ",train,", with: ",test,").replacingOccurrences(of: ",val,", with: ",test,")
        let leak = try write("leak.csv", lines + [moved.contains(",test,") ? moved : lines[1]])
        try refuses(train(leak, "leak"), saying: "is listed already on line 2")
        // Training rows of one label only.
        let oneClass = try write("one.csv", [lines[0]] + lines.dropFirst().filter { !($0.contains(",1,") && $0.contains(",train,")) })
        try refuses(train(oneClass, "one"), saying: "the train split needs both labels")
    }

    /// Two inputs with the same file name get distinct outputs: nothing of the first is lost.
    @Test func samplesWithTheSameFileNameKeepTheirOwnOutputs() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 4)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        for (spot, sub) in [("spot000", "A"), ("spot001", "B")] {
            try FileManager.default.createDirectory(atPath: folder.path(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: folder.path("data/\(spot).h5"), toPath: folder.path("\(sub)/s.h5"))
        }
        let r = try cli.run(["segment", "--model", folder.path("run"), folder.path("A/s.h5"), folder.path("B/s.h5"), "--out", folder.path("seg")])
        #expect(r.status == 0, "\(r.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path("seg/s_map.png")) && FileManager.default.fileExists(atPath: folder.path("seg/s-2_map.png")))
        let table = try String(contentsOfFile: folder.path("seg/segmentation.csv"), encoding: .utf8)
        #expect(table.contains("\ns,") && table.contains("\ns-2,"), "\(table)")
        // One file given twice is refused, as a manifest's row given twice is.
        let twice = try cli.run(["segment", "--model", folder.path("run"), folder.path("A/s.h5"), folder.path("A/../A/s.h5"), "--out", folder.path("seg2")])
        #expect(twice.status == 64 && twice.output.contains("\(folder.path("A/../A/s.h5")) is given twice (as \(folder.path("A/s.h5")))"),
                "\(twice.output)")
        // A hard link is the same file under another name, refused alike.
        try FileManager.default.linkItem(atPath: folder.path("A/s.h5"), toPath: folder.path("hard.h5"))
        let linked = try cli.run(["segment", "--model", folder.path("run"), folder.path("A/s.h5"), folder.path("hard.h5"), "--out", folder.path("seg3")])
        #expect(linked.status == 64 && linked.output.contains("\(folder.path("hard.h5")) is given twice (as \(folder.path("A/s.h5")))"),
                "\(linked.output)")
        // A file of its own named s-2 keeps that id, in either order: a repeated name skips it.
        try FileManager.default.copyItem(atPath: folder.path("data/spot002.h5"), toPath: folder.path("s-2.h5"))
        for (order, out) in [([folder.path("A/s.h5"), folder.path("B/s.h5"), folder.path("s-2.h5")], "one"),
                             ([folder.path("s-2.h5"), folder.path("B/s.h5"), folder.path("A/s.h5")], "two")] {
            #expect(try cli.run(["segment", "--model", folder.path("run")] + order + ["--out", folder.path(out)]).status == 0)
            let rows = try String(contentsOfFile: folder.path("\(out)/segmentation.csv"), encoding: .utf8).split(separator: "\n")
            #expect(rows.contains { $0.hasPrefix("s-2,") && $0.contains("/s-2.h5,no,5.5,5.5,") }, "\(rows)")
            #expect(Set(rows.dropFirst().map { $0.prefix { $0 != "," } }) == ["s", "s-2", "s-3"], "\(rows)")
        }
    }

    /// Unusable output folders are named with the system's reason; a segment run that fails
    /// part-way (here the file-size limit, as a full disk fails a write) leaves no new file.
    @Test func outputFoldersAndFailedWritesLeaveNothingBehind() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 5)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path("file")))
        let phantom = ["phantom", "--spots", "4", "--size", "16", "--bands", "20", "--out"]
        try refuses(phantom + [folder.path("file")], saying: "file: is a file; expected a folder to write into")
        try refuses(phantom + [folder.path("file/sub")], saying: "cannot be created: \(folder.path("file")) is a file, not a folder")
        try refuses(phantom + ["/proc/compseg-test"], saying: "/proc/compseg-test: cannot be created: No such file or directory")
        #expect(try cli.trainTiny(folder, manifest) == 0)
        // segment, overlay and evaluate alike: all files or none (evaluate given --force for the user's file beside).
        for (command, extra) in [("segment", [String]()), ("overlay", []), ("evaluate", ["--force"])] {
            let out = folder.path("out-\(command)")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data("kept".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
            // What a run killed mid-write left (its staging folder) goes; the user's file stays.
            try FileManager.default.createDirectory(atPath: out + "/.staging-6F9619FF-8B86-D011-B42D-00C04FC964FF.tmp", withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: out + "/.staging-6F9619FF-8B86-D011-B42D-00C04FC964FF.tmp/spot000_map.png"))
            // RLIMIT_FSIZE of 1 KiB, SIGXFSZ ignored: the first larger write fails with EFBIG.
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", "trap '' XFSZ; ulimit -f 2; exec \"$0\" \"$@\"", cli.binary.path, command, "--model", folder.path("run"),
                               "--data", manifest, "--out", out] + extra
            let pipe = Pipe()
            shell.standardOutput = pipe; shell.standardError = pipe
            try shell.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 1, "\(command): \(output)")
            #expect(output.contains(out + "/") && output.contains("no file of this run was kept") && !output.contains("staging"),
                    "\(command): \(output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["notes.txt"], "\(command)")
        }
        // --force replaces compseg's own outputs, never a user's file that shares an output's name.
        for (command, file) in [("segment", "spot000_map.png"), ("overlay", "spot001_panel.png"), ("evaluate", "report.html")] {
            let out = folder.path("mine-\(command)")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(out)/\(file)"))
            try refuses([command, "--model", folder.path("run"), "--data", manifest, "--out", out, "--force"],
                        saying: "\(out): holds 1 entry (\(file)) that this run would write over and that no earlier run of compseg wrote there")
            #expect(try String(contentsOfFile: "\(out)/\(file)", encoding: .utf8) == "mine" && FileManager.default.contentsOfDirectory(atPath: out).count == 1)
        }
        // Nor one beside a record: a polygon file the user saved where a segment without --geojson wrote its maps.
        let beside = folder.path("mine-beside")
        #expect(try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", beside]).status == 0)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: beside + "/spot000_mask.geojson"))
        try refuses(["segment", "--model", folder.path("run"), "--data", manifest, "--out", beside, "--force", "--geojson"],
                    saying: "holds 1 entry (spot000_mask.geojson) that this run would write over")
        let again = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", beside, "--force"])
        #expect(again.status == 0 && (try? String(contentsOfFile: beside + "/spot000_mask.geojson", encoding: .utf8)) == "mine", "\(again.output)")
        // evaluate --force over an earlier evaluation: replaced whole, figures it no longer draws removed.
        let evaluated = folder.path("eval-twice")
        #expect(try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", evaluated, "--split", "all"]).status == 0)
        let listed = try String(contentsOfFile: evaluated + "/.compseg-outputs", encoding: .utf8)
        #expect(listed.contains("summary.json\t") && listed.contains("spot000_panel.png\t"), "\(listed)")
        let twice = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", evaluated, "--split", "test", "--force"])
        #expect(twice.status == 0, "\(twice.output)")
        let summary = try String(contentsOfFile: evaluated + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"split\" : \"test\""), "\(summary)")
        let kept = Set(try FileManager.default.contentsOfDirectory(atPath: evaluated))
        let listedNow = Set(try String(contentsOfFile: evaluated + "/.compseg-outputs", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.prefix { $0 != "\t" }) })  // after the line that says names are escaped
        #expect(kept == listedNow.union([".compseg-outputs"]), "every file there is the new evaluation's: \(kept.symmetricDifference(listedNow))")
    }

    /// Settings in a modality manifest: a fraction for a count, an unknown layout, a band outside the axis.
    @Test func modalityManifestValuesNameTheKeyAndTheChoices() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 6)
        let infrared = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("modalities/infrared.yaml"), encoding: .utf8)
        for (n, (from, to, message)) in [("components: 16", "components: 4.5", "key 'components': 4.5 is not a whole number"),
                                         ("layout: hwb ", "layout: whb ", "key 'layout': 'whb' is not one of hwb, bhw, flat, matlab"),
                                         ("method: vector", "method: band, wavenumber: 5000",
                                          "wavenumber 5000.0 lies outside the spectral axis")].enumerated() {
            let path = folder.path("lab\(n).yaml")
            try Data(infrared.replacingOccurrences(of: from, with: to).utf8).write(to: URL(fileURLWithPath: path))
            try refuses(["train", "--modality", path, "--data", manifest, "--out", folder.path("run\(n)"), "--epochs", "1",
                         "--width", "4", "--depth", "2"], saying: message)
        }
    }
}
