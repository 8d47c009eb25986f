import CompSegCore
import CompSegNN

/// How a network is trained; stored with every run.
public struct TrainingSettings: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, ConfigurationChoice, Sendable { case adam, rmsprop, sgd }

    public var epochs = 40
    public var batchSize = 7
    public var learningRate: Float = 1e-3
    public var optimizer = OptimizerKind.adam
    public var weightDecay: Float = 0
    /// SGD's momentum (RMSprop runs without, as in the paper); recorded only for SGD.
    public var momentum: Float = 0.9
    public var seed: UInt64 = 0
    /// Every batch holds both labels where the class counts allow (see `epochBatches`).
    public var balancedBatches = true
    /// Stop when the monitored loss has not improved by `minDelta` for this many epochs; nil: never.
    public var patience: Int? = nil
    public var minDelta: Float = 0
    /// Epochs over which the learning rate rises linearly from near 0 to `learningRate` (0: none).
    /// 3 by default: without it the paper's network (width 64, depth 4) saturated in epoch 4 on
    /// the independent phantom (docs/method.md).
    public var warmupEpochs = 3
    /// Random views of the training images each step: `dihedral` flips or rotates each image and
    /// its tissue mask by one of the square's eight symmetries (the four flips when it is not
    /// square); `none`: the images as they are. Tumor has no orientation.
    public var augmentation = Augmentation.none
    public enum Augmentation: String, ConfigurationChoice, Sendable { case none, dihedral }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize, learningRate, optimizer, weightDecay, momentum, seed, balancedBatches, patience, minDelta,
             warmupEpochs, augmentation
    }

    /// Reads what `encode` writes; a run written before a key existed gets that key's value of its
    /// day (momentum 0.9, no augmentation).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? momentum
        seed = try c.decode(UInt64.self, forKey: .seed)
        balancedBatches = try c.decode(Bool.self, forKey: .balancedBatches)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
        minDelta = try c.decode(Float.self, forKey: .minDelta)
        warmupEpochs = try c.decode(Int.self, forKey: .warmupEpochs)
        augmentation = try c.decodeIfPresent(Augmentation.self, forKey: .augmentation) ?? .none
    }

    /// Every setting that applies, `augmentation` included when `none`; `momentum` only for SGD,
    /// the one optimizer that uses it.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(weightDecay, forKey: .weightDecay)
        if optimizer == .sgd { try c.encode(momentum, forKey: .momentum) }
        try c.encode(seed, forKey: .seed)
        try c.encode(balancedBatches, forKey: .balancedBatches)
        try c.encodeIfPresent(patience, forKey: .patience)
        try c.encode(minDelta, forKey: .minDelta)
        try c.encode(warmupEpochs, forKey: .warmupEpochs)
        try c.encode(augmentation, forKey: .augmentation)
    }

    /// The paper's recipe: RMSprop, learning rate 1e-3, batch 7, batches drawn without balancing, no warm-up.
    public static var paper: TrainingSettings {
        var s = TrainingSettings()
        s.optimizer = .rmsprop; s.learningRate = 1e-3; s.batchSize = 7; s.balancedBatches = false; s.warmupEpochs = 0
        return s
    }

    /// Checks every setting's range (a resume does, before the data is prepared; segmenting needs none of them).
    /// - Parameter key: how a setting is named in the message (`model.json`'s key path, say).
    public func validate(naming key: (String) -> String = { $0 }) throws {
        func require(_ ok: Bool, _ name: String, _ expected: String, _ value: Any) throws {
            guard ok else { throw TrainingError("\(key(name)) must be \(expected), got \(value)") }
        }
        try require(epochs > 0, "epochs", "positive", epochs)
        try require(batchSize > 0, "batchSize", "positive", batchSize)
        try require(learningRate > 0 && learningRate.isFinite, "learningRate", "a positive finite number", learningRate)
        try require(weightDecay >= 0 && weightDecay.isFinite, "weightDecay", "0 or more", weightDecay)
        try require(momentum >= 0 && momentum < 1, "momentum", "0 or more and below 1", momentum)
        if let patience { try require(patience > 0, "patience", "positive", patience) }
        try require(minDelta >= 0 && minDelta.isFinite, "minDelta", "0 or more", minDelta)
        try require(warmupEpochs >= 0, "warmupEpochs", "0 or more", warmupEpochs)
    }

    func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .adam: Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .rmsprop: RMSprop(learningRate: learningRate, weightDecay: weightDecay)
        case .sgd: SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        }
    }
}

/// One epoch's outcome, as the history records it.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Float
    public var validationLoss: Float?
    public var validationAUC: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    /// Set when every training activation stayed below 1e-3 (or above 1 − 1e-3) all epoch.
    public var collapse: String?
    /// Whether this epoch's weights are the best so far (lowest monitored loss).
    public var best: Bool
    /// Set when the epoch collapsed and training restarted from the best weights, with fresh
    /// optimizer state and this (halved) learning rate.
    public var restart: Float? = nil
}
