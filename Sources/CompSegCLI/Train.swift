import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg train`: trains a topology through a pooling head from a manifest's image labels.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a segmenting network from image-level labels (CompSegNet).",
        discussion: """
            The manifest is a CSV with header path,label,split (labels 1/cancer or 0/cancer-free; splits \
            train, val, test). RUN receives model.json, weights.safetensors (the epoch of lowest validation \
            loss), history.csv with its plot curves.png and curves.svg (losses, validation AUC, the best \
            epoch), and checkpoint.safetensors. Ctrl-C stops after the current step; \
            --resume RUN continues from the last completed epoch.
            """)

    @Option(help: "Modality: a manifest in modalities/ by name (e.g. infrared), a manifest file (lab.yaml), or a reader plugin (the `plugins` command lists both).") var modality: String?
    @Option(help: "Topology identifier (default unet).") var topology: String?
    @Option(help: "Pooling head identifier (default compsegnet).") var head: String?
    @Option(name: .customLong("head-option"), parsing: .unconditionalSingleValue,
            help: "A setting of the head, KEY=VALUE (repeatable), e.g. alpha=0.2 for the CompSegNet head; on top of --config's headConfiguration (the `plugins` command lists the heads).")
    var headOption: [String] = []
    @Option(help: "Dataset manifest CSV (with --resume: where the run's manifest is now, when it moved; its train and val rows must be the run's).") var data: String?
    @Option(help: "Run folder to create.") var out: String?
    @Option(help: "Continue the run in this folder from its last completed epoch, as its model.json describes it (--epochs: the total to reach; any other option, or a --config given again, must set what the run has). With --out naming the same folder, a folder that holds no run yet starts one: the command that began a run, with --resume added, continues it.") var resume: String?
    @Option(name: .customLong("init-from"), help: "Start from the kept weights of this trained run, fine-tuning it on --data (another lab's or scanner's samples): they are read with the run's modality and its fitted preprocessing, and its topology is kept (--modality, --topology, --width and --depth may be given where they are the run's); the head is the run's unless --head names another; the training settings are this command's (a lower --lr than the run's is usual). model.json records the run as initialWeights.") var initFrom: String?
    @Option(parsing: .unconditional, help: "Network base width (default: the topology's; U-Net and SegNet: 64).") var width: Int?
    @Option(parsing: .unconditional, help: "Network pooling steps (default: the topology's; U-Net and SegNet: 4).") var depth: Int?
    @OptionGroup var training: TrainingOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions
    @OptionGroup var cache: CacheOptions
    @Flag(help: "Leave out the rows whose image is missing, cannot be read or holds no tissue, or whose mask or truth file is missing or cannot be read (not a PNG or GeoJSON, damaged): each is named in a warning, the train and val ones are recorded in model.json, and the run trains on the others (its resumes leave out the same rows). Without it, such a row ends the command before training.")
    var skipUnreadable = false
    @Option(help: "Settings file (YAML or JSON): any option above by name (cache-mb or cacheMb; paper-recipe: true) but --resume and --head-option (whose keys go in headConfiguration), the settings weightDecay, minDelta and balancedBatches, and sections modalityConfiguration, topologyConfiguration and headConfiguration; options given here override it. Its relative paths (data, out, init-from, a modality file) are taken from its folder, and ~/ from the home folder.")
    var config: String?

    static let defaultTopology = "unet", defaultHead = "compsegnet"

    /// The settings a `--config` file may hold: the options by name, plus plugin sections.
    struct File: Codable, ListsConfigurationKeys {
        var modality, topology, head, data, out, initFrom: String?
        var device: ComputeDevice?
        var precision: Precision?
        var optimizer: TrainingSettings.OptimizerKind?
        var augment: TrainingSettings.Augmentation?
        var epochs, batch, width, depth, patience, threads, warmup, cacheMb: Int?
        var lr, weightDecay, minDelta: Float?
        var seed: UInt64?
        var balancedBatches, paperRecipe, skipUnreadable: Bool?
        var modalityConfiguration, topologyConfiguration, headConfiguration: JSONValue?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case modality, topology, head, data, out, initFrom, device, precision, optimizer, augment, epochs, batch, width, depth, patience
            case threads, warmup, cacheMb, lr, weightDecay, minDelta, seed, balancedBatches, paperRecipe, skipUnreadable
            case modalityConfiguration, topologyConfiguration, headConfiguration
        }

        /// The file's settings, its keys as the options are spelled (`cache-mb`) or in camelCase (`cacheMb`).
        static func read(_ path: String) throws -> File {
            let file = try ConfigurationFile.read(fileURL(path), named: path)
            var object: [String: JSONValue] = [:], spelled: [String: String] = [:]
            let given = try JSONDecoder().decode(JSONValue.self, from: file.json).objectValue ?? [:]
            if given["training"]?.objectValue != nil, given["topology"]?.objectValue != nil {
                throw ConfigurationError(source: path, message: "is a run's model.json, not a settings file; continue that run with "
                                         + "--resume \(shellWord((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent))")
            }
            if given["reader"] != nil, given["modality"] == nil {
                throw ConfigurationError(source: path, message: "is a modality manifest (reader, options, preprocessing), which --modality "
                                         + "takes, or a settings file's modality key; not a settings file")
            }
            // model.json's names for the settings, in a file of the options.
            let asOptions = ["learningRate": "lr", "batchSize": "batch", "warmupEpochs": "warmup", "augmentation": "augment"]
            if let (key, option) = asOptions.sorted(by: { $0.key < $1.key }).first(where: { given[$0.key] != nil }) {
                throw ConfigurationError(source: path, message: "unknown key '\(key)': model.json's name for it; a settings file "
                                         + "names the option, '\(option)' (--\(option))")
            }
            for (key, value) in given.sorted(by: { $0.key < $1.key }) {
                // An option's spelling (words of small letters joined by '-') becomes its camelCase key.
                let parts = key.split(separator: "-", omittingEmptySubsequences: false)
                let spelledAsOption = parts.count > 1 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLowercase } }
                let name = !spelledAsOption ? key : parts[0] + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                if let other = spelled[name] {
                    throw ConfigurationError(source: path, message: "keys '\(other)' and '\(key)' both set \(name); give it once")
                }
                // An option left without a value (`epochs:`) most likely lost it; its default is had by leaving the key out.
                // (`patience: null` says its default, none; a section's null, its plugin's defaults.)
                if value == .null, !["patience", "modalityConfiguration", "topologyConfiguration", "headConfiguration"].contains(name) {
                    throw ConfigurationError(source: path, message: "key '\(key)' has no value (YAML reads nothing, null and a lone ~ as none); "
                                             + "give one, or leave the key out for its default")
                }
                (object[name], spelled[name]) = (value, key)
            }
            return try PluginConfiguration(json: JSONValue.object(object).data, source: path).decode(File.self)
        }
        static var configurationKeys: [String] { keys(of: CodingKeys.self) }
    }

    /// `error` naming an unknown key of the settings file `path` that is a setting of the run's head
    /// or topology (`alpha`, `batchNorm`) as one, with the section it goes in; any other error as
    /// it is. The plugins (a network of the topology's default size) are made only here, on the way to an error.
    func pluginKeyPlaced(_ error: ConfigurationError, path: String) -> ConfigurationError {
        guard let key = error.unknownKey, let registry = try? CompSegTool.registry() else { return error }
        let given = (try? JSONDecoder().decode(JSONValue.self, from: ConfigurationFile.read(fileURL(path)).json))?.objectValue ?? [:]
        func named(_ key: String) -> String? { if case .string(let name)? = given[key] { name } else { nil } }
        let head = head ?? named("head") ?? Self.defaultHead, topology = topology ?? named("topology") ?? Self.defaultTopology
        func keys(_ plugin: Any?) -> [String] { ((plugin as? any ReportsConfiguration)?.configurationValue?.objectValue).map { Array($0.keys) } ?? [] }
        if keys(try? registry.head(head)).contains(key) {
            return ConfigurationError(source: path, message: "unknown key '\(key)': a setting of the head \(head); give it in "
                                      + "headConfiguration: {\(key): …}")
        }
        if keys(try? registry.topology(topology, inputChannels: 1, seed: 0)).contains(key) {
            return ConfigurationError(source: path, message: "unknown key '\(key)': a setting of the topology \(topology); give it in "
                                      + "topologyConfiguration: {\(key): …}")
        }
        return error
    }

    /// Fills options the command line left out from the `--config` file; returns the file's settings.
    mutating func applyConfigurationFile() throws -> File? {
        guard let config else { return nil }
        let f: File
        do { f = try File.read(config) } catch let e as ConfigurationError { throw pluginKeyPlaced(e, path: config) }
        func fail(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(source: config, message: "key '\(key)' \(message)") }
        if let p = f.patience, p <= 0 { throw fail("patience", "must be positive, got \(p)") }
        for (key, value) in [("weightDecay", f.weightDecay), ("minDelta", f.minDelta)] {
            if let value, !(value >= 0 && value.isFinite) { throw fail(key, "must be 0 or more, got \(value)") }
        }
        for (key, value) in [("modalityConfiguration", f.modalityConfiguration), ("topologyConfiguration", f.topologyConfiguration),
                             ("headConfiguration", f.headConfiguration)] {
            if let value, value != .null, value.objectValue == nil { throw fail(key, "must be a mapping of the plugin's keys, got \(value.text)") }
        }
        // Paths in the file are relative to its folder, as a manifest's are to the manifest's.
        let folder = (config as NSString).deletingLastPathComponent
        func besideFile(_ given: String) -> String {
            let path = expandingHome(given)
            // "../data/m.csv" beside cfg/run.yaml is cfg/../data/m.csv, recorded as data/m.csv (no "..").
            return path.hasPrefix("/") || folder.isEmpty ? path
                : fileURL((folder as NSString).appendingPathComponent(path)).path
        }
        modality = modality ?? f.modality.map { ModalityManifest.namesFile($0) ? besideFile($0) : $0 }
        data = data ?? f.data.map(besideFile); out = out ?? f.out.map(besideFile); initFrom = initFrom ?? f.initFrom.map(besideFile)
        topology = topology ?? f.topology; head = head ?? f.head
        width = width ?? f.width; depth = depth ?? f.depth; training.patience = training.patience ?? f.patience
        training.optimizer = training.optimizer ?? f.optimizer; training.epochs = training.epochs ?? f.epochs
        training.batch = training.batch ?? f.batch; training.lr = training.lr ?? f.lr; training.seed = training.seed ?? f.seed
        training.warmup = training.warmup ?? f.warmup; training.augment = training.augment ?? f.augment
        training.paperRecipe = training.paperRecipe || f.paperRecipe == true
        skipUnreadable = skipUnreadable || f.skipUnreadable == true
        let section = f.topologyConfiguration?.objectValue ?? [:]
        for (key, value) in [("width", f.width), ("depth", f.depth)] where value != nil && section[key] != nil {
            throw fail(key, "is given twice, as '\(key)' and in topologyConfiguration: give it once")
        }
        compute.device = compute.device ?? f.device; compute.precision = compute.precision ?? f.precision
        threading.threads = threading.threads ?? f.threads; cache.cacheMb = cache.cacheMb ?? f.cacheMb
        do {  // the same checks as on the command line, named after the file's keys
            try training.validate(); try threading.validate(); try cache.validate(); try compute.validate()
        } catch let e as ValidationError {
            let key = e.message.hasPrefix("--cache-mb") ? "cacheMb" : String(e.message.dropFirst(2).prefix { $0 != " " })
            throw ConfigurationError(source: config, message: "key '\(key)'" + e.message.drop { $0 != " " })
        }
        return f
    }

    func validate() throws {
        if resume != nil {
            // Every option is compared with the run's when its model.json is read: one equal to the
            // run's is taken, so that a command that began a run can continue it with --resume added.
        } else if config == nil {
            guard modality != nil || initFrom != nil, data != nil, out != nil else {
                let missing = [("--modality", initFrom == nil ? modality : ""), ("--data", data), ("--out", out)].filter { $0.1 == nil }.map(\.0)
                throw ValidationError("--modality, --data and --out are required (or --config FILE, or --resume RUN; --init-from RUN "
                                      + "stands for --modality); missing: " + missing.joined(separator: ", "))
            }
        }
        if out == "" || resume == "" || initFrom == "" { throw ValidationError("--out, --resume and --init-from must name a folder, got an empty path") }
        _ = try headOptions(headOption)
    }

    func run() throws {
        var command = self
        let file = try command.applyConfigurationFile()
        // --resume with --out naming the same folder: continue the run there, or start it where there is none
        // yet (so that a pipeline reruns one command after a kill, or after the run ended).
        if let resume = command.resume, let out = command.out,
           fileURL(resume).standardizedFileURL.path == fileURL(out).standardizedFileURL.path,
           ![RunDirectory(fileURL(out)).modelFile, RunDirectory(fileURL(out)).checkpointFile].contains(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            print("No run in \(fileURL(out).path) yet: starting it (--resume with --out naming the same folder)")
            command.resume = nil
        }
        if command.resume == nil {
            let missing = [("modality", command.initFrom == nil ? command.modality : ""), ("data", command.data), ("out", command.out)]
                .filter { $0.1 == nil }.map(\.0)
            guard missing.isEmpty else {
                throw CLIError("modality, data and out are required, by option or in \(config ?? "--config"); missing: "
                               + missing.joined(separator: ", "))
            }
        }
        // A resume leaves out no other rows than the run did when it began.
        try hintingSkipUnreadable(skipping: command.skipUnreadable || command.resume != nil, inputs: { manifestInputs(command.data) }) {
            try command.train(file)
        }
    }

    private func train(_ file: File?) throws {
        threading.apply()
        let device: DeviceChoice
        do { device = try compute.apply() } catch let e as DeviceUnavailable {
            // The message speaks of --device and --precision: say where the file gave them.
            let given = [file?.device.map { "device: \($0.rawValue)" }, file?.precision.map { "precision: \($0.rawValue)" }]
            guard let config, case let keys = given.compactMap({ $0 }), !keys.isEmpty else { throw e }
            throw DeviceUnavailable(e.description + " (\(config) gives \(keys.joined(separator: ", ")))", gpuFound: e.gpuFound)
        }
        let registry = try CompSegTool.registry()
        let cacheBudget = cache.bytes
        PreparationInterrupt.install((resume == nil ? "no epoch was begun" : "no epoch was added; the run is as it was") + "; the same command goes on from here",
                                     made: resume == nil ? missingFolders(fileURL(out!)) : [])
        let begun = try resume.map { try resumed($0, file, cacheBudget: cacheBudget, registry: registry) }
        if let begun, begun == nil { return }  // a finished run: nothing to do
        let (run, manifest) = try begun.map { $0! } ?? created(file, cacheBudget: cacheBudget, registry: registry, device: device)
        let stop = InterruptFlag.install()
        let progress = ProgressReporter(epochs: run.model.training.epochs, images: run.train.count)
        let started = DispatchTime.now().uptimeNanoseconds
        let finished: Bool
        do {
            finished = try run.run(progress: progress.finish, step: { k, n in progress.step(epoch: run.completedEpochs + 1, k, of: n) },
                                   shouldStop: { stop.isSet })
        } catch let error as IOError {  // a full disk, say: every epoch that completed is kept
            let saved = run.committedEpochs == 0 ? "no epoch is saved" : "epoch \(run.committedEpochs) is saved"
            throw CLIError("\(error)\n\(saved); once the cause is mended, continue with: \(resumeCommand(run))")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        print((run.completedEpochs == 0 ? String(format: "No epoch completed in %.1f s", seconds)
                : String(format: "Trained to epoch %d in %.1f s", run.completedEpochs, seconds)) + " on \(device.summary)")
        if !finished {
            let saved = run.completedEpochs == 0 ? "No epoch completed, so it starts from the first"
                + (run.model.initialWeights.map { ", from the weights of \($0.run) again: leave them there, unchanged" } ?? "")
                : "The last completed epoch is saved"
            sayAfterOutput("Interrupted. \(saved); continue with: \(resumeCommand(run))")
            throw ExitCode(stop.exitStatus)
        }
        if let stopped = stoppedByPatience(run) { print(stopped + " (train --resume with a larger --patience trains further)") }
        let best = run.trainer.best.map { "epoch \($0.epoch) (monitored loss \($0.loss))" } ?? "none"
        // A kept epoch that collapsed is said here too, not only in its epoch's line.
        if let kept = run.trainer.best?.epoch, let note = run.trainer.history.first(where: { $0.epoch == kept })?.collapse {
            let why = note.hasPrefix("collapsed: ") ? note.dropFirst("collapsed: ".count) : Substring(note)
            warn("the kept epoch \(kept) collapsed (\(why.prefix { $0 != ";" })): its maps do not depend on the image; "
                 + "history.csv says why and what to change")
        }
        print("Done. Best \(best); weights in \(run.folder.weightsFile.path); training curves in \(run.folder.curvesFile.path)")
        /// `body`, a failure of which is a warning after `what`; Ctrl-C still stops.
        func warningOnFailure(_ what: String, _ body: () throws -> Void) throws {
            do { try body() } catch let e as Interrupted { throw e } catch { warn("\(what): \(error)") }
        }
        do {
            try warningOnFailure("no threshold could be chosen on the validation split") {
                try chooseThreshold(run, manifest: manifest, registry: registry)
            }
            try warningOnFailure("the trained maps could not be checked") { try warnAboutDarkMaps(run) }
        } catch let e as Interrupted {
            sayAfterOutput("Interrupted while the threshold was chosen: every epoch is saved; record the threshold with: "
                  + "\(CompSegTool.commandName) train --resume \(shellWord(run.folder.url.path))")
            throw ExitCode(128 + e.signal)
        }
    }

    /// The mask threshold of the kept weights, chosen on the validation split and recorded in
    /// model.json (segment, overlay and evaluate apply it unless given another), and said.
    /// The command that continues `run`: with the thread count it ran with where one was given,
    /// so that its epochs come out as an uninterrupted run's (another count differs slightly).
    private func resumeCommand(_ run: TrainingRun) -> String {
        "\(CompSegTool.commandName) train --resume \(shellWord(run.folder.url.path))" + (threading.threads.map { " --threads \($0)" } ?? "")
            + (cache.cacheMb.map { " --cache-mb \($0)" } ?? "")  // a budget chosen for this machine's memory, which a run does not record
    }

    private func chooseThreshold(_ run: TrainingRun, manifest: Manifest, registry: Registry) throws {
        guard run.validation.count > 0 else { return }
        let rows = manifest.rows(in: .val)
        // The validation maps are checked for the checkerboard of transposed convolutions too, which
        // the loss and the AUC do not show.
        guard let choice = try run.chooseThreshold(registry: registry, truth: {
            let truth = try SegmentationFiles.readTruth(rows, $0, manifest: manifest.url.path)
            if Self.labelsLookReversed($0.compactMap { s in truth[s.id].map { (s.label, $0.contains(true)) } }) {
                warn(Self.reversedLabels("every validation truth"))
            }
            return truth
        }, maps: { warnAboutCheckerboard($0, $1, topology: run.model.topology) }) else {
            print("Threshold: the validation split has neither truth nor both classes to choose one on; segment, overlay and "
                  + "evaluate apply the paper's \(thresholdText(SegmentationFiles.defaultThreshold)) unless given --threshold")
            return
        }
        guard !choice.uninformative else {
            warn("no threshold told the validation maps apart (none scored above nothing), so none is recorded; segment, "
                 + "overlay and evaluate apply the paper's \(thresholdText(SegmentationFiles.defaultThreshold)) unless given --threshold")
            return
        }
        print("Threshold \(thresholdText(choice.threshold)) for segment, overlay and evaluate (recorded in model.json; --threshold "
              + "overrides it): \(run.model.threshold?.origin ?? "")")
        choice.caveat.map(warn)
    }

    /// A warning when the best weights light no tissue of the validation split's cancer samples (the
    /// training split's without one) above segment's threshold (0.35 where the run recorded none): their masks would be
    /// empty, though the loss and the AUC of the pooled scores may look fine.
    private func warnAboutDarkMaps(_ run: TrainingRun) throws {
        // A threshold recorded scored above nothing on the validation split's maps, so some of its cancer
        // tissue lies above it: no second pass over them is needed.
        guard run.model.threshold == nil else { return }
        // The validation split's cancer samples, or the training split's where it has none.
        let validated = try run.trainer.brightestCancerTissue(run.validation)
        let threshold = SegmentationFiles.defaultThreshold
        guard let highest = try validated ?? run.trainer.brightestCancerTissue(run.train), highest <= threshold else { return }
        let split = validated == nil ? "training" : "validation"
        warn(String(format: "the best weights light up no tumor at segment's threshold: the highest activation on "
                    + "the tissue of the \(split) split's cancer samples is %.3f (threshold \(thresholdText(threshold))), so their "
                    + "masks would be empty. Give segment a lower --threshold, or train again: more epochs, another --seed, or a "
                    + "head that asks for more tumor (the CompSegNet head's alpha)", highest))
    }

    /// A new run from the options, the settings file and the manifest: the chain fitted, the
    /// topology and head checked against the settings file before anything is written.
    private func created(_ file: File?, cacheBudget: Int, registry: Registry, device: DeviceChoice) throws -> (TrainingRun, Manifest) {
        let folder = RunDirectory(fileURL(out!))
        // A run another compseg trains now is named as such, rather than how to resume it (which would be refused).
        if FileManager.default.fileExists(atPath: folder.checkpointFile.path) { _ = try FolderLock(folder.url, holder: TrainingRun.lockHolder) }
        try TrainingRun.requireRoom(in: folder)
        let made = missingFolders(folder.url)
        do { try createWritableFolder(folder.url, remedy: "choose another --out, or mend its permissions") } catch {
            removeEmptyFolders(made)
            throw error
        }
        let lock = try FolderLock(folder.url, holder: TrainingRun.lockHolder)  // made and checked just above
        do { return try created(in: folder, lock: lock, file, cacheBudget: cacheBudget, registry: registry, device: device) } catch {
            // The folders made for a run that never began (the data refused, say) go again.
            lock.release()
            removeEmptyFolders(made)
            throw error
        }
    }

    private func created(in folder: RunDirectory, lock: FolderLock, _ file: File?, cacheBudget: Int, registry: Registry,
                         device: DeviceChoice) throws -> (TrainingRun, Manifest) {
        var skipping = skipUnreadable ? LeavingOutRows() : nil
        let start = try initFrom.map { try startingRun($0, file, registry: registry) }
        let given = try skipping?.manifest(data!) ?? Manifest(contentsOf: fileURL(data!))
        try skipping?.requireTrainingRows(given) ?? TrainingRun.requireTrainingRows(given)
        var modalityManifest: ModalityManifest
        if let trained = start?.model.modality { modalityManifest = trained } else {
            modalityManifest = try resolveModalityNoting(modality!, registry: registry)
            if let options = file?.modalityConfiguration {
                modalityManifest.options = try mergedOptions(modalityManifest.options, options)
                modalityManifest.source += " with \(config ?? "--config")'s modalityConfiguration"
            }
        }
        let source = config ?? "the command line"
        let topologyPlugin = try start?.model.topology
            ?? PluginDescription(identifier: topology ?? Self.defaultTopology, configuration: try topologyConfiguration(file))
        var headPlugin = PluginDescription(identifier: head ?? Self.defaultHead, configuration: try headConfiguration(file))
        // The run's head, its settings with those given on top, unless another is named.
        if let trained = start?.model.head, head.map(registry.heads.identifier) ?? trained.identifier == trained.identifier {
            headPlugin = PluginDescription(identifier: trained.identifier, configuration: try headConfiguration(file).merged(over: trained.configuration))
        }
        let topologySource = "\(source): topology '\(topologyPlugin.identifier)'"
        // Both checked now, so that mistakes in their settings are named (both at once) before the
        // data are read and prepared (minutes at the paper's scale); the network is built for the
        // data's channels by TrainingRun.
        let headSource = "\(headOption.isEmpty ? source : config.map { "\($0) with --head-option" } ?? "--head-option"): "
            + "head '\(headPlugin.identifier)'"
        let problems = modalityManifest.unknownPlugins(in: registry) + [
            Result { _ = try registry.head(headPlugin.identifier, headPlugin.pluginConfiguration(source: headSource)) },
            Result { try registry.checkTopology(topologyPlugin.identifier, topologyPlugin.pluginConfiguration(source: topologySource)) },
        ].enumerated().compactMap { i, result -> String? in
            guard case .failure(let e) = result else { return nil }
            // An unknown name, given by the option (or the settings file's key).
            if e is RegistryError { return "\(i == 0 ? (config == nil ? "--head" : "head") : (config == nil ? "--topology" : "topology")): \(e)" }
            return located(e, at: i == 0 ? headSource : topologySource)
        }
        guard problems.isEmpty else { throw CLIError(listed(problems: problems)) }
        let started = DispatchTime.now().uptimeNanoseconds
        func prepared(_ manifest: Manifest) throws -> (modality: PreparedModality, train: SampleStore, validation: SampleStore) {
            // A fine-tuned run reads its data as the run it starts from did: that run's fitted chain, not one fitted anew.
            let unfitted = try PreparedModality(modalityManifest, registry: registry)
            let modality = start != nil ? unfitted
                : try unfitted.fitted(on: manifest.rows(in: .train), manifest: manifest, cacheBudget: cacheBudget, alsoChecking: manifest.rows(in: .val))
            let (train, validation) = try TrainingRun.stores(manifest, modality, cacheBudget: cacheBudget)
            return (modality, train, validation)
        }
        let ((modality, train, validation), manifest): ((modality: PreparedModality, train: SampleStore, validation: SampleStore), Manifest)
        do {
            ((modality, train, validation), manifest) = try skipping?.preparing(
                given, splits: [.train, .val], reading: { try PreparedModality(modalityManifest, registry: registry) }, fitted: start != nil, prepared)
                ?? (prepared(given), given)
        } catch let error where start != nil && (error is ManifestError || error is SampleError) {
            // Where the fitted chain refuses rows the reader reads (the chain's remedies may name another modality or
            // step, which a fine-tuned run cannot take); a missing file or an empty tissue is said as it is.
            let reading = try PreparedModality(modalityManifest, registry: registry), rows = given.rows(in: .train) + given.rows(in: .val)
            let refusedByChain = Set(reading.readProblems(rows, preparing: true).map(\.line)).subtracting(reading.readProblems(rows).map(\.line))
            guard !refusedByChain.isEmpty else { throw error }
            throw CLIError("\(error)\nWith --init-from the files are read as \(start!.record.run) read its own: its modality "
                           + "'\(modalityManifest.name)' and its fitted preprocessing, which stay as they are; files of another kind "
                           + "(modality, band count, axis) need a run trained on their kind")
        }
        try skipping?.warnings.report()
        skipping?.warnIfValidationGone(given: given, kept: manifest)
        Self.reportPreparation(modality.clock, train: train, validation: validation, since: started)
        modality.chain.fitWarnings.forEach(warn)
        var model = RunConfiguration(
            modality: modality.manifest, topology: topologyPlugin, head: headPlugin, inputChannels: train.channels!, training: settings(file),
            versions: runVersions(manifest: manifest, run: fileURL(out!), device: device))
        Self.warnAboutSettings(model.training, trainingSamples: train.count, warmupGiven: training.warmup != nil)
        Self.warnAboutSplitsAndMasks(manifest, train: train, validation: validation.count)
        let rows = ManifestRows(manifest, readingContentsWith: modality.reader).recordingPixels(train: train, validation: validation)
        Self.warnAboutRepeatedPixels(rows)
        model.rows = LeavingOutRows.recording(skipping?.recorded, in: rows)
        if let start { try requireInputs(of: start, train: train, manifest: manifest, into: &model) }
        let run = try TrainingRun(creating: folder, model: model, train: train, validation: validation, registry: registry, lock: lock,
                                  initial: start?.weights)
        if let start {
            print("Starting from the weights of \(start.record.run)" + (start.record.epoch.map { " (epoch \($0))" } ?? "")
                  + ", with its \(start.model.topology.identifier), its modality's fitted preprocessing and the head \(run.model.head.identifier)")
        }
        return (run, manifest)
    }

    /// Where --init-from, given to a resume, names the run's initial weights elsewhere (moved, or
    /// reached through a link): that path, where the weights there are those it began from (their
    /// checksum); nil where it names the recorded folder or is not given. Else the difference is added to `differing`.
    private func initialWeightsMoved(_ model: RunConfiguration, differing: inout [String]) throws -> String? {
        guard let initFrom else { return nil }
        let given = fileURL(initFrom)
        guard let recorded = model.initialWeights else {
            differing.append("init-from \(initFrom) (the run began from the topology's initializer)")
            return nil
        }
        if given.path == recorded.run || given.resolvingSymlinksInPath().path == URL(fileURLWithPath: recorded.run).resolvingSymlinksInPath().path {
            return nil
        }
        let there = try? RunDirectory(given).readWeightsFile()
        guard let checksum = recorded.checksum, there?.dataChecksum == checksum else {
            let why = there == nil ? "" : recorded.checksum == nil ? ", whose weights recorded no checksum to know them by" : ", whose weights were others"
            differing.append("init-from \(initFrom) (the run's: \(recorded.run)\(why))")
            return nil
        }
        return given.path
    }

    /// The run `path` as the start of a fine-tuned one (--init-from): its model, kept weights and
    /// their record, once the options and the settings file are found to set nothing otherwise
    /// than it has (the head and the training settings aside, which are this run's own).
    private func startingRun(_ path: String, _ file: File?, registry: Registry) throws
        -> InitialWeights.Start {
        let folder = RunDirectory(fileURL(path))  // not --out's, which holds no run (TrainingRun.requireRoom)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw CLIError("--init-from \(path): no such folder; it names a run folder that `compseg train` wrote (model.json, weights.safetensors)")
        }
        guard FileManager.default.fileExists(atPath: folder.modelFile.path) else {
            throw CLIError("--init-from \(path): holds no model.json, so no run that `compseg train` wrote")
        }
        let start = try InitialWeights.reading(folder)
        try start.model.requirePlugins(registry, file: folder.modelFile.path)
        // Weights that will change yet: said, since a resume of this run before its first epoch needs them as they are now.
        let kept = "its weights are those of its best epoch so far" + (start.record.epoch.map { " (\($0))" } ?? "")
            + ", and a resume of this run before its first epoch needs them unchanged"
        if FolderLock.isHeld(folder.url) {
            warn("--init-from \(folder.url.path) is training now, in another compseg: \(kept)")
        } else if let done = folder.unfinishedEpochs(start.model) {
            warn("--init-from \(folder.url.path) has trained \(done) of its \(start.model.training.epochs) epochs (stopped early): \(kept)")
        }
        if start.model.rows == nil {
            warn("--init-from \(folder.url.path) records no rows it trained on (removed from a copy, or a run of an older compseg): "
                 + "evaluate cannot tell its samples among those it scores")
        }
        guard start.model.modality != nil else {
            throw TrainingError("\(folder.modelFile.path) names no modality (a network trained on samples made in memory): "
                                + "--init-from needs the modality the run read its data with")
        }
        let differing = try differences(file ?? File(), from: start.model, resuming: nil, registry: registry)
        guard differing.isEmpty else {
            throw CLIError("--init-from keeps the modality and topology of \(folder.url.path), so it cannot honour "
                           + (config.map { "\($0)'s (or the command line's) " } ?? "") + differing.joined(separator: ", ")
                           + "; leave them out (the head and the training settings may be chosen anew), or train from scratch", usage: true)
        }
        return start
    }

    /// Checks that the training samples, read as the run `start` names read its own, are what its
    /// network takes (channels and axis), and records that run and its axis in `model`.
    private func requireInputs(of start: InitialWeights.Start, train: SampleStore,
                               manifest: Manifest, into model: inout RunConfiguration) throws {
        let from = "--init-from \(start.record.run)"
        guard model.inputChannels == start.model.inputChannels else {
            throw TrainingError("\(manifest.url.path): its training samples have \(model.inputChannels) channels as the modality of \(from) "
                                + "prepares them; its network takes \(start.model.inputChannels)")
        }
        if let axis = start.model.inputAxis, train.count > 0 {
            _ = try train.sample(0).aligned(to: axis, by: "the network of \(from) was trained on",
                                            remedy: "fine-tuning needs samples on the axis its network takes (a 'resample' step in its modality brings files onto one)")
        }
        model.inputAxis = start.model.inputAxis
        model.initialWeights = start.record
    }

    /// The run in `path`, reopened as its model.json describes it, with --epochs and --patience on
    /// top; nil, said, when it has trained every epoch asked for and recorded its threshold.
    private func resumed(_ path: String, _ file: File?, cacheBudget: Int, registry: Registry) throws -> (TrainingRun, Manifest)? {
        let folder = RunDirectory(fileURL(path))
        // A train stopped while it prepared the data leaves its folder without a run (one preparing now holds its lock).
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isFolder), isFolder.boolValue,
           !FileManager.default.fileExists(atPath: folder.modelFile.path),
           let held = try? folderEntries(folder.url), held.allSatisfy({ TrainingRun.isNoRunsFile($0, in: folder) }) {
            _ = try TrainingRun.lockForTraining(folder)
            throw TrainingError("\(folder.url.path) holds no run: a train stopped before it wrote one (while it prepared the data) "
                                + "leaves its folder so; start it again with train --out \(shellWord(folder.url.path)) and the options "
                                + "it began with")
        }
        var model = try folder.readModel()
        try model.training.validate { "\(folder.modelFile.path): key 'training.\($0)'" }  // before the data is prepared
        try model.requirePlugins(registry, file: folder.modelFile.path)
        // The options (and a settings file) that began the run may be given again: what they set must be the run's.
        var differing = try differences(file ?? File(), from: model, resuming: folder, registry: registry)
        differing += trainingDifferences(file, from: model.training)
        let movedStart = try initialWeightsMoved(model, differing: &differing)
        guard differing.isEmpty else {
            throw CLIError("--resume continues the run as its model.json describes it, so it cannot honour "
                           + (config.map { "\($0)'s (or the command line's) " } ?? "") + differing.joined(separator: ", ")
                           + "; start a new run with another --out to change them (--resume honours --epochs, --patience, --data, "
                           + "--threads, --cache-mb, --device and --precision, and every other setting where it is the run's)", usage: true)
        }
        var changes: [String] = []
        if let movedStart, let before = model.initialWeights?.run {
            changes.append("initial weights \(before) → \(movedStart)"); model.initialWeights?.run = movedStart
        }
        if let epochs = training.epochs, epochs != model.training.epochs {
            changes.append("epochs \(model.training.epochs) → \(epochs)"); model.training.epochs = epochs
        }
        if let patience = training.patience, patience != model.training.patience {
            changes.append("patience \(model.training.patience.map(String.init) ?? "none") → \(patience)"); model.training.patience = patience
        }
        // Before the data are read: the last epoch can be read, and more are asked for.
        let checkpoint = try TrainingRun.lastCheckpoint(of: folder)
        if let checkpoint { try TrainingRun.requireSettings(model, of: checkpoint, in: folder) }
        let done = checkpoint?.history.count ?? 0
        if done > model.training.epochs {
            let asked = file?.epochs != nil && file?.epochs == training.epochs ? "\(config ?? "--config")'s epochs" : "--epochs"
            throw CLIError("\(folder.url.path) already completed \(done) epochs, more than the \(model.training.epochs) asked for "
                           + "(\(asked) is the total to reach)", usage: true)
        }
        if done == model.training.epochs, let threshold = model.threshold, changes.isEmpty, let checkpoint {
            // Files a kill or a hand removed are written again where the folder may be written; a finished run on
            // read-only storage (shared between labs) is left as it is.
            var restored: [String] = []
            if access(folder.url.path, W_OK | X_OK) == 0 {
                let lock = try TrainingRun.lockForTraining(folder, resuming: true)
                defer { lock.release() }
                restored = try TrainingRun.restoreMissingFiles(of: folder, from: checkpoint)
            } else if case let gone = [folder.weightsFile, folder.historyFile].filter({ !FileManager.default.fileExists(atPath: $0.path) }),
                      !gone.isEmpty {
                warn("\(gone.map(\.lastPathComponent).joined(separator: " and ")) missing from \(folder.url.path), which cannot be written "
                     + "here: copy the run to a folder you may write and resume the copy to write them again")
            }
            if !restored.isEmpty { print("Wrote \(restored.joined(separator: ", ")) again from \(folder.checkpointFile.lastPathComponent)") }
            print("\(folder.url.path) already completed its \(done) epochs and recorded its threshold "
                  + "\(thresholdText(threshold.value)): nothing \(restored.isEmpty ? "" : "else ")to do "
                  + (training.epochs == nil ? "(--epochs N trains it further)"
                     : "(--epochs is the total, not how many more: --epochs \(done + 5) trains 5 more)"))
            return nil
        }
        let lock = try TrainingRun.lockForTraining(folder, resuming: true)
        // Threads change the epochs still to train; a finished run trains none, and its record stays as it was.
        if done < model.training.epochs, let change = recordThreadChange(&model) { changes.append(change) }
        guard var manifestPath = data ?? model.versions["manifest"] else {
            throw TrainingError("\(folder.modelFile.path) names no manifest; pass --data")
        }
        // A project copied or moved whole: the manifest where it lies from the run's folder now, not the one it was trained beside.
        if data == nil, let relative = model.versions["manifestFromRun"] {
            let beside = folder.url.resolvingSymlinksInPath().appendingPathComponent(relative).standardizedFileURL
            // The same file by another path (a link) is no move.
            if let found = fileIdentity(beside.path), found != fileIdentity(fileURL(manifestPath).path) {
                print("Resuming on \(beside.path), the manifest where it lay from the run's folder when it began (model.json's "
                      + "\(manifestPath) is where both lay then: the project was copied or moved); --data takes another")
                manifestPath = beside.path
            }
        }
        let manifestURL = fileURL(manifestPath)
        if data == nil, !FileManager.default.fileExists(atPath: manifestURL.path) {
            throw TrainingError("\(manifestURL.path): the run's manifest is not there any more; if it moved, pass --data "
                                + "with its new path")
        }
        let manifest = try LeavingOutRows.resumed(manifestURL, leftOut: model.rows?.leftOut, skipUnreadable: skipUnreadable).manifest
        let modality = try model.preparedModality(registry: registry, file: folder.modelFile.path)
        if let trained = model.rows, case let given = ManifestRows(manifest, readingContentsWith: modality.reader) {
            var otherPixels = "", resaved = false
            if !given.sameRows(as: trained) || trained.order.map({ $0 != given.order }) ?? false || !given.sameContents(as: trained) {
                let found = trained.resaved(given, in: manifest, modality: modality)
                if case .samePixels(let rows, _)? = found {
                    // Saved again without loss: the run goes on, and its record knows the files as they are now.
                    (model.rows, resaved) = (rows, true)
                    changes.append(found!.description)
                } else if let found {
                    otherPixels = found.description
                }
            }
            guard resaved || given.sameRows(as: trained) else {
                throw TrainingError("\(manifest.url.path): its train and val rows (\(given)) are not the ones the run "
                                    + "was trained on (\(trained), or as many with other files, labels or splits)\(given.changesNamed(since: trained, in: manifest))\(otherPixels); "
                                    + (data == nil ? "put the run's files back as they were, or train anew for other data"
                                       : "--data with --resume is for the run's manifest where it moved: train anew for other data"))
            }
            // (Files saved again change the order's digest, which takes their sizes: their names' order is compared then.)
            if resaved ? trained.perRow?.map(\.name) != given.perRow?.map(\.name) : trained.order.map({ $0 != given.order }) ?? false {
                throw TrainingError("\(manifest.url.path): holds the run's train and val rows, but in another order; the batches "
                                    + "follow the rows' order, so the run would not go on as it began: put the rows back in "
                                    + "the order they had")
            }
            if !resaved {
                guard given.sameContents(as: trained) else {
                    throw TrainingError("\(manifest.url.path): its train and val rows name files of the run's names and sizes, but "
                                        + "one or more of them holds other data than when the run began (written over, or replaced "
                                        + "by another of the same size)\(given.changesNamed(since: trained, in: manifest))\(otherPixels); put the run's files back, or train anew for other data")
                }
            }
        } else if done > 0 {
            warn("\(folder.modelFile.path) records no train and val rows (removed from a copy, or a run of an older compseg or made in "
                 + "memory), so whether \(manifest.url.path) holds the data the run trained on cannot be checked: resumed on other data, "
                 + "the run would mix two datasets in one network")
        }
        if let before = model.versions["manifest"], fileURL(before).path != manifest.url.path {  // `a//b` as an earlier compseg wrote it is a/b
            changes.append("manifest \(before) → \(manifest.url.path)"); model.versions["manifest"] = manifest.url.path
        }
        model.versions["manifestFromRun"] = pathFrom(folder.url, to: manifest.url)
        let started = DispatchTime.now().uptimeNanoseconds
        let (train, validation) = try TrainingRun.stores(manifest, modality, cacheBudget: cacheBudget)
        if let changed = model.rows?.pixelsChanged(train: train, validation: validation, in: manifest), !changed.isEmpty {
            throw TrainingError("\(manifest.url.path): \(changed.prefix(5).joined(separator: ", "))\(changed.count > 5 ? ", …" : "") "
                                + "\(changed.count == 1 ? "holds" : "hold") other pixels than when the run began, though \(changed.count == 1 ? "its file keeps its" : "their files keep their") "
                                + "size and the pieces compared before reading (edited in place); put the run's files back, or train anew for other data")
        }
        // A run begun before pixels were recorded records them now, of the files it goes on with.
        if let rows = model.rows, rows.perRow?.contains(where: { $0.pixels == nil }) ?? false {
            model.rows = rows.recordingPixels(train: train, validation: validation)
        }
        Self.reportPreparation(modality.clock, train: train, validation: validation, since: started)
        let run = try TrainingRun(resuming: folder, model: model, train: train, validation: validation, registry: registry, lock: lock)
        // The data it goes on with, named unless the changes name them (a manifest that moved).
        let moved = changes.contains { $0.hasPrefix("manifest ") }
        var start = ""
        if run.completedEpochs == 0, let initial = model.initialWeights {
            start = ", from the weights of \(initial.run) it began with" + (initial.checksum == nil ? "" : " (their checksum agrees)")
        }
        let changed = changes.isEmpty ? "" : " (" + changes.joined(separator: ", ") + ")"
        print("Resuming \(folder.url.path) after epoch \(run.completedEpochs) of \(model.training.epochs)" + changed
              + (moved ? "" : " on \(manifest.url.path)") + start)
        return (run, manifest)
    }

    /// Says where the time before training went, and what the reader found doubtful in the samples.
    static func reportPreparation(_ clock: PreparationClock, train: SampleStore, validation: SampleStore, since start: UInt64) {
        defer { warnAboutReaders(stores: [train, validation]) }
        giveBackFreedMemory()
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let t = clock.seconds
        let fitting = t.fitting > 0 ? String(format: "fitting the preprocessing %.1f s, ", t.fitting) : ""
        print("Prepared \(train.count) training and \(validation.count) validation samples in "
              + String(format: "%.1f s (", total) + fitting
              + String(format: "reading files %.1f s and preprocessing %.1f s, summed over ", t.reading, t.steps) + counted(Threads.count, "thread") + ")")
        if train.shape == nil || (validation.count > 0 && validation.shape != train.shape) {
            print("Note: the samples differ in height and width; each batch pads its smaller ones below and to the right to its "
                  + "largest, with pixels outside the tissue (0 in every channel), which the pooling head leaves out")
        }
    }

    /// Warns of settings that train otherwise than they say: a warm-up given as long as training
    /// (the learning rate never reaches --lr; one not given is a note), a batch larger than the
    /// training split (one step an epoch).
    static func warnAboutSettings(_ s: TrainingSettings, trainingSamples: Int, warmupGiven: Bool) {
        if !warmupGiven, s.warmupEpochs > 0, s.warmupEpochs >= s.epochs {
            print("Note: the warm-up of \(s.warmupEpochs) epochs spans all \(counted(s.epochs, "epoch")) of this run: the learning "
                  + "rate rises from near 0 \(s.warmupEpochs == s.epochs ? "and reaches" : "and never reaches") --lr \(s.learningRate)"
                  + (s.warmupEpochs == s.epochs ? " only at the last step" : "") + "; --warmup 0 trains at it from the start")
        }
        if warmupGiven, s.warmupEpochs >= s.epochs {
            warn("a warm-up of \(s.warmupEpochs) epochs is as long as training (\(s.epochs)): the learning rate rises from near 0 all the "
                 + "way and " + (s.warmupEpochs == s.epochs ? "reaches" : "never reaches") + " --lr \(s.learningRate)"
                 + (s.warmupEpochs == s.epochs ? " only at the last step" : "") + "; give a --warmup shorter than --epochs, or 0")
        }
        if s.batchSize > trainingSamples {
            warn("--batch \(s.batchSize) is more than the \(counted(trainingSamples, "training sample")): each batch takes all of them, "
                 + "so an epoch is a single step")
        }
    }

    /// Warns of a training split whose rows of one class are fewer than a fifth of the other's, a
    /// run without validation rows, a mask column given on cancer rows alone (tumor annotations,
    /// it may be, where the tissue mask belongs) and patients whose rows lie in several splits.
    static func warnAboutSplitsAndMasks(_ manifest: Manifest, train: SampleStore, validation: Int) {
        let cancer = train.labels.filter { $0 == .cancer }.count, free = train.labels.filter { $0 == .cancerFree }.count
        if min(cancer, free) > 0, Double(min(cancer, free)) < 0.2 * Double(max(cancer, free)) {
            let (few, many) = cancer < free ? ("cancer", "cancer-free") : ("cancer-free", "cancer")
            warn("the train split holds \(min(cancer, free)) \(few) and \(max(cancer, free)) \(many) rows: what sets the classes apart is "
                 + "learned from " + (min(cancer, free) == 1 ? "that one" : "those \(min(cancer, free))") + " alone, and the network "
                 + "may light up whatever \(min(cancer, free) == 1 ? "it holds" : "they happen to share"); more \(few) rows make a better segmenter")
        }
        if validation == 0 {
            warn("no val rows: the kept weights are those of the lowest training loss, no threshold is chosen (segment, overlay and "
                 + "evaluate apply \(thresholdText(SegmentationFiles.defaultThreshold)) unless given --threshold), and nothing "
                 + "measures the network on samples it did not learn from; give some rows of each class split val")
        }
        let rows = manifest.rows.filter { $0.split != .test }
        let masked = rows.filter { $0.mask != nil }
        if masked.count >= 2, masked.allSatisfy({ $0.label == .cancer }), rows.contains(where: { $0.label == .cancerFree }) {
            warn("only cancer rows give a mask (\(masked.prefix(3).map { $0.mask!.lastPathComponent }.joined(separator: ", "))"
                 + (masked.count > 3 ? ", …" : "") + "): the mask column is each sample's tissue, which the pooling averages over; "
                 + "if these mark tumor, they belong in the truth column")
        }
        warnAboutPatientsInSeveralSplits(manifest)
        warnAboutPatientIDs(manifest)
    }

    /// Warns of patient ids that differ only in case, and of rows that name no patient beside rows
    /// that do (each such row counts as a patient of its own).
    static func warnAboutPatientIDs(_ manifest: Manifest) {
        for group in manifest.patientsDifferingInCase.prefix(3) {
            warn("patients " + group.map { "'\($0)'" }.joined(separator: ", ") + " differ only in case: one patient written two ways? "
                 + "compseg takes them as different patients; write them alike")
        }
        let blank = manifest.rowsWithoutPatient
        if !blank.isEmpty {
            warn("\(counted(blank.count, "row")) of \(manifest.rows.count) name\(blank.count == 1 ? "s" : "") no patient (" + lines(blank.map(\.line)) + "): each is "
                 + "counted as a patient of its own, and no patient AUC is given; fill in the patient column")
        }
    }

    /// "line 4" or "lines 4, 5, 9, 12, …" (the first four).
    static func lines(_ l: [Int]) -> String {
        (l.count == 1 ? "line " : "lines ") + l.prefix(4).map(String.init).joined(separator: ", ") + (l.count > 4 ? ", …" : "")
    }

    /// Warns of patients whose rows lie in more than one split (`Manifest.patientsInSeveralSplits`),
    /// the first three named with their rows' lines, and what that costs.
    static func warnAboutPatientsInSeveralSplits(_ manifest: Manifest) {
        let shared = manifest.patientsInSeveralSplits
        guard !shared.isEmpty else { return }
        let named = shared.prefix(3).map { p in
            "'\(p.patient)' (" + p.splits.map { "\($0.split.rawValue) \(lines($0.lines))" }.joined(separator: "; ") + ")"
        }.joined(separator: ", ") + (shared.count > 3 ? " and \(shared.count - 3) more" : "")
        let pairs = shared.map { Set($0.splits.map(\.split)) }
        let costs = [pairs.contains { $0.contains(.test) && $0.count > 1 } ? "the test scores of patients the network learned from, or chose "
                        + "its kept epoch on, are optimistic" : nil,
                     pairs.contains { $0.contains(.train) && $0.contains(.val) } ? "validation chooses the kept epoch and threshold on "
                        + "patients the network learned from" : nil].compactMap { $0 }
        warn("\(counted(shared.count, "patient")) \(shared.count == 1 ? "has" : "have") rows in more than one split: \(named). A "
             + "patient's samples share tissue, staining and preparation, so " + costs.joined(separator: ", and ")
             + "; keep each patient's rows in one split")
    }

    /// Whether every truth (each sample's label, and whether its truth marks tumor) contradicts
    /// its label, both classes among them: each cancer one marks no tumor, each cancer-free one some.
    static func labelsLookReversed(_ truths: [(label: SampleLabel?, marksTumor: Bool)]) -> Bool {
        truths.contains { $0.label == .cancer } && truths.contains { $0.label == .cancerFree }
            && truths.allSatisfy { ($0.label == .cancer) != $0.marksTumor }
    }

    /// The warning for `labelsLookReversed`, of `which` truths ("every validation truth").
    static func reversedLabels(_ which: String) -> String {
        "\(which) contradicts its label: those of the cancer samples mark no tumor, those of the cancer-free ones mark some; "
            + "labels the other way round? In a manifest 1 means cancer and 0 cancer-free"
    }

    /// Warns of train and val rows that hold the same pixels (`PixelDigest`) in different files:
    /// copies, one sample counted twice, or under both labels, one the network cannot learn.
    static func warnAboutRepeatedPixels(_ rows: ManifestRows) {
        let recorded = (rows.perRow ?? []).filter { $0.pixels != nil }
        let groups = Dictionary(grouping: recorded, by: { $0.pixels! }).values.filter { $0.count > 1 }
            .sorted { $0[0].name < $1[0].name }
        guard !groups.isEmpty else { return }
        let described = groups.prefix(5).map { group in
            group.map(\.name).joined(separator: " = ") + (Set(group.map(\.label)).count > 1 ? " (labelled " + group.map(\.label).joined(separator: ", ") + ")" : "")
                + (Set(group.map(\.split)).count > 1 ? " (in " + group.map(\.split).joined(separator: ", ") + ")" : "")
        }.joined(separator: "; ") + (groups.count > 5 ? "; …" : "")
        let conflicting = groups.contains { Set($0.map(\.label)).count > 1 }
        warn("\(counted(groups.count, "set")) of train and val files \(groups.count == 1 ? "holds" : "hold") the same pixels: \(described); "
             + (conflicting ? "one image under both labels tells the network nothing it can learn, and " : "")
             + "a copy counts its sample twice" + (groups.contains { Set($0.map(\.split)).count > 1 } ? " and leaks it from training into validation" : "")
             + ": list each sample once")
    }

    func settings(_ file: File?) -> TrainingSettings {
        var s = training.settings()
        if let w = file?.weightDecay { s.weightDecay = w }
        if let d = file?.minDelta { s.minDelta = d }
        if let b = file?.balancedBatches { s.balancedBatches = b }
        return s
    }

    /// The training settings that the options, the settings file and --paper-recipe set otherwise
    /// than the run has them, each as "NAME VALUE (the run's: VALUE)"; epochs and patience aside.
    func trainingDifferences(_ file: File?, from run: TrainingSettings) -> [String] {
        let wanted = settings(file)
        /// The option by name, or the settings file's key where the value came from the file.
        func named(_ option: String, given: Bool, fromFile: Bool, byRecipe: Bool = false) -> String? {
            let key = option.hasPrefix("--") ? String(option.dropFirst(2)) : option
            if given, fromFile, config != nil { return key }
            return given ? option : byRecipe && training.paperRecipe ? "--paper-recipe's \(key)" : nil
        }
        let settings: [(String?, String, String)] = [
            (named("--batch", given: training.batch != nil, fromFile: file?.batch != nil && file?.batch == training.batch, byRecipe: true),
             "\(wanted.batchSize)", "\(run.batchSize)"),
            (named("--lr", given: training.lr != nil, fromFile: file?.lr != nil && file?.lr == training.lr, byRecipe: true),
             "\(wanted.learningRate)", "\(run.learningRate)"),
            (named("--optimizer", given: training.optimizer != nil, fromFile: file?.optimizer != nil && file?.optimizer == training.optimizer,
                   byRecipe: true), wanted.optimizer.rawValue, run.optimizer.rawValue),
            (named("--seed", given: training.seed != nil, fromFile: file?.seed != nil && file?.seed == training.seed), "\(wanted.seed)", "\(run.seed)"),
            (named("--warmup", given: training.warmup != nil, fromFile: file?.warmup != nil && file?.warmup == training.warmup, byRecipe: true),
             "\(wanted.warmupEpochs)", "\(run.warmupEpochs)"),
            (named("--augment", given: training.augment != nil, fromFile: file?.augment != nil && file?.augment == training.augment),
             wanted.augmentation.rawValue, run.augmentation.rawValue),
            (named("weightDecay", given: file?.weightDecay != nil, fromFile: true), "\(wanted.weightDecay)", "\(run.weightDecay)"),
            (named("minDelta", given: file?.minDelta != nil, fromFile: true), "\(wanted.minDelta)", "\(run.minDelta)"),
            (named("balancedBatches", given: file?.balancedBatches != nil, fromFile: true, byRecipe: true), "\(wanted.balancedBatches)",
             "\(run.balancedBatches)"),
        ]
        return settings.compactMap { name, given, run in name.flatMap { given == run ? nil : "\($0) \(given) (the run's: \(run))" } }
    }

    /// The topology's configuration: the file's section, with --width and --depth on top.
    func topologyConfiguration(_ file: File?) throws -> JSONValue {
        var section: [String: JSONValue] = [:]
        if case .object(let o)? = file?.topologyConfiguration { section = o }
        if let width { section["width"] = JSONValue(width) }
        if let depth { section["depth"] = JSONValue(depth) }
        return .object(section)
    }

    func headConfiguration(_ file: File?) throws -> JSONValue {
        let given = try headOptions(headOption)
        guard !given.isEmpty else { return file?.headConfiguration ?? [:] }
        return .object((file?.headConfiguration?.objectValue ?? [:]).merging(given) { _, option in option })
    }

    /// What a settings file given with `--resume` sets otherwise than the run does, each as "KEY
    /// VALUE (the run's: VALUE)": its out, modality (reader, steps and options), topology and head
    /// with their settings. Training settings are compared with the run's as the options are, and
    /// epochs, patience, data, threads, cacheMb, device and precision are honoured.
    /// Without `folder` (a run fine-tuned from `model`'s, --init-from), its out and head go unchecked.
    func differences(_ file: File, from model: RunConfiguration, resuming folder: RunDirectory?, registry: Registry) throws -> [String] {
        var differing: [String] = []
        if let folder, let out, fileURL(out).standardizedFileURL.path != folder.url.standardizedFileURL.path {
            differing.append("out \(out) (the run resumed is \(folder.url.path))")
        }
        if let topology {
            differing += [RecordedSettings.difference("topology", .string(registry.topologies.identifier(topology)),
                                                      .string(model.topology.identifier))].compactMap { $0 }
        }
        if folder != nil, let head {
            differing += [RecordedSettings.difference("head", .string(registry.heads.identifier(head)),
                                                      .string(model.head.identifier))].compactMap { $0 }
        }
        var given = file.topologyConfiguration?.objectValue ?? [:]
        if let width { given["width"] = .number(Double(width)) }
        if let depth { given["depth"] = .number(Double(depth)) }
        differing += RecordedSettings.differences(.object(given), model.topology.configuration) {
            try registry.topology(model.topology.identifier, inputChannels: 1, seed: 0, $0)
        }
        if folder != nil {
            differing += RecordedSettings.differences(try headConfiguration(file), model.head.configuration, prefix: "headConfiguration.") {
                try registry.head(model.head.identifier, $0)
            }
        }
        // A modalityConfiguration given alone is compared with the run's own modality's options.
        if let trained = model.modality, modality != nil || file.modalityConfiguration != nil {
            var manifest = try modality.map { name in
                do { return try ModalityManifest.resolve(name, builtin: CompSegTool.modalityManifests, registry: registry) } catch {
                    throw CLIError("--modality \(name): \(error); \(folder == nil ? "--init-from" : "--resume") needs no --modality: the run's model.json holds its modality")
                }
            } ?? trained
            if let options = file.modalityConfiguration {
                manifest.options = try mergedOptions(manifest.options, options)
                // Keys the reader does not know, or settings it refuses, are named as a new run names them.
                manifest.source = "\(config ?? "--config")'s modalityConfiguration"
                _ = try PreparedModality(manifest, registry: registry)
            }
            differing += RecordedSettings.modalityDifferences(manifest, trained, registry: registry,
                                                              prefix: modality.map { "modality \($0): " } ?? "modalityConfiguration: ")
        }
        return differing
    }

    /// The manifest's reader options with the settings file's `modalityConfiguration` on top.
    func mergedOptions(_ options: JSONValue, _ overrides: JSONValue) throws -> JSONValue {
        guard let o = overrides.objectValue else {
            throw ConfigurationError(source: config ?? "--config", message: "key 'modalityConfiguration' must be a mapping")
        }
        return JSONValue.object(o).merged(over: .object(options.objectValue ?? [:]))
    }
}

