import ArgumentParser
import CompSegNN
import CompSegTraining

/// `--threads`, for every command that runs a network.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for every pool (default: all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    /// Sets every pool's thread count when `--threads` was given.
    func apply() { if let threads { Threads.set(threads) } }
}

/// How a network is trained, for `train`, `compare` and `demo`: each option left out keeps the
/// settings it is applied over (`TrainingSettings`' defaults, or the paper's recipe).
struct TrainingOptions: ParsableArguments {
    @Option(help: "Epochs (default 40; with --resume: the total to reach).") var epochs: Int?
    @Option(help: "Images per batch (default 7).") var batch: Int?
    @Option(help: "Learning rate (default 0.001).") var lr: Float?
    @Option(help: "Optimizer: adam (default), rmsprop or sgd (the paper: rmsprop, --lr 0.001, --batch 7).")
    var optimizer: TrainingSettings.OptimizerKind?
    @Option(help: "Seed of the initial weights and the batch order (demo: of the phantom too; default 0).") var seed: UInt64?
    @Option(help: "Epochs of linear learning-rate warm-up (default 3).") var warmup: Int?

    func validate() throws {
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let batch, batch <= 0 { throw ValidationError("--batch must be positive, got \(batch)") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
    }

    /// `base` with every option given here on top.
    func settings(over base: TrainingSettings = TrainingSettings()) -> TrainingSettings {
        var s = base
        if let epochs { s.epochs = epochs }
        if let batch { s.batchSize = batch }
        if let lr { s.learningRate = lr }
        if let optimizer { s.optimizer = optimizer }
        if let seed { s.seed = seed }
        if let warmup { s.warmupEpochs = warmup }
        return s
    }

    /// The options given, by their names on the command line.
    var given: [String] {
        [("--epochs", epochs != nil), ("--batch", batch != nil), ("--lr", lr != nil), ("--optimizer", optimizer != nil),
         ("--seed", seed != nil), ("--warmup", warmup != nil)].filter(\.1).map(\.0)
    }
}

/// `--cache-mb`, for the commands that train.
struct CacheOptions: ParsableArguments {
    @Option(help: "MiB of preprocessed samples kept in memory between epochs (default \(SampleStore.defaultCacheBudget >> 20)); the others are read from their files for every batch. 0 keeps at most the current batch in memory.")
    var cacheMb: Int?

    func validate() throws {
        if let cacheMb, cacheMb < 0 { throw ValidationError("--cache-mb must be 0 or more, got \(cacheMb)") }
    }

    var bytes: Int { cacheMb.map { $0 << 20 } ?? SampleStore.defaultCacheBudget }
}

extension TrainingSettings.OptimizerKind: ExpressibleByArgument {}
