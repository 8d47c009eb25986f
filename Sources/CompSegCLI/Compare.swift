import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg compare`: trains each topology on the same data, seed and budget, evaluates each on
/// the test split, and writes a comparison table (Markdown and CSV) with each run in its folder.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train several topologies on the same data and budget and compare them on the test split.")

    @Option(help: "Dataset manifest CSV (path,label,split[,mask,truth,patient]).") var data: String
    @Option(help: "Modality: a manifest in modalities/ by name (e.g. infrared), a manifest file, or a reader plugin.") var modality: String
    @Option(help: "Topologies, comma-separated (the `plugins` command lists them; default \(Compare.defaultTopologies)); each receives --width and --depth.") var topologies: String?
    @Option(help: "Instead of --topologies: a YAML or JSON file whose list `topologies` holds identifiers or {name, topology, configuration} entries, e.g. to compare configurations of one topology.")
    var config: String?
    @Option(help: "Pooling head identifier.") var head = "compsegnet"
    @Option(name: .customLong("head-option"), parsing: .unconditionalSingleValue,
            help: "A setting of --head's head, KEY=VALUE (repeatable), e.g. alpha=0.2; entries of --config with a head of their own keep theirs.")
    var headOption: [String] = []
    @Option(help: "Output folder (one run folder per topology, and the tables).") var out: String
    @OptionGroup var training: TrainingOptions
    @Option(parsing: .unconditional, help: "Network base width.") var width = 16
    @Option(parsing: .unconditional, help: "Network pooling steps.") var depth = 3
    @Option(parsing: .unconditional, help: "Seeds, comma-separated (e.g. 0,1,2), instead of --seed: each entry is trained once per seed, in run folders NAME-seedS, and the tables add each entry's mean ± sd over the seeds, the spread a difference between entries must exceed.")
    var seeds: String?
    @Option(parsing: .unconditional, help: "Activation threshold for masks: 'auto' (default) chooses each entry's on the validation split (best mean Dice where truth exists, else Youden), as networks and heads light up to different levels; a number in (0, 1) applies to all (the paper's: 0.35).")
    var threshold = "auto"
    @Flag(help: "Continue the comparison in --out that Ctrl-C or a kill stopped, given the same options (--epochs may grow): entries trained are kept, a stopped run goes on from its last epoch, missing ones are trained; then every entry is evaluated and the tables written.")
    var resume = false
    @Flag(help: "Leave out the rows whose image is missing, cannot be read or holds no tissue, or whose mask or truth file is missing or cannot be read (not a PNG or GeoJSON, damaged): each is named in a warning, every entry trains and is tested on the others, and the train and val rows left out are recorded in each entry's model.json (a resumed comparison leaves out the same ones). Without it, such a row ends the command before training.")
    var skipUnreadable = false
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions
    @OptionGroup var cache: CacheOptions

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a folder, got an empty path") }
        guard !names.isEmpty else { throw ValidationError("--topologies names none") }
        if let seeds {
            let list = seedList ?? []
            guard !list.isEmpty, list.count == seeds.split(separator: ",", omittingEmptySubsequences: false).count else {
                throw ValidationError("--seeds must be whole numbers 0 or more, comma-separated, got \(seeds)")
            }
            guard Set(list).count == list.count else { throw ValidationError("--seeds names a seed twice: \(seeds)") }
            guard training.seed == nil else { throw ValidationError("give either --seed or --seeds, not both") }
        }
        _ = try headOptions(headOption)
        try requireThreshold(threshold, command: "compare", takesAuto: true)
        if config != nil && topologies != nil {
            throw ValidationError("give either --topologies or --config, not both")
        }
    }

    /// --seeds' seeds, in their order; nil without it (or where one is not a seed).
    var seedList: [UInt64]? {
        guard let seeds else { return nil }
        let parts = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.compactMap { $0 }
    }

    static let defaultTopologies = "unet,segnet"
    var names: [String] { (topologies ?? Self.defaultTopologies).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    /// One network of the comparison: its run folder and table row `name`, the topology and its
    /// configuration (a JSON object), and its pooling head (nil: --head's).
    struct Entry {
        var name: String
        let topology: String
        var configuration: JSONValue
        /// The keys --width and --depth filled in for a configuration that left them out: a
        /// comparison begun before they were filled in resumes with its runs' own.
        var filled: Set<String> = []
        var head: PluginDescription? = nil
        /// Its place in --config's list, from 1, for messages; nil for --topologies.
        var position: Int? = nil
        /// With --seeds: its seed, and the name of the entry it is one seed of (its name is `group-seedS`).
        var seed: UInt64? = nil, group: String? = nil

        /// The training settings of this entry's run: `settings` with its seed.
        func settings(_ settings: TrainingSettings) -> TrainingSettings {
            var s = settings
            if let seed { s.seed = seed }
            return s
        }
    }

    /// The entries of --config, or one per --topologies name with --width and --depth (also
    /// filling in a configuration that leaves them out, where its topology takes them), with the
    /// problems of --config's entries (each entry's, and names given twice), all at once.
    func entries(_ registry: Registry) throws -> (entries: [Entry], problems: [String]) {
        let widthAndDepth: JSONValue = ["depth": JSONValue(depth), "width": JSONValue(width)]
        guard let config else {
            let repeated = Dictionary(grouping: names, by: { $0.lowercased() }).filter { $1.count > 1 }.keys.sorted()
            guard repeated.isEmpty else {
                throw CLIError("--topologies names \(repeated.joined(separator: ", ")) more than once (each is a run "
                               + "folder); to compare configurations of one topology, use --config")
            }
            return (names.map { Entry(name: $0, topology: $0, configuration: widthAndDepth) }, [])
        }
        let file = try ConfigurationFile.read(fileURL(config), named: config)
        let listed = try file.decode(TopologiesFile.self).topologies
        guard !listed.isEmpty else { throw ConfigurationError(source: config, message: "key 'topologies' lists none") }
        var entries: [Entry] = [], problems: [String] = []  // every entry's problem at once
        for (i, item) in listed.enumerated() {
            do {
                var entry = try Entry(item, widthAndDepth: widthAndDepth, source: "\(config): topologies entry \(i + 1)")
                entry.position = i + 1
                fillWidthAndDepth(&entry, widthAndDepth, registry)
                entries.append(entry)
            } catch { problems.append("\(error)") }
        }
        let repeated = Dictionary(grouping: entries.map(\.name), by: { $0 }).filter { $1.count > 1 }.keys.sorted()
        if !repeated.isEmpty {
            let error = ConfigurationError(source: config, message: "names must differ (each is a run folder); repeated: "
                                           + repeated.joined(separator: ", ") + "; give entries a 'name'")
            problems.append(error.description)
        }
        return (entries, problems)
    }

    /// Fills in --width and --depth where `entry`'s configuration leaves them out, unless its
    /// topology does not take them (an outside one may not); any other error of the filled
    /// configuration is said with the other entries' problems.
    private func fillWidthAndDepth(_ entry: inout Entry, _ widthAndDepth: JSONValue, _ registry: Registry) {
        guard case .object(var given) = entry.configuration else { return }
        let missing = ["width", "depth"].filter { given[$0] == nil }
        guard !missing.isEmpty else { return }
        for key in missing { given[key] = widthAndDepth.objectValue?[key] }
        do { try registry.checkTopology(entry.topology, PluginConfiguration(json: JSONValue.object(given).data)) }
        catch let error as ConfigurationError where error.unknownKey.map(missing.contains) == true { return }
        catch {}
        (entry.configuration, entry.filled) = (.object(given), Set(missing))
    }

    /// The entry's head: its own, or --head's.
    func headOf(_ entry: Entry) -> PluginDescription {
        entry.head ?? PluginDescription(identifier: head, configuration: .object((try? headOptions(headOption)) ?? [:]))  // checked in validate()
    }

    /// The run's mask threshold: --threshold's number, or with `auto` the one that does best on the
    /// validation split (as `evaluate --threshold auto` chooses it); the paper's 0.35 where that
    /// split cannot tell (no truth, one class). Its origin in words.
    /// The run chooses and records its own threshold as `train` does (segment, overlay and
    /// evaluate apply it to the run folder); the table takes --threshold's number, or that choice.
    /// `unchosen` says why `auto` could not choose, for the table's notes; nil when it did, or was not asked.
    func chooseThreshold(_ session: TrainingRun, manifest: Manifest, registry: Registry) throws
        -> (threshold: Float, origin: String, unchosen: String?) {
        let rows = manifest.rows(in: .val)
        let choice = try session.chooseThreshold(registry: registry) { try SegmentationFiles.readTruth(rows, $0, manifest: manifest.url.path) }
        if let fixed = thresholdNumber(threshold) { return (fixed, "set by --threshold", nil) }
        guard let choice else {
            let why = rows.isEmpty ? "no validation split" : "the validation split has neither truth nor both classes"
            return (SegmentationFiles.defaultThreshold, "the paper's 0.35: \(why) to choose one on", "threshold 0.35: \(why) to choose one on")
        }
        choice.caveat.map { warn("\(session.folder.url.lastPathComponent): \($0)") }
        return (choice.threshold, "chosen on the \(counted(session.validation.count, "validation sample")) by \(choice.reason)",
                choice.uninformative ? "no threshold told the validation maps apart (none scored above nothing)" : nil)
    }

    /// What in the run `model` (begun by an earlier compare into this folder) differs from what
    /// these options would begin for `entry`, in words; nil when it continues as they say. Only
    /// `--epochs` and `--patience` may differ; the topology's keys are compared where the entry gives them
    /// (not those --width and --depth filled in).
    /// Identifiers are compared as registered (an alias given names the same plugin), and
    /// configurations by the keys given (the run records every key in effect, fitted values too).
    static func difference(_ model: RunConfiguration, _ entry: Entry, head: PluginDescription, settings: TrainingSettings,
                           modality: ModalityManifest, registry: Registry) -> String? {
        let topology = registry.topologies.identifier(entry.topology)
        if model.topology.identifier != topology { return "topology \(topology) (the run's: \(model.topology.identifier))" }
        let given = entry.configuration.objectValue.map { JSONValue.object($0.filter { !entry.filled.contains($0.key) }) } ?? entry.configuration
        if let key = RecordedSettings.differences(given, model.topology.configuration, readBy: {
            try registry.topology(topology, inputChannels: 1, seed: 0, $0)
        }).first {
            return "topology setting \(key)"
        }
        let headIdentifier = registry.heads.identifier(head.identifier)
        if model.head.identifier != headIdentifier { return "head \(headIdentifier) (the run's: \(model.head.identifier))" }
        if let key = RecordedSettings.differences(head.configuration, model.head.configuration, readBy: { try registry.head(headIdentifier, $0) }).first {
            return "head setting \(key)"
        }
        var trained = model.training, wanted = settings
        trained.epochs = settings.epochs  // --epochs and --patience may change; without --patience the run keeps its own
        trained.patience = settings.patience ?? trained.patience
        wanted.patience = trained.patience
        if trained != wanted {
            let given = (try? JSONValue(encoding: wanted))?.objectValue ?? [:], begun = (try? JSONValue(encoding: trained))?.objectValue ?? [:]
            let keys = Set(given.keys).union(begun.keys).sorted().filter { given[$0] != begun[$0] }
            return "training settings " + keys.map { "\($0) \(given[$0]?.text ?? "none") (the run's: \(begun[$0]?.text ?? "none"))" }
                .joined(separator: ", ")
        }
        if let recorded = model.modality, let key = RecordedSettings.modalityDifferences(modality, recorded, registry: registry, prefix: "modality ").first {
            return key
        }
        return nil
    }

    /// Where the manifest's train and val rows are not those the run `model` began with (other
    /// rows, another order, files whose contents changed), in words; nil where they are.
    static func dataDifference(_ model: RunConfiguration, rows: ManifestRows, in manifest: Manifest) -> String? {
        guard let trainedRows = model.rows else { return nil }
        if !trainedRows.sameRows(as: rows) || (trainedRows.order.map { $0 != rows.order } ?? false) {
            return "train and val rows that are not the run's" + rows.changesNamed(since: trainedRows, in: manifest)
        }
        if !trainedRows.sameContents(as: rows) {
            return "train and val files whose contents changed since the run began (one written over, or replaced by another of its size)"
                + rows.changesNamed(since: trainedRows, in: manifest)
        }
        return nil
    }

    /// What --config holds.
    struct TopologiesFile: Codable, ListsConfigurationKeys {
        var topologies: [JSONValue]
        static let configurationKeys = ["topologies"]  // so a file without it names the key it gives instead
    }
    struct Row {
        /// The entry's name (its run folder) and the topology's identifier: the same unless --config names entries.
        let name: String, topology: String
        /// With --seeds, the entry this run is one seed of (else `name`); the run's seed.
        let group: String, seed: UInt64
        /// The mask threshold, and how it was chosen; why `auto` could not choose one, if it could not.
        let threshold: Float, thresholdOrigin: String, thresholdUnchosen: String?
        /// Epochs that ended collapsed, of all; whether the epoch whose weights were kept did; the
        /// epoch whose weights were kept (the lowest validation loss).
        let collapsedEpochs: Int, epochs: Int, keptEpochCollapsed: Bool, keptEpoch: Int?
        let parameters: Int, seconds: Double, imagesPerSecond: Double
        let validationLoss: Float?, evaluation: SegmentationEvaluation
        /// Gallery entries (tumor fraction, HTML card) of the test samples.
        let gallery: [(score: Double, html: String)]
        /// The run's training curves (SVG).
        let curves: String?
        /// The tumor fraction by class (SVG), as in the entry's `test/fractions.svg`.
        let fractions: String
        /// The topology's configuration and the head as the run recorded them (every key in effect).
        let configuration: JSONValue, head: PluginDescription
        /// Test rows `--skip-unreadable` left out.
        var testLeftOut = 0
        /// Test rows of patients with train or val rows: not held out.
        var testOfTrainedPatients = 0

        /// Whether its masks mark half or more of the cancer-free test samples' tissue, on average.
        var marksMostCancerFreeTissue: Bool { SegmentationEvaluation.marksMost(evaluation.summary.cancerFreeFractionMean) }
    }

    func run() throws {
        try hintingSkipUnreadable(skipping: skipUnreadable, inputs: { manifestInputs(data) }) { try compare() }
    }

    private func compare() throws {
        threading.apply()
        let device = try compute.apply()
        let registry = try CompSegTool.registry()
        var (entries, found) = try entries(registry)
        let resolved = try resolveModalityNoting(modality, registry: registry)
        // Every configuration is checked before any reading or training, all named at once (a head
        // that all entries share, once).
        var problems = resolved.unknownPlugins(in: registry) + found, checkedHeads: [PluginDescription] = []
        for e in entries {
            let source = config.map { "\($0): topologies entry \(e.position ?? 0) (\(e.name))" } ?? "--topologies \(e.name)"
            do { try registry.checkTopology(e.topology, PluginConfiguration(json: e.configuration.data, source: source)) }
            catch { problems.append(located(error, at: source)) }
            let head = headOf(e)
            if checkedHeads.contains(head) { continue }
            checkedHeads.append(head)
            let headSource = e.head == nil ? "--head \(head.identifier)" : "\(source): head '\(head.identifier)'"
            do { _ = try registry.head(head.identifier, head.pluginConfiguration(source: headSource)) }
            catch { problems.append(located(error, at: headSource)) }
        }
        guard problems.isEmpty else { throw CLIError(listed(problems: problems)) }
        if config == nil {  // an alias names the same network: `unet,u-net` would train it twice
            let identifiers = try entries.map { try registry.topologies.factory($0.topology).0.identifier }
            if let twice = identifiers.indices.first(where: { identifiers[..<$0].contains(identifiers[$0]) }) {
                let first = identifiers.firstIndex(of: identifiers[twice])!
                throw CLIError("--topologies names \(identifiers[twice]) twice (\(entries[first].name) and \(entries[twice].name)); "
                               + "to compare configurations of one topology, use --config")
            }
            // Named as registered (`UNet` and `u-net` are unet), in the table and as run folders; a
            // comparison begun by an earlier compseg, which kept the name as typed, resumes under it.
            entries = zip(entries, identifiers).map { e, identifier in
                let begunAsTyped = resume && FileManager.default.fileExists(atPath: fileURL(out)
                    .appendingPathComponent("\(e.name)/model.json").path)
                return Entry(name: begunAsTyped ? e.name : identifier, topology: identifier, configuration: e.configuration)
            }
        }
        if let list = seedList {  // one run per entry and seed
            // A name like the runs' folders (x-seed0 beside x) would label two runs alike in the tables.
            if let clash = entries.first(where: { $0.name.wholeMatch(of: /.+-seed[0-9]+/) != nil }) {
                throw CLIError("entry name \(clash.name) ends as the runs' folders do with --seeds (NAME-seedN, one per entry and seed): "
                               + "choose another name", usage: true)
            }
            entries = entries.flatMap { e in
                list.map { seed in
                    var run = e
                    (run.name, run.seed, run.group) = ("\(e.name)-seed\(seed)", seed, e.name)
                    return run
                }
            }
        }
        let folder = fileURL(out)
        var folderLock: FolderLock?  // its leftovers are then no other compare's writes, and no other command writes there
        defer { folderLock?.release() }
        // Another compseg comparing (or writing) there now: refused as such (exit 75), not as a folder that holds entries.
        if FolderLock.isHeld(folder) { _ = try FolderLock(folder, holder: "working in this folder") }
        // --resume where no entry was begun (no folder, one stopped while the data were read, a job's first start)
        // begins the comparison, so that a script's one command starts it and continues it.
        let begunEntry = entries.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0.name)/model.json").path) }
        let resuming = resume && begunEntry
        if resuming {
            // Only a comparison's folder: its entries' run folders, its own files, leftovers, logs.
            let held = try folderEntries(folder).filter { !isLeftoverTemporary($0) && !isLogFile($0, in: folder) }
            let names = Set(entries.map(\.name)), ours = Set(Entry.outputs)
            let foreign = held.filter { !names.contains($0) && !ours.contains($0) }
            guard foreign.isEmpty else {
                throw CLIError("\(folder.path) holds \(entriesSummary(foreign)), which no comparison of these entries writes: there is "
                               + "no comparison of these options to resume there (nothing was changed)")
            }
            folderLock = try FolderLock(folder, holder: "working in this folder")
            // What a kill left half-written: the tables' and each entry's test pictures' temporaries (its run's, TrainingRun removes).
            removeLeftoverTemporaries(in: folder)
            for e in entries { removeLeftoverTemporaries(in: folder.appendingPathComponent(e.name).appendingPathComponent("test")) }
        } else if resume {
            // An entry's folder that a kill left before its run began (only leftovers and logs in it) is no user's file.
            let names = Set(entries.map(\.name))
            func isBareEntry(_ name: String) -> Bool {
                let entry = folder.appendingPathComponent(name)
                return names.contains(name) && ((try? folderEntries(entry)) ?? ["?"]).allSatisfy { isLeftoverTemporary($0) || isLogFile($0, in: entry) }
            }
            let held = try folderEntries(folder).filter { !isLeftoverTemporary($0) && $0 != OutputList.name && !isLogFile($0, in: folder) }
            let foreign = held.filter { !isBareEntry($0) }
            guard foreign.isEmpty else {
                throw CLIError("\(folder.path): already holds \(entriesSummary(foreign)); no entry of this comparison was begun there, and --resume "
                               + "begins one only in a new or empty folder, as a comparison without it does (nothing was changed)")
            }
            print("No entry of this comparison was begun in \(folder.path): beginning the comparison.")
        } else {
            try requireEmptyFolder(folder, "choose a new or empty --out (nothing is overwritten), or continue a stopped "
                                   + "comparison there with the same options and --resume")
        }
        // A folder that cannot be written (or the one it would be made in) is said now, not once the data are read.
        var place = folder
        while !FileManager.default.fileExists(atPath: place.path), place.pathComponents.count > 1 { place = place.deletingLastPathComponent() }
        guard access(place.path, W_OK | X_OK) == 0 else {
            throw IOError(file: place.path, "cannot be written: \(String(cString: strerror(errno))); choose another --out")
        }
        let madeFolders = resuming ? [] : missingFolders(folder)
        PreparationInterrupt.install((resuming ? "no entry went on; the comparison is as it was" : "no entry was begun")
                                     + "; the same command goes on from here", made: madeFolders)
        var settings = training.settings()
        // Resuming: each entry's run as it was begun, checked against these options before anything is read.
        var begun: [String: RunConfiguration] = [:]
        for e in entries where resuming {
            let run = RunDirectory(folder.appendingPathComponent(e.name))
            guard FileManager.default.fileExists(atPath: run.modelFile.path) else { continue }
            let model = try run.readModel()
            try model.training.validate { "\(run.modelFile.path): key 'training.\($0)'" }
            if let difference = Self.difference(model, e, head: headOf(e), settings: e.settings(settings), modality: resolved,
                                                registry: registry) {
                throw CLIError("\(run.modelFile.path): entry \(e.name) was begun otherwise than these options say: \(difference); resume with the options the "
                               + "comparison began with", usage: true)  // as train --resume refuses what it cannot honour
            }
            // Width and depth filled in where the run was begun at others (another --width, or before they reached
            // configured entries): it keeps its own, said.
            let kept = e.filled.sorted().compactMap { key in
                model.topology.configuration.objectValue?[key].flatMap { $0 == e.configuration.objectValue?[key] ? nil : "\(key) \($0.plain)" }
            }
            if !kept.isEmpty {
                print("Note: \(e.name) goes on at its run's \(kept.joined(separator: ", ")): its configuration leaves "
                      + (kept.count == 1 ? "it" : "them") + " out, and --width and --depth fill in only for a new run")
            }
            // From history.csv, which follows the checkpoint (the run's own check, on reopening, reads that).
            if let done = try? run.readHistory().count, done > settings.epochs {
                throw CLIError("\(run.url.path): entry \(e.name) already completed \(done) epochs, more than the \(settings.epochs) "
                               + "asked for (--epochs is the total to reach)", usage: true)
            }
            begun[e.name] = model
        }
        let firstBegun = begun.keys.sorted().first.flatMap { begun[$0] }
        // A resumed comparison's train and val rows are left out as its entries recorded (with --skip-unreadable, test rows anew).
        let recordedLeftOut = try LeavingOutRows.recorded(in: begun)
        var skipping: LeavingOutRows?, manifest: Manifest
        if firstBegun != nil {
            (manifest, skipping) = try LeavingOutRows.resumed(fileURL(data), leftOut: recordedLeftOut, skipUnreadable: skipUnreadable)
        } else {
            skipping = skipUnreadable ? LeavingOutRows() : nil
            manifest = try skipping?.manifest(data) ?? Manifest(contentsOf: fileURL(data))
        }
        guard !manifest.rows(in: .test).isEmpty else { throw CLIError("\(manifest.url.path): no rows with split test to compare on") }
        try skipping?.requireTrainingRows(manifest) ?? TrainingRun.requireTrainingRows(manifest)
        let given = manifest
        // The truths read after training (test rows; val rows to choose thresholds on), checked before it.
        try SegmentationFiles.checkTruthFiles(manifest.rows.filter { $0.split == .test || $0.split == .val }, manifest: manifest.url.path)
        let reader = try registry.modality(resolved.reader, resolved.readerConfiguration)
        var manifestRows = ManifestRows(manifest, readingContentsWith: reader)
        if !begun.isEmpty {
            let rows = manifestRows
            for (name, model) in begun.sorted(by: { $0.key < $1.key }) {
                guard var difference = Self.dataDifference(model, rows: rows, in: manifest) else { continue }
                let file = folder.appendingPathComponent(name).appendingPathComponent("model.json").path
                let found = try model.rows?.resaved(rows, in: manifest, modality: model.preparedModality(registry: registry, file: file))
                if case .samePixels(let accepted, _)? = found {
                    // Saved again without loss: the entry goes on, and its record knows the files as they are now.
                    begun[name]?.rows = accepted
                    print("\(name): \(found!.description)")
                    continue
                } else if let found {
                    difference += found.description
                }
                // The data's, not the options': status 1, as train's.
                throw CLIError("\(manifest.url.path): entry \(name) was begun on other data: \(difference); resume with the manifest and "
                               + "files the comparison began with")
            }
        }
        // Without --patience, entries not begun yet take the begun runs' (they keep their own).
        if settings.patience == nil { settings.patience = begun.values.compactMap(\.training.patience).first }
        // The preprocessing as the begun runs fitted it (fitting again on another thread count would differ slightly).
        func unfittedModality() throws -> PreparedModality {
            try firstBegun.map { try $0.preparedModality(registry: registry, file: "\(folder.path): \(begun.keys.sorted()[0])") }
                ?? PreparedModality(resolved, registry: registry)
        }
        let cacheBytes = cache.bytes
        func prepared(_ manifest: Manifest) throws -> (modality: PreparedModality, train: SampleStore, validation: SampleStore, test: SampleStore) {
            let prepared = try firstBegun == nil ? unfittedModality().fitted(on: manifest.rows(in: .train), manifest: manifest, cacheBudget: cacheBytes,
                                                                     alsoChecking: manifest.rows(in: .val)) : unfittedModality()
            let (train, validation) = try TrainingRun.stores(manifest, prepared, cacheBudget: cacheBytes)
            let test = try prepared.store(manifest.rows(in: .test), manifest: manifest,
                                          cacheBudget: max(0, cacheBytes - train.cachedBytes - validation.cachedBytes))
            return (prepared, train, validation, test)
        }
        let made: (modality: PreparedModality, train: SampleStore, validation: SampleStore, test: SampleStore)
        (made, manifest) = try skipping?.preparing(manifest, splits: firstBegun == nil ? [.train, .val, .test] : [.test],
                                                   reading: unfittedModality, prepared) ?? (prepared(manifest), manifest)
        guard !manifest.rows(in: .test).isEmpty else { throw CLIError("\(manifest.url.path): no test row could be read to compare on") }
        try skipping?.warnings.report()
        if firstBegun == nil { skipping?.warnIfValidationGone(given: given, kept: manifest) }
        let (prepared, train, validation, test) = made
        if firstBegun == nil { prepared.chain.fitWarnings.forEach(warn) }
        let testRows = manifest.rows(in: .test)
        warnAboutReaders(stores: [train, validation, test])
        giveBackFreedMemory()
        // Train and val rows left out while preparing (a new comparison's only): the rows' record again.
        if manifest.rows.filter({ $0.split != .test }).map(\.line) != given.rows.filter({ $0.split != .test }).map(\.line) {
            manifestRows = ManifestRows(manifest, readingContentsWith: reader)
        }
        manifestRows = LeavingOutRows.recording(skipping?.recorded ?? recordedLeftOut, in: manifestRows)
            .recordingPixels(train: train, validation: validation)
        for (name, model) in begun.sorted(by: { $0.key < $1.key }) {
            guard let changed = model.rows?.pixelsChanged(train: train, validation: validation, in: manifest), !changed.isEmpty else { continue }
            throw CLIError("\(manifest.url.path): entry \(name) was begun on other data: \(changed.prefix(5).joined(separator: ", "))"
                           + "\(changed.count > 5 ? ", …" : "") \(changed.count == 1 ? "holds" : "hold") other pixels than when it began (edited in "
                           + "place); resume with the files the comparison began with")
        }
        if firstBegun == nil {
            Train.warnAboutSettings(settings, trainingSamples: train.count, warmupGiven: training.warmup != nil)
            Train.warnAboutRepeatedPixels(manifestRows)
            Train.warnAboutSplitsAndMasks(manifest, train: train, validation: validation.count)
        }
        // Every entry's step fits in memory, before the first trains (not one that fails hours later).
        /// The run a new entry begins.
        func newRun(_ e: Entry) -> RunConfiguration {
            var model = RunConfiguration(
                modality: prepared.manifest, topology: .init(identifier: e.topology, configuration: e.configuration),
                head: headOf(e), inputChannels: train.channels!, training: e.settings(settings),
                versions: runVersions(manifest: manifest, device: device))
            model.rows = manifestRows
            return model
        }
        for e in entries where begun[e.name] == nil { try TrainingRun.requireStepMemory(newRun(e), train: train, registry: registry) }
        if folderLock == nil {  // a new comparison's folder, held from its first entry on
            try createFolder(folder)
            folderLock = try FolderLock(folder, holder: "working in this folder")
        }
        let shared = Warnings.written  // the samples' own: in every entry's summary.json
        let stop = InterruptFlag.install()

        var rows: [Row] = []
        var current = ""  // the entry at work: a Ctrl-C that stops its evaluation (not its training) names it
        do {
            for e in entries {
                current = e.name
                print("== \(e.name)")
                let warnedBefore = Warnings.written.count  // this entry's warnings go into its summary.json
                let directory = RunDirectory(folder.appendingPathComponent(e.name))
                let session: TrainingRun
                if var model = begun[e.name] {
                    // An entry begun before pixels were recorded records them now, of the files it goes on with.
                    if let rows = model.rows, rows.perRow?.contains(where: { $0.pixels == nil }) ?? false {
                        model.rows = rows.recordingPixels(train: train, validation: validation)
                    }
                    model.training.epochs = settings.epochs
                    if let patience = settings.patience { model.training.patience = patience }
                    var note = recordThreadChange(&model).map { " (\($0))" } ?? ""
                    // A comparison resumed where its manifest moved: the entry's record names the manifest it reads now.
                    if let before = model.versions["manifest"], fileURL(before).path != manifest.url.path {
                        model.versions["manifest"] = manifest.url.path
                        note += " (manifest \(before) → \(manifest.url.path))"
                    }
                    session = try TrainingRun(resuming: directory, model: model, train: train, validation: validation, registry: registry)
                    if session.completedEpochs < settings.epochs, stoppedByPatience(session) == nil {
                        // Its test results and the comparison's tables describe the weights it is about to change:
                        // gone before it trains, so that a stop leaves no finished-looking tables of other weights.
                        for stale in Entry.outputs.map(folder.appendingPathComponent) + [directory.url.appendingPathComponent("test")]
                        where FileManager.default.fileExists(atPath: stale.path) { try FileManager.default.removeItem(at: stale) }
                    }
                    print(session.completedEpochs >= settings.epochs
                          ? "\(directory.url.path) completed its \(settings.epochs) epochs: nothing to train"
                          : stoppedByPatience(session).map { "\(directory.url.path): \($0): nothing to train" } ?? "Resuming \(directory.url.path) after epoch \(session.completedEpochs) of \(settings.epochs)" + note)
                } else {
                    session = try TrainingRun(creating: directory, model: newRun(e), train: train, validation: validation, registry: registry)
                }
                let progress = ProgressReporter(epochs: settings.epochs, images: train.count, run: e.name)
                let epochsBefore = session.completedEpochs
                let finished = try session.run(progress: progress.finish,
                                               step: { k, n in progress.step(epoch: session.completedEpochs + 1, k, of: n) },
                                               shouldStop: { stop.isSet })
                guard finished else {
                    sayAfterOutput("Interrupted: " + (session.completedEpochs == 0 ? "\(e.name) completed no epoch yet (it starts from the first)"
                                             : "\(e.name)'s last completed epoch is saved") + ". Continue the comparison with the same options "
                          + "and --resume")
                    throw ExitCode(stop.exitStatus)
                }
                if session.completedEpochs > epochsBefore, let stopped = stoppedByPatience(session) {
                    print(stopped + " (compare --resume with a larger --patience trains further)")
                }
                let seconds = session.trainer.history.map(\.seconds).reduce(0, +)  // the epochs' own, also those before a resume
                let trained = try TrainedModel(run: session.folder, registry: registry)
                let (chosen, origin, unchosen) = try chooseThreshold(session, manifest: manifest, registry: registry)
                let (samples, maps) = try trained.segmented(test)
                let truth = try SegmentationFiles.readTruth(testRows, samples, manifest: manifest.url.path)
                let evaluation = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: chosen,
                                                        patients: SegmentationFiles.patients(testRows, samples))
                warnAboutCheckerboard(samples, maps, topology: session.model.topology, threshold: chosen, entry: e.name)  // as evaluate does
                if evaluation.marksNothing {
                    let cost = evaluation.marksNothingCost
                    warn("\(e.name): no test pixel exceeds the threshold \(thresholdText(chosen)): every tumor fraction is 0, so "
                         + (cost.isEmpty ? "" : cost + ", and ") + "no cancer sample is found, whatever the maps rank")
                }
                let figures = session.folder.url.appendingPathComponent("test")
                try createFolder(figures)
                let fractions = EvaluationReport.fractionChart(evaluation)  // also in the report, beside the others
                let fractionsSVG = fractions.svg()
                try fractions.render().writePNG(to: figures.appendingPathComponent("fractions.png"))
                try writeDurably(Data(fractionsSVG.utf8), to: figures.appendingPathComponent("fractions.svg"))
                // Card anchors carry the entry's name: the report holds every entry's cards.
                let gallery = try EvaluationReport.writeFigures(evaluation, samples: samples, maps: maps, truth: truth, to: figures,
                                                                anchorPrefix: "\(e.name)-")
                // Its numbers per sample and in summary, as evaluate writes them.
                try EvaluationFiles.write(evaluation, files: Dictionary(uniqueKeysWithValues: zip(samples.map(\.id), testRows.map(\.path))),
                                          splits: Dictionary(uniqueKeysWithValues: samples.map { ($0.id, "test") }),
                                          source: (session.folder.url.path, manifest.url.path, "test", origin),
                                          run: (skipping?.testRows ?? 0, shared + Warnings.written.dropFirst(warnedBefore)),
                                          unfamiliar: trained.unfamiliarInputs,
                                          network: (CompSegVersion.string, trained.weights.epoch, trained.weights.checksum, nil), to: figures)
                let history = session.trainer.history
                let keptCollapsed = session.trainer.best.map { b in history.first { $0.epoch == b.epoch }?.collapse != nil } ?? false
                rows.append(Row(name: e.name, topology: session.model.topology.identifier, group: e.group ?? e.name,
                                seed: session.model.training.seed, threshold: chosen, thresholdOrigin: origin, thresholdUnchosen: unchosen,
                                collapsedEpochs: history.filter { $0.collapse != nil }.count, epochs: history.count,
                                keptEpochCollapsed: keptCollapsed, keptEpoch: session.trainer.best?.epoch, parameters: session.trainer.network.parameterCount, seconds: seconds,
                                imagesPerSecond: history.map(\.imagesPerSecond).reduce(0, +) / Double(max(1, history.count)),
                                // Without a validation split the best epoch was chosen by its training loss: not a validation loss.
                                validationLoss: validation.count == 0 ? nil : session.trainer.best.map { $0.loss }, evaluation: evaluation, gallery: gallery,
                                curves: try session.folder.curvesSVG(), fractions: fractionsSVG,
                                configuration: session.model.topology.configuration, head: session.model.head,
                                testLeftOut: skipping?.testRows ?? 0, testOfTrainedPatients: Self.testRowsOfTrainedPatients(manifest)))
            }
        } catch is Interrupted {
            sayAfterOutput("Interrupted while \(current) was evaluated: its training is saved. Continue the comparison with the same "
                  + "options and --resume")
            throw ExitCode(stop.exitStatus)
        } catch let error as IOError {  // a full disk, say: the entries' completed epochs are kept
            let begunAny = entries.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0.name)/model.json").path) }
            guard begunAny else {
                // Nothing to resume: what the first entry left goes, so that the same command begins it again.
                for e in entries {
                    let entry = folder.appendingPathComponent(e.name)
                    removeLeftoverTemporaries(in: entry)
                    removeEmptyFolders([entry])
                }
                folderLock?.release()
                removeEmptyFolders(madeFolders)
                throw CLIError("\(error)\nwhile \(current) began, before any entry had a run to go on with: once the cause is mended, "
                               + "run the comparison again")
            }
            throw CLIError("\(error)\nwhile \(current) was trained or evaluated; every completed epoch is saved: once the cause is mended, "
                           + "continue the comparison with the same options and --resume")
        }
        try writeTables(rows, to: folder)
        // Without both classes in the test split there is no ROC, and none is drawn (as evaluate).
        let curves = rows.contains { $0.evaluation.summary.auc != nil } ? rows.map { EvaluationReport.rocCurve(name: $0.name, $0.evaluation) } : []
        if !curves.isEmpty { try EvaluationReport.writeROC(curves, to: folder) } else {
            for name in ["roc.png", "roc.svg"] { removeWrittenFile(folder.appendingPathComponent(name)) }  // an earlier compseg's, resumed
        }
        try writeReport(rows, roc: curves, settings: settings, to: folder)
        print(try String(contentsOf: folder.appendingPathComponent("comparison.md"), encoding: .utf8))
        if threshold != "auto" {  // the table's threshold is the comparison's, not the runs'
            print("The table applies --threshold \(threshold) to every entry; each run's model.json keeps the threshold its validation "
                  + "split chose, which segment, evaluate and overlay apply unless given --threshold \(threshold).")
        }
    }

    /// `report.html`: the comparison table, the ROC curves, and per topology its training curves,
    /// tumor fractions by class, sample cards and per-sample table; one self-contained page.
    func writeReport(_ rows: [Row], roc: [ROCCurve.Curve], settings s: TrainingSettings, to folder: URL) throws {
        let (header, cells) = table(rows)
        let text: Set<String> = ["run", "entry", "topology", "configuration", "head", "notes"]
        let numeric = Set(header.indices.filter { !text.contains(header[$0]) })
        let comparison = ReportHTML.sortableTable(header: header, numeric: numeric,
                                                  rows: cells.map { $0.map { $0 == "–" ? "" : $0 } })
        let rocFigure = roc.isEmpty ? "" : ReportHTML.figure(svg: ROCCurve.svg(curves: roc), alt: "ROC curves of the tumor fraction",
                                          caption: "ROC of the tumor fraction on the test split, one curve per topology, with DeLong's 95% "
                                            + "interval of the AUC in the legend"
                                            + (rows.first?.evaluation.summary.aucCIClustered == true
                                               ? " (clustered by patient, as Obuchowski)" : "") + "; ringed dots are each topology's Youden point.")
        var sections: [String] = []
        for r in rows {
            var figures: [String] = []
            if let curves = r.curves {
                figures.append(ReportHTML.figure(svg: curves, alt: "\(r.name): training curves",
                                                 caption: "\(r.name): training and validation loss and validation AUC per epoch; "
                                                    + "the dashed line marks the epoch whose weights were kept."))
            }
            figures.append(ReportHTML.figure(svg: r.fractions, alt: "\(r.name): tumor fraction by class",
                                             caption: "\(r.name): tumor fraction of each test sample by image label"
                                                + (r.evaluation.summary.youdenFraction == nil ? " (no Youden's cut: it needs samples of both classes that some cut tells apart)."
                                                   : ", with Youden's cut.")))
            let legend = try EvaluationReport.sampleLegend(threshold: r.threshold)
            let cards = r.gallery.sorted { $0.score > $1.score }.map(\.html).joined(separator: "\n")
            sections.append("""
                <section id="topology-\(ReportHTML.anchor(r.name))">
                <h2>\(ReportHTML.escape(r.name))</h2>
                <div class="figures">\(figures.joined(separator: "\n"))</div>
                <details><summary>Test samples (\(r.gallery.count)), highest tumor fraction first</summary>
                \(legend)
                <div class="cards">\(cards)</div>
                <h3>Per-sample results</h3>
                \(EvaluationReport.sampleTable(r.evaluation, anchorPrefix: "\(r.name)-"))
                </details>
                </section>
                """)
        }
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        /// The entries sharing the highest value (as printed: three decimals), named together.
        func best(_ values: [(name: String, value: Double?)]) -> (names: String, entries: [String], value: Double)? {
            guard let top = values.compactMap(\.value).max() else { return nil }
            let entries = values.filter { $0.value.map { f($0) == f(top) } ?? false }.map(\.name)
            return (entries.joined(separator: ", "), entries, top)
        }
        // With --seeds, entries by their means over the seeds; else each run by its own.
        let groups = Self.overSeeds(rows), overSeeds = seedList != nil
        let bestAUC = best(overSeeds ? groups.map { ($0.name, $0.auc?.mean) } : rows.map { ($0.name, $0.evaluation.summary.auc) })
        let bestDice = best(overSeeds ? groups.map { ($0.name, $0.dice?.mean) } : rows.map { ($0.name, $0.evaluation.summary.diceMean) })
        let named = groups.contains { $0.name != $0.topology }
        var tiles = [ReportHTML.tile(named ? "Entries" : "Topologies", "\(groups.count)", groups.map(\.name).joined(separator: ", ")
                                        + ": each trained on the same data and budget with \(seedsLine), then tested on the test split.")]
        if let r = bestAUC {
            tiles.append(ReportHTML.tile(overSeeds ? "Highest mean test AUC" : "Highest test AUC", "\(r.names): \(f(r.value))",
                                         "How well the tumor fraction ranks cancer above cancer-free test samples: 1 perfect, 0.5 chance. "
                                         + (overSeeds ? "Mean over \(seedsLine); a lead smaller than the spread over seeds (table) is no finding."
                                            : "One seed, \(Self.testCounts(rows)): "
                                              + (Self.pairedLead(rows).map { "\($0); repeat with --seeds 0,1,2." }
                                                 ?? (rows.contains { $0.evaluation.summary.aucCI != nil }
                                                     ? "a lead within the rows' 95% intervals (table) is no finding"
                                                     : "no row has a 95% interval (DeLong's method gives none where the classes "
                                                       + "separate completely or every score ties), and a lead over so few samples is no finding")
                                                   + "; repeat with --seeds 0,1,2."))))
        }
        if let r = bestDice {
            // Dice weighs no false mark on cancer-free tissue: said where that decides it.
            // (With --seeds, an entry's mean over its seeds.)
            let lit = groups.filter { r.entries.contains($0.name) && SegmentationEvaluation.marksMost($0.cancerFreeMarked?.mean) }
            let caveat = rows.allSatisfy({ $0.evaluation.summary.nCancerFree == 0 })
                ? " The test split holds no cancer-free sample, so nothing here weighs the tissue the masks mark falsely: masks that "
                    + "mark every pixel score well."
                : lit.isEmpty ? "" : " " + lit.map { String(format: "%@'s masks mark %.0f%%", $0.name, 100 * ($0.cancerFreeMarked?.mean ?? 0)) }
                    .joined(separator: ", ") + " of the cancer-free test samples' tissue: a Dice of masks that mark most tissue is no finding."
            tiles.append(ReportHTML.tile(overSeeds ? "Highest mean Dice" : "Highest Dice", "\(r.names): \(f(r.value))",
                                         "Overlap of the predicted and true tumor, over cancer test samples with ground truth (mean"
                                         + (overSeeds ? " over the samples, then over the seeds)." : "; the table's ± is its spread over those "
                                            + "samples, not the uncertainty of the comparison).") + caveat))
        }
        if let fixed = thresholdNumber(threshold) {
            tiles.append(ReportHTML.tile("Threshold", thresholdText(fixed),
                                         "A pixel counts as tumor where the activation exceeds it: set by --threshold, the same for every row."))
        } else {
            tiles.append(ReportHTML.tile("Threshold", "per row",
                                         "A pixel counts as tumor where the activation exceeds it: each row's was chosen on the validation "
                                         + "split (" + rows.map { "\($0.name) \(thresholdText($0.threshold)): \($0.thresholdOrigin)" }
                                            .joined(separator: "; ") + "), since networks and heads light up to different levels."))
        }
        let body = """
            <h1>Topology comparison</h1>
            <p class="subtitle">\(ReportHTML.escape(data)): the same training data, \(seedsLine), \(counted(s.epochs, "epoch"))\(s.patience.map { " (patience \($0))" } ?? ""), batch \(s.batchSize), \(s.optimizer.rawValue) at \(s.learningRate); \(ReportHTML.escape(Self.headLine(rows) ?? "the head in each row")); test split: \(Self.testCounts(rows)).</p>
            <div class="tiles">\(tiles.joined(separator: "\n"))</div>
            \(ReportHTML.warnings(Warnings.written))
            \(seedSection(rows))
            <h2>Comparison</h2>
            <p class="subtitle">Click a column, or press Enter on it, to sort. Training seconds and images/s are wall-clock on this machine.</p>
            \(comparison)
            \(roc.isEmpty ? "" : "<div class=\"figures\" style=\"margin-top:1rem\">\(rocFigure)</div>")
            \(sections.joined(separator: "\n"))
            <p class="subtitle">Each topology's run folder (model.json, weights.safetensors, history.csv, curves.png and curves.svg, and its test figures in test/) lies beside this report: \(ReportHTML.escape(rows.map(\.name).joined(separator: ", "))).</p>
            """
        try writeDurably(Data(ReportHTML.page(title: "CompSeg topology comparison", body: body, footer: reportFooter(weights: nil)).utf8),
                         to: folder.appendingPathComponent("report.html"))
    }

    /// The highest test AUC against the next one's by DeLong's paired test on the test samples
    /// both rows scored, in words (the p-value of that one pair, not adjusted for the picking);
    /// nil for fewer than two rows, for a tie at the top as printed (three decimals), or where
    /// the test cannot be made (a class with one sample, no variance).
    static func pairedLead(_ rows: [Row]) -> String? {
        let ranked = rows.filter { $0.evaluation.summary.auc != nil }.sorted { $0.evaluation.summary.auc! > $1.evaluation.summary.auc! }
        guard ranked.count > 1 else { return nil }
        let (first, next) = (ranked[0], ranked[1])
        func printed(_ row: Row) -> String { String(format: "%.3f", row.evaluation.summary.auc!) }
        guard printed(first) != printed(next) else { return nil }
        let theirs = Dictionary(next.evaluation.results.map { ($0.id, $0.tumorFraction) }) { a, _ in a }
        let shared = first.evaluation.results.filter { $0.label != nil && theirs[$0.id] != nil }
        let clusters = SegmentationEvaluation.patientGroups(shared).clusters
        guard let test = pairedAUCTest(shared.map(\.tumorFraction), shared.map { theirs[$0.id]! }, positives: shared.map { $0.label == .cancer },
                                       clusters: clusters)
        else { return nil }
        let p = test.p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", test.p)
        return "against the next, \(next.name) (\(printed(next))), DeLong's paired test on the "
            + "same test samples" + (clusters == nil ? "" : " (clustered by patient, as Obuchowski)") + " gives \(p)" + (test.p < 0.05 ? "" : ": a lead with p ≥ 0.05 is no finding")
    }

    /// "8 cancer (6 with truth), 8 cancer-free", the test samples every row was scored on, with
    /// the patients they come from where the manifest names them, and those of patients the runs
    /// trained or validated on.
    static func testCounts(_ rows: [Row]) -> String {
        guard let s = rows.first?.evaluation.summary else { return "no samples" }
        let withTruth = rows.first!.evaluation.results.filter { $0.pixel != nil && $0.label == .cancer }.count
        let leftOut = rows.first!.testLeftOut, trained = rows.first!.testOfTrainedPatients
        return "\(s.nCancer) cancer (\(withTruth) with truth), \(s.nCancerFree) cancer-free"
            + (s.nPatients.map { " from \(counted($0, "patient"))" } ?? "")
            + (leftOut > 0 ? ", \(leftOut) left out as unreadable" : "")
            + (trained > 0 ? "; \(counted(trained, "test sample")) \(trained == 1 ? "comes" : "come") from patients the runs trained or validated on: "
               + "not held out" : "")
    }

    /// The test rows of patients who have train or val rows too.
    static func testRowsOfTrainedPatients(_ manifest: Manifest) -> Int {
        let trained = Set(manifest.rows.filter { $0.split != .test }.compactMap(\.patient))
        return manifest.rows(in: .test).filter { $0.patient.map(trained.contains) ?? false }.count
    }

    /// The comparison table: its header and one row of cells per topology, for Markdown and HTML.
    func table(_ rows: [Row]) -> (header: [String], cells: [[String]]) {
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        let severalHeads = Self.headLine(rows) == nil
        let notes = rows.map(Self.note)
        // Where every test sample names a patient: the patients' AUC too.
        let byPatient = rows.contains { $0.evaluation.summary.nPatientsCancer != nil }
        let named = rows.contains { $0.group != $0.topology }  // --config's names: each row's topology beside it
        let first = seedList != nil ? "run" : named ? "entry" : "topology"  // with --seeds, NAME-seedS
        let header = (named ? [first, "topology"] : [first]) + (seedList != nil ? ["seed"] : []) + ["configuration"]
            + (severalHeads ? ["head"] : [])
            + ["parameters", "training s", "images/s", "kept epoch", "best val loss", "threshold", "test AUC [95% CI]"]
            + (byPatient ? ["patient AUC [95% CI]"] : []) + ["Dice mean ± sd", "cancer-free marked"]
            + (notes.contains { $0 != nil } ? ["notes"] : [])
        let settings = Self.distinguishingSettings(rows.map(\.configuration))
        let cells = rows.indices.map { i -> [String] in
            let (r, s) = (rows[i], rows[i].evaluation.summary)
            let names: [String] = [r.name] + (named ? [r.topology] : []) + (seedList != nil ? ["\(r.seed)"] : []) + [settings[i]]
                + (severalHeads ? ["\(r.head.identifier) \(r.head.configuration.text)"] : [])
            let auc: String = f(s.auc) + (s.aucCI.map { " [\(f($0[0], 2)), \(f($0[1], 2))]" } ?? "")
            let patientAUC: [String] = byPatient ? [f(s.patientAUC) + (s.patientAUCCI.map { " [\(f($0[0], 2)), \(f($0[1], 2))]" } ?? "")] : []
            let dice: String = s.diceMean == nil ? "–" : f(s.diceMean) + (s.diceSD.map { " ± \(f($0))" } ?? "")
            let marked: String = s.cancerFreeFractionMean.map { SegmentationEvaluation.percentText($0) } ?? "–"
            // Under a second, to the ms: a tenth would print a short run as 0.0.
            let numbers: [String] = ["\(r.parameters)", f(r.seconds, r.seconds < 1 ? 3 : 1), f(r.imagesPerSecond, 1), r.keptEpoch.map { "\($0)" } ?? "–",
                                     f(r.validationLoss.map(Double.init), 5), thresholdText(r.threshold), auc] + patientAUC + [dice, marked]
            return names + numbers + (notes.contains { $0 != nil } ? [notes[i] ?? ""] : [])
        }
        return (header, cells)
    }

    /// Per configuration, its width and depth and every other key whose value is not the same in
    /// all configurations that have it, as "width 8, depth 2, batchNorm false".
    static func distinguishingSettings(_ configurations: [JSONValue]) -> [String] {
        let objects = configurations.map { $0.objectValue ?? [:] }
        let differing = Set(objects.flatMap(\.keys)).filter { key in
            Set(objects.compactMap { $0[key]?.text }).count > 1
        }
        return objects.map { o in
            (["width", "depth"].filter { o[$0] != nil } + differing.subtracting(["width", "depth"]).filter { o[$0] != nil }.sorted())
                .map { key in "\(key) \(o[key]!.text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))" }
                .joined(separator: ", ")
        }
    }

    /// "head compsegnet {…}" when every run used one head, with its configuration; nil when they differ.
    static func headLine(_ rows: [Row]) -> String? {
        guard let head = rows.first?.head, rows.allSatisfy({ $0.head == head }) else { return nil }
        return "head \(head.identifier) \(head.configuration.text)"
    }

    /// What a reader of the table must know of a row: a collapse (its numbers are then those of a
    /// map that does not depend on the image), masks that mark most cancer-free tissue (its AUC
    /// and Dice are then those of maps that single out nothing), a threshold `auto` could not
    /// choose; nil when none.
    static func note(_ r: Row) -> String? {
        let collapse = r.keptEpochCollapsed ? "the kept epoch collapsed (\(r.collapsedEpochs) of \(r.epochs) did): its numbers are not a segmentation"
            : r.collapsedEpochs > 0 ? "\(r.collapsedEpochs) of \(r.epochs) epochs collapsed, not the kept one" : nil
        let marking = r.marksMostCancerFreeTissue ? String(format: "its masks mark %.1f%% of the cancer-free test tissue: the maps do not "
                                                          + "single out tumor", 100 * r.evaluation.summary.cancerFreeFractionMean!) : nil
        let notes = [collapse, marking, r.thresholdUnchosen].compactMap { $0 }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    func writeTables(_ rows: [Row], to folder: URL) throws {
        func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }  // unrounded: the shortest text that reads back as the value
        let (header, cells) = table(rows)
        let md = ["Trained with \(Self.headLine(rows) ?? "the head in each row") on the same data (\(fileURL(data).path)) and \(seedsLine); test split "
                  + "(\(Self.testCounts(rows))); each run's whole configuration is in its model.json, and each threshold's origin "
                  + "in report.html.", "",
                  "| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
            + cells.map { "| " + $0.map(markdownCell).joined(separator: " | ") + " |" }
            + seedTableMarkdown(rows)
        var csv = ["name,topology,seed,parameters,training_s,images_per_s,kept_epoch,val_loss,threshold,test_auc,test_auc_low,test_auc_high,"
                   + "dice_mean,dice_sd,cancer_free_fraction_mean,test_cancer,test_cancer_free,collapsed_epochs,epochs,kept_epoch_collapsed,"
                   + "head,head_configuration,configuration,test_patients,patient_auc,patient_auc_low,patient_auc_high"]
        for r in rows {
            let s = r.evaluation.summary
            csv.append(CSV.line([CSV.text(r.name), r.topology, "\(r.seed)", "\(r.parameters)", String(format: "%.3f", r.seconds), String(format: "%.2f", r.imagesPerSecond),  // a clock: to the ms
                                 r.keptEpoch.map { "\($0)" } ?? "", r.validationLoss.map { "\($0)" } ?? "", "\(r.threshold)",
                                 f(s.auc), f(s.aucCI?[0]), f(s.aucCI?[1]), f(s.diceMean), f(s.diceSD),
                                 f(s.cancerFreeFractionMean), "\(s.nCancer)",
                                 "\(s.nCancerFree)", "\(r.collapsedEpochs)", "\(r.epochs)", r.keptEpochCollapsed ? "1" : "0",
                                 r.head.identifier, r.head.configuration.text, r.configuration.text,
                                 s.nPatients.map { "\($0)" } ?? "", f(s.patientAUC), f(s.patientAUCCI?[0]), f(s.patientAUCCI?[1])]))
        }
        try writeDurably(Data((md.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("comparison.md"))
        try writeDurably(Data((csv.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("comparison.csv"))
        if seedList != nil { try writeSeedTable(rows, to: folder) }
    }
}

extension Compare.Entry {
    /// The files compare writes beside the entries' run folders.
    static let outputs = ["comparison.md", "comparison.csv", "comparison-seeds.csv", "report.html", "roc.png", "roc.svg"]

    /// A --config entry: a topology identifier, or `{name, topology, configuration, head,
    /// headConfiguration}` (name: the run folder and table row, default the topology;
    /// configuration: as given, with --width and --depth filled in by `entries`; head: default --head's).
    init(_ item: JSONValue, widthAndDepth: JSONValue, source: String) throws {
        switch item {
        case .string(let identifier):
            self.init(name: identifier, topology: identifier, configuration: widthAndDepth)
        case .object(let o):
            let known = ["configuration", "head", "headConfiguration", "name", "topology"]
            if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
                throw ConfigurationError.unknownKey(unknown, known: known, source: source)
            }
            var head: PluginDescription?
            if let h = o["head"] {
                guard case .string(let identifier) = h else {
                    throw ConfigurationError(source: source, message: "'head' must be a pooling head identifier (`compseg plugins`)")
                }
                head = PluginDescription(identifier: identifier, configuration: o["headConfiguration"] ?? [:])
            } else if o["headConfiguration"] != nil {
                throw ConfigurationError(source: source, message: "'headConfiguration' needs 'head' beside it")
            }
            if let c = o["headConfiguration"], c.objectValue == nil {
                throw ConfigurationError(source: source, message: "'headConfiguration' must be a mapping of the head's keys")
            }
            guard case .string(let topology)? = o["topology"] ?? o["name"] else {
                throw ConfigurationError(source: source, message: "needs 'topology' (an identifier from `compseg plugins`)")
            }
            var name = topology
            if let n = o["name"] {
                guard case .string(let text) = n, !text.isEmpty, !text.contains("/"), text != ".", text != ".." else {
                    throw ConfigurationError(source: source, message: "'name' must be a folder name inside --out (text without '/', "
                                             + "not '.' or '..')")
                }
                guard !Self.outputs.contains(text) else {
                    throw ConfigurationError(source: source, message: "'name' \(text) is a file compare writes into --out "
                                             + "(\(Self.outputs.joined(separator: ", "))); choose another")
                }
                name = text
            }
            guard let configuration = o["configuration"] else {
                self.init(name: name, topology: topology, configuration: widthAndDepth, head: head)
                return
            }
            guard case .object = configuration else {
                throw ConfigurationError(source: source, message: "'configuration' must be a mapping of the topology's keys")
            }
            self.init(name: name, topology: topology, configuration: configuration, head: head)
        default:
            throw ConfigurationError(source: source, message: "must be a topology identifier or a mapping with 'topology'")
        }
    }
}

/// `text` as one cell of a Markdown table: its `|` escaped and its line breaks as spaces, so that
/// an entry named "a|b" keeps its row's columns in place.
func markdownCell(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
}
