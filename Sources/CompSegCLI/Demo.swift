import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegDemo
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import Phantoms

/// `compseg demo`: the whole method on a built-in synthetic infrared or Raman tissue microarray: image
/// labels only for training, model selection on validation loss, then test AUC and Dice against
/// the ground truth that training never saw.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train CompSegNet on a synthetic infrared, Raman or H&E TMA from image labels and evaluate it against ground truth.",
        discussion: "--seed sets the phantom's tissue and tumors as well as the initial weights and the batch order.")

    @Option(help: "Modality of the phantom: infrared (made in memory), raman (ENVI and WiRE-text files) or he (tiled TIFF and PNG files); files go into OUT/data and are read back.")
    var modality = Phantom.Modality.infrared
    @Option(parsing: .unconditional, help: "Spots in the phantom (about 60% train, 20% val, 20% test; default: infrared 100, raman and he 60).") var spots: Int?
    @Option(parsing: .unconditional, help: "Spot side in pixels (default: infrared 64, raman 48, he 64).") var size: Int?
    @Option(parsing: .unconditional, help: "Principal components fed to the network (infrared and raman; default: the modality's, 16).") var components: Int?
    @Option(help: "Topology identifier.") var topology = "unet"
    @Option(parsing: .unconditional, help: "Network base width.") var width = 16
    @Option(parsing: .unconditional, help: "Network pooling steps.") var depth = 3
    @OptionGroup var training: TrainingOptions
    @Option(parsing: .unconditional, help: "The network's activation at start (its head's bias); default: the topology's.") var initialActivation: Float?
    @Flag(inversion: .prefixedNo, help: "Batch norm after every convolution (default: the topology's; the U-Net's is off, as in the paper).")
    var batchNorm: Bool?
    @Option(parsing: .unconditional, help: "The CompSegNet head's α: the tumor fraction a cancer sample is assumed to hold at least (default: infrared and raman 0.1, he 0.2).")
    var alpha: Float?
    @Option(parsing: .unconditional, help: "Activation threshold for masks (default: chosen on the validation spots).") var threshold: Float?
    @Option(help: "Folder for the run, the figures and report.html.") var out = "compseg-demo"
    @Flag(help: "Write over an earlier demo in --out (its run, data and figures are replaced); a folder no demo wrote is refused.") var force = false
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions

    func validate() throws {
        try requireOption("--spots", spots, in: 10...100_000)
        try requireOption("--size", size, in: 16...8192)
        if let components, components < 1 { throw ValidationError("--components must be positive, got \(components)") }
        if modality == .he, components != nil { throw ValidationError("--components: H&E images are RGB, fed to the network as they are, not reduced by PCA") }
        guard !out.isEmpty else { throw ValidationError("--out must name a folder, got an empty path") }
        if let alpha, !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must lie in (0, 1), got \(alpha)") }
        if let threshold, !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must lie in (0, 1), got \(threshold)" + percentHint(threshold)) }
    }

    func run() throws {
        threading.apply()
        let device = try compute.apply()
        let started = DispatchTime.now().uptimeNanoseconds
        let registry = try CompSegTool.registry()
        let folder = fileURL(out)
        let seed = training.settings().seed
        let data: PhantomDemo.Settings.Data, spotCount: Int
        switch modality {
        case .infrared:
            var p = InfraredPhantom.Settings()
            p.spots = spots ?? 100; p.size = size ?? p.size; p.seed = seed
            data = .infrared(p); spotCount = p.spots
        case .raman:
            var p = RamanPhantom.Settings()
            p.spots = spots ?? p.spots; p.size = size ?? p.size; p.seed = seed
            data = .raman(p, folder: folder.appendingPathComponent("data")); spotCount = p.spots
        case .he:
            var p = HEPhantom.Settings()
            p.spots = spots ?? p.spots; p.size = size ?? p.size; p.seed = seed
            data = .he(p, folder: folder.appendingPathComponent("data")); spotCount = p.spots
        }
        var settings = PhantomDemo.Settings(data, modality: try resolveModality(modality.rawValue, registry: registry))
        settings.training = training.settings()
        settings.threshold = threshold
        settings.versions = runVersions(device: device)
        // --components replaces the manifest's PCA size.
        if let components {
            settings.modality.preprocessing = settings.modality.preprocessing.map { step in
                step.identifier == "pca" ? PluginDescription(identifier: "pca", configuration: ["components": JSONValue(components)]) : step
            }
        }
        var network: [String: JSONValue] = ["depth": JSONValue(depth), "width": JSONValue(width)]
        network["initialActivation"] = initialActivation.map(JSONValue.init)
        network["batchNorm"] = batchNorm.map { .bool($0) }
        settings.topology = PluginDescription(identifier: topology, configuration: .object(network))
        // H&E at α .1 lit only the most distinct part of each tumor (pixel sensitivity .26–.72, Dice
        // .63–.82 over seeds 0–4); at .2, Dice .78–.84 (docs/method.md).
        let alpha = alpha ?? (modality == .he ? 0.2 : 0.1)
        settings.head = PluginDescription(identifier: "compsegnet", configuration: ["alpha": JSONValue(alpha)])

        // The network and head as given, checked before anything is written (the phantom takes a while).
        try registry.checkTopology(topology, settings.topology.pluginConfiguration(source: "the command line: --topology \(topology)"))
        _ = try registry.head(settings.head.identifier, settings.head.pluginConfiguration(source: "the command line: --alpha"))

        // Another compseg writing a demo here now is refused (exit 75) before anything there is looked at or removed.
        let made = missingFolders(folder)
        try createFolder(folder)
        let lock: FolderLock
        do {
            lock = try FolderLock(folder, holder: "working in this folder")
            // A demo killed before its end: what it wrote goes, and the demo it had set aside comes back.
            if let restored = EarlierDemo.restore(in: folder) {
                print("A demo killed before its end had worked in \(folder.path): " + (restored == 0 ? "its files are removed"
                      : "its files are removed and the earlier demo it had set aside is back"))
            }
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(EarlierDemo.name).path) {
                throw CLIError("\(folder.appendingPathComponent(EarlierDemo.name).path) holds files of an earlier demo that could not be "
                               + "moved back (named above): move them back by hand, then run the demo again")
            }
            if !force {
                let earlier = FileManager.default.fileExists(atPath: folder.appendingPathComponent(Self.stamp).path)
                try requireEmptyFolder(folder, earlier ? "pass --force to replace the demo there, or choose another --out"
                                       : "it holds no earlier demo for --force to replace: choose another --out")
            }
            if force, !FileManager.default.fileExists(atPath: folder.appendingPathComponent(Self.stamp).path) {
                // No earlier demo's: its files are someone else's, and --force replaces only a demo.
                try requireEmptyFolder(folder, "it holds no earlier demo (no \(Self.stamp)), and --force replaces only a demo's files: choose "
                                       + "another --out")
            }
        } catch {
            removeEmptyFolders(made)
            throw error
        }
        defer { lock.release() }
        _ = InterruptFlag.install()  // Ctrl-C or SIGTERM stops between steps: the new demo goes, an earlier one comes back
        try EarlierDemo.setAside(try Self.earlierDemo(in: folder), in: folder)
        do {
            try write(into: folder, settings, spotCount: spotCount, registry: registry, started: started)
        } catch {
            _ = EarlierDemo.restore(in: folder)
            if !FileManager.default.fileExists(atPath: folder.appendingPathComponent(Self.stamp).path) { removeEmptyFolders(made) }
            throw error
        }
        EarlierDemo.discard(in: folder)
    }

    /// Trains and evaluates the demo into `folder` (its earlier demo set aside): the run, the report and the per-sample files.
    private func write(into folder: URL, _ settings: PhantomDemo.Settings, spotCount: Int, registry: Registry, started: UInt64) throws {
        let run = RunDirectory(folder.appendingPathComponent("run"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeDurably(try encoder.encode(["arguments": Array(CommandLine.arguments.dropFirst())]) + Data([10]),
                         to: folder.appendingPathComponent(Self.stamp))
        let progress = ProgressReporter(epochs: settings.training.epochs, images: Int(Double(spotCount) * 0.6))
        var epoch = 0
        let outcome = try PhantomDemo.run(settings, in: run, registry: registry, report: { print($0) },
                                          progress: { epoch = $0.epoch; progress.finish($0) },
                                          step: { k, n in progress.step(epoch: epoch + 1, k, of: n) })
        let result = outcome.evaluation
        if let stopped = stoppedByPatience(outcome.run) { print(stopped) }
        warnAboutCheckerboard(outcome.test, outcome.maps, topology: settings.topology, threshold: result.threshold)  // as evaluate does
        let file = try run.readWeightsFile(), kept = (epoch: file.keptEpoch, checksum: file.dataChecksum)
        let origin = threshold != nil ? "set by --threshold"
            : outcome.run.model.threshold?.origin ?? "the paper's, as the validation spots told no threshold apart"
        try EvaluationReport.write(result, samples: outcome.test, maps: outcome.maps, truth: outcome.truth,
                                   title: "compseg demo: the \(outcome.test.count) held-out test spots of \(spotCount) \(modality.rawValue) phantom spots, "
                                       + "seed \(settings.training.seed), \(topology)", to: folder,
                                   curves: try run.curvesSVG(), thresholdOrigin: origin, warnings: Warnings.written,
                                   footer: reportFooter(weights: kept))
        try EvaluationFiles.write(result, files: outcome.files, splits: Dictionary(uniqueKeysWithValues: outcome.test.map { ($0.id, "test") }),
                                  source: (run.url.path, outcome.data, "test", origin), run: (0, Warnings.written),
                                  network: (CompSegVersion.string, kept.epoch, kept.checksum, nil), to: folder)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        print(String(format: "Best epoch %d, threshold %@. Test AUC %.3f; Dice %.3f",
                     outcome.run.trainer.best?.epoch ?? 0, thresholdText(result.threshold), result.auc ?? .nan, result.diceMean)
              + (result.summary.diceSD.map { String(format: " ± %.3f", $0) } ?? "") + " over "
              + counted(result.dice.count, "cancer spot") + String(format: "; %.0f s in all.", seconds))
        print("Report: \(folder.appendingPathComponent("report.html").path)")
    }

    /// What every demo writes into its folder first (its arguments), so that a later `--force`
    /// knows the folder's `run` and `data` for a demo's.
    static let stamp = "demo.json"

    /// An earlier demo's entries in `folder`: its stamp, `run` and `data` folders, report and
    /// per-sample files. Its `run` and `data` only where the folder holds a demo's stamp and they
    /// hold nothing but what a demo writes, so a user's dataset, run or notes are never taken for one.
    /// - Throws: `CLIError` naming the folder and why it is left alone.
    static func earlierDemo(in folder: URL) throws -> [URL] {
        let stamped = FileManager.default.fileExists(atPath: folder.appendingPathComponent(stamp).path)
        let runFiles: Set = ["model.json", "weights.safetensors", "history.csv", "checkpoint.safetensors", "curves.png", "curves.svg"]
        let spotFile = /spot[0-9]+(_truth\.png|\.(h5|hdr|img|txt|tif|png))/
        let kinds: [(name: String, isDemos: (String) -> Bool)] = [
            ("run", { runFiles.contains($0) }), ("data", { $0 == "manifest.csv" || $0.wholeMatch(of: spotFile) != nil })]
        // Every folder is checked before any is removed: a refusal leaves the earlier demo whole.
        var removable: [(name: String, url: URL)] = []
        for (name, isDemos) in kinds {
            let url = folder.appendingPathComponent(name)
            let held = try folderEntries(url).filter { !isLeftoverTemporary($0) }
            guard !held.isEmpty else { continue }
            guard stamped else {
                throw CLIError("\(url.path) is not an earlier demo's (\(folder.path) holds no \(stamp), which every demo writes "
                               + "first), so --force leaves it; move it or choose another --out")
            }
            if let foreign = held.first(where: { !isDemos($0) }) {
                throw CLIError("\(url.path) holds \(foreign), which no demo writes, so --force leaves the folder; move it or "
                               + "choose another --out")
            }
            removable.append((name, url))
        }
        let reports = SegmentationFiles.paths(for: SegmentationFiles.recordedIDs(folder.appendingPathComponent("per_sample.csv")), in: folder,
                                              geoJSON: true, figures: true)
            + (EarlierDemo.demosEvaluationFiles + ["per_sample.csv", stamp]).map { folder.appendingPathComponent($0) }
        return removable.map(\.url) + reports.filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}

/// An earlier demo set aside in its folder (`.earlier-demo`) while a new one is written, with the
/// names the folder held beside it: a new demo that fails or is stopped goes, and the earlier one
/// comes back whole (also after a kill, when the next demo starts there).
enum EarlierDemo {
    static let name = ".earlier-demo"
    /// In the set-aside folder: the names the demo's folder held beside the earlier demo (the
    /// user's), and the earlier demo's, which are moved in after the lists are written.
    static let keptList = ".kept", movedList = ".moved"

    /// Moves `entries` (an earlier demo's) into `.earlier-demo`, with the lists of every other name and of theirs.
    static func setAside(_ entries: [URL], in folder: URL) throws {
        let aside = folder.appendingPathComponent(name)
        try createFolder(aside)
        let moving = Set(entries.map(\.lastPathComponent))
        let kept = try folderEntries(folder).filter { !moving.contains($0) && $0 != name }
        try writeDurably(Data(moving.sorted().joined(separator: "\n").utf8), to: aside.appendingPathComponent(movedList))
        try writeDurably(Data(kept.joined(separator: "\n").utf8), to: aside.appendingPathComponent(keptList))
        for entry in entries where rename(entry.path, aside.appendingPathComponent(entry.lastPathComponent).path) != 0 {
            let reason = String(cString: strerror(errno))
            _ = restore(in: folder)
            throw CLIError("\(entry.path): an earlier demo's file cannot be set aside: \(reason)")
        }
    }

    /// The evaluation's files a demo writes (no table of patients: its phantom names none, so one
    /// there is a user's).
    static let demosEvaluationFiles = Evaluate.outputs.filter { $0 != Evaluate.patientTable }

    /// Whether `entry` is a name a demo writes into its folder: its stamp, `run` and `data`, its
    /// report and tables, and a spot's pictures.
    static func isDemos(_ entry: String) -> Bool {
        ["run", "data", Demo.stamp, "per_sample.csv"].contains(entry) || demosEvaluationFiles.contains(entry)
            || entry.wholeMatch(of: /spot[0-9]+_[a-z]+\.(png|tif|geojson)/) != nil || isLeftoverTemporary(entry)
    }

    /// Removes what a new demo wrote and moves the earlier demo back; nil where none was set
    /// aside, else how many entries came back. What the new demo wrote is every name a demo writes
    /// (`isDemos`) that `.kept` does not list, but for an earlier demo's entry that a kill left
    /// unmoved (listed in `.moved`, not set aside): it stays, as does any other name (a user's).
    /// An entry that cannot be moved back keeps `.earlier-demo`, and says so.
    static func restore(in folder: URL) -> Int? {
        let aside = folder.appendingPathComponent(name)
        func list(_ file: String) -> Set<String>? {
            (try? String(contentsOf: aside.appendingPathComponent(file), encoding: .utf8)).map { Set($0.split(separator: "\n").map(String.init)) }
        }
        guard let kept = list(keptList), let moving = list(movedList) else {
            // Killed before its lists were whole: nothing was moved yet, and nothing new written.
            try? FileManager.default.removeItem(at: aside)
            return nil
        }
        let setAside = Set(((try? folderEntries(aside)) ?? []))
        for entry in (try? folderEntries(folder)) ?? [] where entry != name && !kept.contains(entry) && isDemos(entry)
            && !(moving.contains(entry) && !setAside.contains(entry)) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry))
        }
        let back = setAside.subtracting([keptList, movedList]).sorted()
        let stuck = back.filter { rename(aside.appendingPathComponent($0).path, folder.appendingPathComponent($0).path) != 0 }
        if stuck.isEmpty { try? FileManager.default.removeItem(at: aside) } else {
            warn("\(aside.path) keeps \(stuck.joined(separator: ", ")) of the earlier demo, which could not be moved back (a file of "
                 + "that name is in the way): move them back by hand")
        }
        return back.count - stuck.count
    }

    /// The new demo is whole: the earlier one goes (renamed first, so that a kill while it is
    /// removed leaves a temporary, not a half-removed demo the next one would put back).
    static func discard(in folder: URL) {
        let gone = folder.appendingPathComponent(".earlier-demo.\(UUID().uuidString).tmp")
        guard rename(folder.appendingPathComponent(name).path, gone.path) == 0 else { return }
        try? FileManager.default.removeItem(at: gone)
    }
}
