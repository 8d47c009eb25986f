import ArgumentParser
import CompSegCore
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
            loss), history.csv and checkpoint.safetensors. Ctrl-C stops after the current step; \
            --resume RUN continues from the last completed epoch.
            """)

    @Option(help: "Modality: a manifest in modalities/ by name (e.g. infrared), a manifest file (lab.yaml), or a reader plugin (see `compseg plugins`).") var modality: String?
    @Option(help: "Topology identifier.") var topology = "unet"
    @Option(help: "Pooling head identifier.") var head = "compsegnet"
    @Option(help: "Dataset manifest CSV.") var data: String?
    @Option(help: "Run folder to create.") var out: String?
    @Option(help: "Continue the run in this folder from its last completed epoch.") var resume: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Images per batch.") var batch: Int?
    @Option(help: "Learning rate.") var lr: Float?
    @Option(help: "Optimizer: adam, rmsprop or sgd (the paper: rmsprop, --lr 0.001, --batch 7).") var optimizer: String?
    @Option(help: "Seed of initial weights and batch order.") var seed: UInt64?
    @Option(help: "Network base width.") var width: Int?
    @Option(help: "Network pooling steps.") var depth: Int?
    @Option(help: "Stop after this many epochs without improvement.") var patience: Int?
    @Option(help: "Epochs of linear learning-rate warm-up (default 0).") var warmup: Int?
    @Option(help: "Threads for every pool (default: all cores).") var threads: Int?
    @Option(help: "MiB of preprocessed samples kept in memory between epochs (default \(SampleStore.defaultCacheBudget >> 20)); the others are read from their files for every batch. 0 keeps at most the current batch in memory.")
    var cacheMb: Int?
    @Flag(help: "Start from the paper's recipe (RMSprop, learning rate 0.001, batch 7, unbalanced batches); options given here override it.")
    var paperRecipe = false
    @Option(help: "Settings file (YAML or JSON): any option above by name, and sections modalityConfiguration, topologyConfiguration and headConfiguration; options given here override it.")
    var config: String?

    /// The settings a `--config` file may hold: the options by name, plus plugin sections.
    struct File: Codable {
        var modality, topology, head, data, out, optimizer: String?
        var epochs, batch, width, depth, patience, threads, warmup, cacheMb: Int?
        var lr, weightDecay, minDelta: Float?
        var seed: UInt64?
        var balancedBatches: Bool?
        var modalityConfiguration, topologyConfiguration, headConfiguration: JSONValue?
    }

    /// Fills options the command line left out from the `--config` file; returns the file's settings.
    mutating func applyConfigurationFile() throws -> File? {
        guard let config else { return nil }
        let f = try ConfigurationFile.read(URL(fileURLWithPath: config)).decode(File.self)
        modality = modality ?? f.modality; data = data ?? f.data; out = out ?? f.out
        if let t = f.topology, !commandLineNamed("topology") { topology = t }
        if let h = f.head, !commandLineNamed("head") { head = h }
        optimizer = optimizer ?? f.optimizer; epochs = epochs ?? f.epochs; batch = batch ?? f.batch
        width = width ?? f.width; depth = depth ?? f.depth; patience = patience ?? f.patience
        threads = threads ?? f.threads; cacheMb = cacheMb ?? f.cacheMb; lr = lr ?? f.lr; seed = seed ?? f.seed; warmup = warmup ?? f.warmup
        return f
    }

    private func commandLineNamed(_ name: String) -> Bool { CommandLine.arguments.contains("--\(name)") }

    func validate() throws {
        if resume == nil && config == nil {
            guard modality != nil, data != nil, out != nil else {
                throw ValidationError("--modality, --data and --out are required (or --config FILE, or --resume RUN)")
            }
        }
        if let c = cacheMb, c < 0 { throw ValidationError("--cache-mb must be 0 or more, got \(c)") }
        if let o = optimizer, TrainingSettings.OptimizerKind(rawValue: o) == nil {
            throw ValidationError("--optimizer must be adam, rmsprop or sgd, got \(o)")
        }
    }

    func run() throws {
        var command = self
        let file = try command.applyConfigurationFile()
        if command.resume == nil {
            guard command.modality != nil, command.data != nil, command.out != nil else {
                throw ValidationError("modality, data and out are required, by option or in \(config ?? "--config")")
            }
        }
        try command.train(file)
    }

    private func train(_ file: File?) throws {
        if let threads { Threads.set(threads) }
        let registry = try builtinRegistry()
        let cacheBudget = cacheMb.map { $0 << 20 } ?? SampleStore.defaultCacheBudget
        let session = try resume.map {
            try TrainingSession(resuming: $0, dataOverride: data, epochs: epochs, cacheBudget: cacheBudget, registry: registry)
        }
            ?? TrainingSession(new: self, file: file, cacheBudget: cacheBudget, registry: registry)
        let stop = InterruptFlag.install()
        let finished = try session.run(shouldStop: { stop.isSet })
        if !finished {
            print("Interrupted. The last completed epoch is saved; continue with: compseg train --resume \(session.run.url.path)")
            throw ExitCode(130)
        }
        let best = session.trainer.best.map { "epoch \($0.epoch) (monitored loss \($0.loss))" } ?? "none"
        print("Done. Best \(best); weights in \(session.run.weightsFile.path)")
    }

    func settings(_ file: File?) -> TrainingSettings {
        var s = paperRecipe ? TrainingSettings.paper : TrainingSettings()
        if let epochs { s.epochs = epochs }
        if let batch { s.batchSize = batch }
        if let lr { s.learningRate = lr }
        if let o = optimizer.flatMap(TrainingSettings.OptimizerKind.init) { s.optimizer = o }
        if let seed { s.seed = seed }
        if let patience { s.patience = patience }
        if let warmup { s.warmupEpochs = warmup }
        if let w = file?.weightDecay { s.weightDecay = w }
        if let d = file?.minDelta { s.minDelta = d }
        if let b = file?.balancedBatches { s.balancedBatches = b }
        return s
    }

    /// The topology's configuration: the file's section, with --width and --depth on top.
    func topologyConfiguration(_ file: File?) throws -> String {
        var section: [String: JSONValue] = [:]
        if case .object(let o)? = file?.topologyConfiguration { section = o }
        if let width { section["width"] = .number(Double(width)) }
        if let depth { section["depth"] = .number(Double(depth)) }
        return try Self.json(.object(section))
    }

    func headConfiguration(_ file: File?) throws -> String { try Self.json(file?.headConfiguration ?? .object([:])) }

    /// The manifest's reader options with the settings file's `modalityConfiguration` on top.
    func mergedOptions(_ options: String, _ overrides: JSONValue) throws -> String {
        var merged: [String: JSONValue] = [:]
        if case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: Data(options.utf8)) { merged = o }
        guard case .object(let o) = overrides else {
            throw ConfigurationError(source: config ?? "--config", message: "key 'modalityConfiguration' must be a mapping")
        }
        merged.merge(o) { _, new in new }
        return try Self.json(.object(merged))
    }

    static func json(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Everything one training run needs, new or resumed.
final class TrainingSession {
    let run: RunDirectory
    let trainer: Trainer
    let model: ModelDescription
    let train: SampleStore, validation: SampleStore

    /// A new run of `model` in `run`, which must not hold one yet.
    init(run: RunDirectory, model: ModelDescription, train: SampleStore, validation: SampleStore, registry: Registry) throws {
        if FileManager.default.fileExists(atPath: run.modelFile.path) {
            throw TrainingError("\(run.url.path) already holds a run; continue it with --resume \(run.url.path) "
                                + "or choose another --out")
        }
        self.run = run
        self.model = model
        self.train = train
        self.validation = validation
        trainer = try Self.trainer(model, registry)
        try run.create()
        try run.writeModel(model)
    }

    convenience init(new command: Train, file: Train.File?, cacheBudget: Int, registry: Registry) throws {
        let run = RunDirectory(URL(fileURLWithPath: command.out!))
        if FileManager.default.fileExists(atPath: run.modelFile.path) {
            throw TrainingError("\(run.url.path) already holds a run; continue it with --resume \(run.url.path) "
                                + "or choose another --out")
        }
        let manifest = try Manifest(contentsOf: URL(fileURLWithPath: command.data!))
        var modalityManifest = try resolveModality(command.modality!, registry: registry)
        if let options = file?.modalityConfiguration {
            modalityManifest.options = try command.mergedOptions(modalityManifest.options, options)
        }
        let trainRows = manifest.rows(in: .train)
        guard !trainRows.isEmpty else { throw TrainingError("\(manifest.url.path): no row has split train") }
        let started = DispatchTime.now().uptimeNanoseconds
        let modality = try PreparedModality(modalityManifest, registry: registry).fitted(on: trainRows, manifest: manifest)
        let (train, validation) = try Self.load(manifest, modality, cacheBudget: cacheBudget)
        Self.reportPreparation(modality.clock, train: train, validation: validation, since: started)
        var model = ModelDescription(
            modality: nil,
            topology: .init(identifier: command.topology, configuration: try command.topologyConfiguration(file)),
            head: .init(identifier: command.head, configuration: try command.headConfiguration(file)),
            inputChannels: train.shape![0], training: command.settings(file),
            versions: ["compseg": CompSegVersion.string, "oneDNN": CPUBackend.oneDNNVersion, "manifest": manifest.url.path])
        model.record(modality)
        try self.init(run: run, model: model, train: train, validation: validation, registry: registry)
    }

    init(resuming path: String, dataOverride: String?, epochs: Int?, cacheBudget: Int, registry: Registry) throws {
        run = RunDirectory(URL(fileURLWithPath: path))
        var model = try run.readModel()
        if let epochs { model.training.epochs = epochs }
        guard let manifestPath = dataOverride ?? model.versions["manifest"] else {
            throw TrainingError("\(run.modelFile.path) names no manifest; pass --data")
        }
        let manifest = try Manifest(contentsOf: URL(fileURLWithPath: manifestPath))
        let started = DispatchTime.now().uptimeNanoseconds
        let modality = try model.preparedModality(registry: registry, file: run.modelFile.path)
        (train, validation) = try Self.load(manifest, modality, cacheBudget: cacheBudget)
        Self.reportPreparation(modality.clock, train: train, validation: validation, since: started)
        self.model = model
        trainer = try Self.trainer(model, registry)
        try trainer.restore(TrainingCheckpoint(contentsOf: run.checkpointFile))
        try run.writeModel(model)
    }

    /// One line: where the time before training went.
    static func reportPreparation(_ clock: PreparationClock, train: SampleStore, validation: SampleStore, since start: UInt64) {
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let t = clock.seconds
        let fitting = t.fitting > 0 ? String(format: "fitting the preprocessing %.1f s, ", t.fitting) : ""
        print("Prepared \(train.count) training and \(validation.count) validation samples in "
              + String(format: "%.1f s (", total) + fitting
              + String(format: "reading files %.1f s and preprocessing %.1f s, summed over %d threads)", t.reading, t.steps, Threads.count))
    }

    /// The training and validation splits as stores sharing `cacheBudget` bytes, training first.
    static func load(_ manifest: Manifest, _ modality: PreparedModality, cacheBudget: Int) throws -> (SampleStore, SampleStore) {
        let trainRows = manifest.rows(in: .train), validationRows = manifest.rows(in: .val)
        guard !trainRows.isEmpty else { throw TrainingError("\(manifest.url.path): no row has split train") }
        let train = try modality.store(trainRows, manifest: manifest, cacheBudget: cacheBudget)
        let validation = try modality.store(validationRows, manifest: manifest, cacheBudget: cacheBudget - train.cachedBytes)
        if let a = train.shape, let b = validation.shape, a != b {
            throw ManifestError(file: manifest.url.path, problems: [
                "validation samples are \(b) (channels×height×width) after preprocessing but training samples are \(a); "
                + "every sample must have the same channels and size"])
        }
        return (train, validation)
    }

    static func trainer(_ model: ModelDescription, _ registry: Registry) throws -> Trainer {
        let network = try registry.topology(model.topology.identifier, inputChannels: model.inputChannels,
                                            seed: model.training.seed, model.topology.pluginConfiguration)
        let head = try registry.head(model.head.identifier, model.head.pluginConfiguration)
        return try Trainer(network: network, head: head, settings: model.training)
    }

    /// Trains, saving the checkpoint, history, best weights and model after every epoch.
    func run(shouldStop: () -> Bool) throws -> Bool {
        let progress = ProgressReporter(epochs: model.training.epochs, images: train.count)
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
            print(String(format: "Trained to epoch %d in %.1f s", trainer.history.count, seconds))
        }
        var saveError: Error?
        let finished = try trainer.run(train: train, validation: validation, progress: { record in
            progress.finish(record)
            do {
                try trainer.checkpoint().write(to: run.checkpointFile)
                try run.writeHistory(trainer.history)
                if record.best, let best = trainer.best {
                    try run.writeWeights(best.weights, metadata: ["epoch": "\(best.epoch)", "format": "pt"])
                    var m = model
                    m.bestEpoch = best.epoch
                    try run.writeModel(m)
                }
            } catch { saveError = error }
        }, step: { k, n in progress.step(epoch: trainer.history.count + 1, k, of: n) }, shouldStop: {
            shouldStop() || saveError != nil
        })
        if let saveError { throw saveError }
        return finished
    }
}
