import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// One training run in its folder, new or reopened, trained epoch by epoch with one commit point
/// per epoch: `checkpoint.safetensors` (the network, optimizer state, best weights and history)
/// is written durably and atomically first; `weights.safetensors`, `model.json`, `history.csv` and
/// the training curves (`curves.png`, `curves.svg`) follow from it and are rewritten from it whenever the run is reopened. A kill at any instant
/// therefore leaves the previous epoch or the new one, and `--resume` continues from whichever it is.
public final class TrainingRun {
    public let folder: RunDirectory
    public let trainer: Trainer
    public private(set) var model: RunConfiguration
    public let train: SampleStore, validation: SampleStore
    /// Held while this run exists: a second process training the same folder is refused.
    private var lock: FolderLock?

    /// A new run of `model` in `folder`, its `model.json` written before any epoch. A folder whose
    /// run completed an epoch is refused; one that holds only the `model.json` of a run stopped
    /// before its first epoch is started again.
    /// - Throws: `TrainingError` when the folder holds a run, or the topology or head cannot be built.
    /// - Parameter lock: the folder's lock where the caller took it already (`lockForTraining`), else taken here.
    /// - Parameter initial: the weights the network starts from, those of the run `model.initialWeights`
    ///   names (nil: the topology's initializer).
    public init(creating folder: RunDirectory, model: RunConfiguration, train: SampleStore, validation: SampleStore,
                registry: Registry, lock: FolderLock? = nil, initial: [String: Tensor]? = nil) throws {
        try Self.requireRoom(in: folder)
        self.folder = folder
        self.train = train
        self.validation = validation
        trainer = try Self.trainer(model, registry)
        if let initial { try Self.start(trainer, from: initial, model: model) }
        // The settings in effect, defaults included, where the plugins tell them.
        var model = model
        if model.inputAxis == nil, train.count > 0 { model.inputAxis = try train.sample(0).channels }
        if model.inputRange == nil { model.inputRange = try train.inputRange ?? InputRange(measuring: train) }
        // Plugins by identifier, not by the alias given: a run outlives a renamed alias.
        model.topology.identifier = try registry.topologies.factory(model.topology.identifier).0.identifier
        model.head.identifier = try registry.heads.factory(model.head.identifier).0.identifier
        if var modality = model.modality {
            modality.reader = try registry.modalities.factory(modality.reader).0.identifier
            for i in modality.preprocessing.indices {
                modality.preprocessing[i].identifier = try registry.transforms.factory(modality.preprocessing[i].identifier).0.identifier
            }
            // The reader's settings in effect, defaults included, so that a later default does not change the run
            // (the options as given where the reader cannot be made here: it was, to read the data).
            if let reader = (try? registry.modality(modality.reader, PluginConfiguration(json: modality.options.data)))
                as? any ReportsConfiguration, let value = reader.configurationValue {
                modality.options = value
            }
            model.modality = modality
        }
        if let value = (trainer.network as? any ReportsConfiguration)?.configurationValue { model.topology.configuration = value }
        if let value = (trainer.head as? any ReportsConfiguration)?.configurationValue { model.head.configuration = value }
        self.model = model
        try Self.requireStepMemory(model, train: train, registry: registry)
        try DiskSpace.require(trainer, in: folder)
        try folder.create()
        self.lock = try lock ?? FolderLock(folder.url, holder: Self.lockHolder)
        removeLeftoverTemporaries(in: folder.url)
        try folder.writeModel(model)
    }

    /// Throws `MemoryShortage` where a training step of `model` on a batch of `train`'s largest
    /// images would not fit in memory, measured on a throwaway network (`StepMemory`).
    public static func requireStepMemory(_ model: RunConfiguration, train: SampleStore, registry: Registry) throws {
        try StepMemory.require(model, train: train, registry: registry)
    }

    /// What a process holding a run folder's lock does, for the refusal of another.
    public static let lockHolder = "training this run"

    /// Reopens the run in `folder` as `model` (its `model.json`, possibly with more epochs or
    /// another patience): removes temporary files a kill left behind, restores the last committed
    /// epoch (none: training starts from the first), and rewrites the files that follow from it.
    public init(resuming folder: RunDirectory, model: RunConfiguration, train: SampleStore, validation: SampleStore,
                registry: Registry, lock: FolderLock? = nil) throws {
        self.folder = folder
        self.model = model
        self.train = train
        self.validation = validation
        try model.requirePlugins(registry, file: folder.modelFile.path)
        trainer = try Self.trainer(model, registry)
        self.lock = try lock ?? FolderLock(folder.url, holder: Self.lockHolder)
        removeLeftoverTemporaries(in: folder.url)
        if let checkpoint = try Self.lastCheckpoint(of: folder) {
            try Self.requireSettings(model, of: checkpoint, in: folder)
            if let rows = checkpoint.rows, let recorded = model.rows?.identity, rows != recorded {
                throw TrainingError("\(folder.checkpointFile.path): its epochs learned from other train and val rows than "
                                    + "\(folder.modelFile.lastPathComponent) records (their names, labels and pixels); was the checkpoint "
                                    + "copied from another run? Put the run's own back, or train anew")
            }
            do { try trainer.restore(checkpoint) } catch let error as ShapeError {
                throw TrainingError("\(folder.checkpointFile.path): does not fit the network \(folder.modelFile.lastPathComponent) "
                                    + "describes (\(error)); was model.json edited, or the checkpoint copied from another run?")
            }
        } else if let initial = model.initialWeights {  // stopped before its first epoch: it starts where it began
            try Self.start(trainer, from: try initial.weights(), model: model)
        }
        guard trainer.history.count <= model.training.epochs else {
            throw TrainingError("\(folder.url.path) already completed \(trainer.history.count) epochs, more than the "
                                + "\(model.training.epochs) asked for")
        }
        if trainer.history.count < model.training.epochs, !trainer.patienceRanOut {
            try Self.requireStepMemory(model, train: train, registry: registry)
            try DiskSpace.require(trainer, in: folder)
        }
        committedEpochs = trainer.history.count
        // No epoch committed yet: only model.json, so that a kill now leaves a run stopped before its first epoch.
        if trainer.history.isEmpty { try folder.writeModel(model) } else { try writeEpochFiles(weights: true) }
    }

    /// Throws unless `folder` can take a new run: it is new or empty, or holds only what a run
    /// stopped before its first epoch left (its `model.json`, temporary files) and the files this
    /// process writes its output to (`compseg train --out run > run/train.log`), so that no file
    /// of a user's is written over. A folder with a run says how to continue it.
    public static func requireRoom(in folder: RunDirectory) throws {
        let path = folder.url.path
        if FileManager.default.fileExists(atPath: folder.checkpointFile.path) {
            throw TrainingError("\(path) already holds a run; continue it with --resume \(shellWord(path)) or choose another --out")
        }
        let stoppedRun = (try? folder.readModel()) != nil
        let others = try folderEntries(folder.url).filter { name in
            !isNoRunsFile(name, in: folder) && !(name == folder.modelFile.lastPathComponent && stoppedRun)
        }
        guard others.isEmpty else {
            throw TrainingError("\(path): already holds \(entriesSummary(others)) and no run; "
                                + "choose a new or empty --out (nothing is overwritten)")
        }
    }

    /// Whether the entry `name` of a run folder is none of a run's files: a temporary file an
    /// interrupted write left, or a log (`isLogFile`: `> run/train.log`, a job's `slurm-1234.out`).
    public static func isNoRunsFile(_ name: String, in folder: RunDirectory) -> Bool {
        isLeftoverTemporary(name) || isLogFile(name, in: folder.url)
    }

    /// Makes the run folder (where it is not there) and checks, before the data are read and
    /// prepared (minutes at the paper's scale), that it can be written and that no other compseg
    /// trains in it now; returns its lock, to be held through the preparation and handed to the run.
    /// `resuming`: the folder holds a run already (one received read-only, say), which another
    /// --out cannot continue.
    /// - Throws: `IOError` naming the folder and why not.
    public static func lockForTraining(_ folder: RunDirectory, resuming: Bool = false) throws -> FolderLock {
        try createWritableFolder(folder.url, remedy: resuming
                                 ? "copy the run to a folder you may write (cp -r \(shellWord(folder.url.path)) NEW) and resume the copy, or mend its permissions"
                                 : "choose another --out, or mend its permissions")
        return try FolderLock(folder.url, holder: lockHolder)
    }

    /// The run's last committed epoch (`checkpoint.safetensors`), read and checked: nil where no
    /// epoch was committed.
    /// - Throws: `TrainingError` when the checkpoint cannot be read, or is missing though trained
    ///   epochs' files are there (starting over would write over their weights).
    public static func lastCheckpoint(of folder: RunDirectory) throws -> TrainingCheckpoint? {
        let file = folder.checkpointFile
        if FileManager.default.fileExists(atPath: file.path) {
            do { return try TrainingCheckpoint(contentsOf: file) } catch {
                throw TrainingError("\(file.path): the run's last epoch cannot be read (\(error)), so the run cannot continue; "
                                    + "train anew into another --out (nothing was changed)")
            }
        }
        if let trained = [folder.weightsFile, folder.historyFile].first(where: { FileManager.default.fileExists(atPath: $0.path) }),
           trained != folder.historyFile || !((try? folder.readHistory())?.isEmpty ?? false) {
            throw TrainingError("\(file.path) is missing, though \(trained.lastPathComponent) is there: the run "
                                + "cannot continue from its last epoch; put the checkpoint back, or train anew into another --out "
                                + "(nothing was changed)")
        }
        return nil
    }

    /// Writes again, from `checkpoint`, the files of a finished run that are missing (the kept
    /// weights, the history, its curves: both figures where either is missing), and the kept
    /// weights where they no longer read as the checkpoint's (cut short or damaged), leaving
    /// `model.json` and every other file as it is; returns the names written, with why where
    /// damaged. The caller holds the folder's lock.
    public static func restoreMissingFiles(of folder: RunDirectory, from checkpoint: TrainingCheckpoint) throws -> [String] {
        func missing(_ url: URL) -> Bool { !FileManager.default.fileExists(atPath: url.path) }
        var written: [String] = []
        if let best = checkpoint.best {
            let name = folder.weightsFile.lastPathComponent
            var damage: String?
            if !missing(folder.weightsFile) {
                do {
                    let kept = try folder.readWeights()
                    func same(_ a: Tensor?, _ b: Tensor) -> Bool {  // bit for bit (NaN included), shape and all
                        a?.shape == b.shape && a?.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)
                    }
                    if kept.keys.sorted() != best.weights.keys.sorted() || best.weights.contains(where: { !same(kept[$0.key], $0.value) }) {
                        damage = "its tensors were not the kept epoch's"
                    }
                } catch { damage = "it could not be read: \(error)" }
            }
            if missing(folder.weightsFile) || damage != nil {
                try folder.writeKeptWeights(best.weights, epoch: best.epoch)
                written.append(name + (damage.map { " (\($0))" } ?? ""))
            }
        }
        if missing(folder.historyFile) {
            try folder.writeHistory(checkpoint.history)
            written.append(folder.historyFile.lastPathComponent)
        }
        if missing(folder.curvesFile) || missing(folder.curvesSVGFile) {
            try folder.writeCurves(checkpoint.history)
            written.append("\(folder.curvesFile.lastPathComponent) and \(folder.curvesSVGFile.lastPathComponent)")
        }
        return written
    }

    /// Throws unless `model`'s topology, head and training settings (model.json's) are those
    /// `checkpoint`'s epochs ran with, naming each that differs.
    public static func requireSettings(_ model: RunConfiguration, of checkpoint: TrainingCheckpoint, in folder: RunDirectory) throws {
        if let then = checkpoint.plugins, case let edited = differences(plugins(of: model), from: then), !edited.isEmpty {
            throw TrainingError("\(folder.modelFile.path): its topology and head are not those the epochs of "
                                + "\(folder.checkpointFile.lastPathComponent) ran with: " + edited.joined(separator: ", ") + "; was model.json "
                                + "edited, or the checkpoint copied from another run? Put them back, or train anew with another --out to change them")
        }
        let edited = settingsEdited(model.training, since: checkpoint)
        guard edited.isEmpty else {
            throw TrainingError("\(folder.modelFile.path): its training settings are not those its epochs ran with ("
                                + edited.joined(separator: ", ") + ") in \(folder.checkpointFile.lastPathComponent); was model.json "
                                + "edited, or the checkpoint copied from another run? Put them back, or train anew with another --out to change them")
        }
    }

    /// The run's topology and head as a checkpoint records them.
    static func plugins(of model: RunConfiguration) -> JSONValue? {
        try? JSONValue(encoding: ["topology": model.topology, "head": model.head])
    }

    /// The keys of `now` (`plugins(of:)`) whose values differ from `then`'s, as "head.configuration.alpha 0.3 (the
    /// checkpoint's: 0.1)", at any depth; keys only one of them holds are not compared (another version's defaults).
    static func differences(_ now: JSONValue?, from then: JSONValue, prefix: String = "") -> [String] {
        guard let now else { return [] }
        if let a = now.objectValue, let b = then.objectValue {
            return a.keys.sorted().filter { b[$0] != nil }.flatMap { differences(a[$0], from: b[$0]!, prefix: prefix + $0 + ".") }
        }
        return now == then ? [] : ["\(prefix.dropLast()) \(now.plain) (the checkpoint's: \(then.plain))"]
    }

    /// The training settings in `model` other than those `checkpoint`'s epochs ran with, as "key
    /// value (the checkpoint's: value)": epochs and patience aside (a resume may change them), and
    /// none for a checkpoint that kept no settings.
    static func settingsEdited(_ model: TrainingSettings, since checkpoint: TrainingCheckpoint) -> [String] {
        guard let then = checkpoint.settings?.objectValue,
              let now = try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(model)).objectValue else { return [] }
        // The keys both know: a checkpoint of an older or newer version may lack some, or hold others.
        return then.keys.sorted().filter { !["epochs", "patience"].contains($0) }.compactMap { key in
            guard let given = now[key], given != then[key] else { return nil }
            return "\(key) \(given.plain) (the checkpoint's: \(then[key]!.plain))"
        }
    }

    /// `trainer`'s network set to `weights`, those of the run `model.initialWeights` names.
    static func start(_ trainer: Trainer, from weights: [String: Tensor], model: RunConfiguration) throws {
        do { try trainer.network.load(weights) } catch {
            let run = model.initialWeights.map { RunDirectory(URL(fileURLWithPath: $0.run)) }
            throw TrainingError("\(run?.weightsFile.path ?? "the initial weights"): do not fit the \(model.topology.identifier) network that "
                                + "\(run?.modelFile.path ?? "model.json") describes (\(error)); was one of them edited or replaced?")
        }
    }

    /// The number of completed epochs.
    public var completedEpochs: Int { trainer.history.count }
    /// The epochs the checkpoint on disk holds (those a resume continues after): `completedEpochs`
    /// but for one whose checkpoint could not be written (a full disk).
    public private(set) var committedEpochs = 0

    public static func trainer(_ model: RunConfiguration, _ registry: Registry) throws -> Trainer {
        let network = try registry.topology(model.topology.identifier, inputChannels: model.inputChannels,
                                            seed: model.training.seed,
                                            model.topology.pluginConfiguration(source: "model.json: topology"))
        let head = try registry.head(model.head.identifier, model.head.pluginConfiguration(source: "model.json: head"))
        return try Trainer(network: network, head: head, settings: model.training, topologyName: model.topology.identifier,
                           headName: model.head.identifier)
    }

    /// Throws unless `manifest` has training rows of both labels (the method learns from their
    /// difference): checked before anything is fitted or read.
    public static func requireTrainingRows(_ manifest: Manifest) throws {
        let trainRows = manifest.rows(in: .train)
        guard !trainRows.isEmpty else { throw TrainingError("\(manifest.url.path): no row has split train") }
        let cancer = trainRows.filter { $0.label == .cancer }.count
        guard cancer > 0, cancer < trainRows.count else {
            throw TrainingError("\(manifest.url.path): every one of the \(trainRows.count) training rows is "
                                + "\(cancer > 0 ? "cancer" : "cancer-free"); the method learns from the difference between "
                                + "cancer and cancer-free samples, so the train split needs both labels")
        }
    }

    /// The training and validation rows of `manifest` as stores sharing `cacheBudget` bytes, training first.
    /// - Throws: when the manifest has no training row or training rows of one label only, a row
    ///   is bad, or the splits' shapes differ.
    public static func stores(_ manifest: Manifest, _ modality: PreparedModality, cacheBudget: Int) throws
        -> (train: SampleStore, validation: SampleStore) {
        try requireTrainingRows(manifest)
        let trainRows = manifest.rows(in: .train), validationRows = manifest.rows(in: .val)
        // Validation samples are held to the first training sample, and every problem of both is named at once.
        let (train, trainProblems, first) = try modality.checkedStore(trainRows, cacheBudget: cacheBudget, measuringInputs: true,
                                                                      digesting: true)
        let (validation, validationProblems, _) = try modality.checkedStore(validationRows, like: first,
                                                                             cacheBudget: cacheBudget - train.cachedBytes, digesting: true)
        let problems = (trainProblems + validationProblems).sorted { $0.line < $1.line }.map(\.message)
        guard problems.isEmpty else { throw ManifestError(file: manifest.url.path, problems: problems) }
        return (train, validation)
    }

    /// Trains the remaining epochs, committing each as it ends.
    /// - Returns: whether all epochs ran (false: `shouldStop` stopped it between steps; the last
    ///   completed epoch is committed).
    public func run(progress: (EpochRecord) -> Void = { _ in }, step: (Int, Int) -> Void = { _, _ in },
                    shouldStop: () -> Bool = { false }) throws -> Bool {
        var saveError: Error?
        let finished = try trainer.run(train: train, validation: validation, progress: { record in
            progress(record)
            do {
                var checkpoint = trainer.checkpoint()
                checkpoint.rows = model.rows?.identity
                checkpoint.plugins = Self.plugins(of: model)
                try checkpoint.write(to: folder.checkpointFile)  // the commit point
                committedEpochs = trainer.history.count
                try writeEpochFiles(weights: record.best)
            } catch { saveError = error }
        }, step: step, shouldStop: { shouldStop() || saveError != nil })
        if let saveError { throw saveError }
        return finished
    }

    /// The files that follow from the committed epoch: the best weights (when `weights`), the
    /// model with its best epoch, the history and its curves.
    private func writeEpochFiles(weights: Bool) throws {
        if weights, let best = trainer.best {
            try folder.writeKeptWeights(best.weights, epoch: best.epoch)
            model.weightsChecksum = Safetensors(tensors: best.weights).tensorsChecksum
        }
        model.bestEpoch = trainer.best?.epoch
        model.threshold = nil  // chosen for the final weights, after training
        try folder.writeModel(model)
        try folder.writeHistory(trainer.history)
        try folder.writeCurves(trainer.history)
    }

    /// Chooses the mask threshold of the kept weights on the validation split, as `evaluate
    /// --threshold auto` does (the best mean Dice where its cancer samples have truth, else
    /// Youden's J), and records it in `model.json` for `segment`, `overlay` and `evaluate`.
    /// - Parameter truth: the truth masks of the validation samples it is given, by id.
    /// - Returns: the choice; nil where the split cannot tell (no samples, no truth and one class).
    ///   An uninformative choice (every threshold scored nothing) is returned but not recorded.
    /// - Parameter maps: given the validation samples and their maps (for checks of the maps themselves).
    public func chooseThreshold(registry: Registry, truth: ([Sample]) throws -> [String: [Bool]],
                                maps inspect: ([Sample], [[Float]]) -> Void = { _, _ in }) throws
        -> SegmentationEvaluation.ThresholdChoice? {
        guard validation.count > 0, trainer.best != nil else { return nil }
        let (samples, maps) = try TrainedModel(run: folder, registry: registry).segmented(validation)
        inspect(samples, maps)
        guard let choice = SegmentationEvaluation.bestThreshold(samples: samples, maps: maps, truth: try truth(samples)) else { return nil }
        if !choice.uninformative {
            model.threshold = RunThreshold(value: choice.threshold, origin: "chosen on the \(samples.count) validation sample\(samples.count == 1 ? "" : "s") after "
                                           + "training by \(choice.reason)")
            try folder.writeModel(model)
        }
        return choice
    }
}
