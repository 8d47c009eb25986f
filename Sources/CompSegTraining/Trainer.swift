import CompSegCore
import CompSegNN
import Foundation

/// Trains a segmenting network through a pooling head from image-level labels: batches
/// reshuffled each epoch from the seed, validation loss and AUC of the pooled score each epoch,
/// the weights of the lowest validation loss kept (training loss when there is no validation
/// split), optional early stopping, and collapse detection: an epoch that ends collapsed (its
/// maps saturated, or at the all-dark loss with validation images ranked by chance) restarts
/// training from the best weights so far, with fresh optimizer state and half the learning rate
/// (at most `maximumRestarts` times), so one step into a saturated map does not end the run.
public final class Trainer {
    public let network: any SegmentingNetwork
    public let head: any PoolingHead
    public let settings: TrainingSettings
    public let optimizer: Optimizer
    public private(set) var history: [EpochRecord] = []
    /// The best epoch so far, its monitored loss and a copy of its weights.
    public private(set) var best: (epoch: Int, loss: Float, weights: [String: Tensor])?

    /// What every step checks of the network's maps and the head's loss and scores.
    let contracts: PluginContracts

    /// - Parameters:
    ///   - topologyName: the topology's identifier, which a map that breaks its contract is told
    ///     by (nil: the network's type name).
    ///   - headName: the same for the head.
    public init(network: any SegmentingNetwork, head: any PoolingHead, settings: TrainingSettings,
                topologyName: String? = nil, headName: String? = nil) throws {
        try settings.validate()
        self.network = network
        self.head = head
        self.settings = settings
        optimizer = settings.makeOptimizer()
        contracts = PluginContracts(topology: topologyName ?? "\(type(of: network))", head: headName ?? "\(type(of: head))")
    }

    /// Whether the monitored loss has not improved on the best epoch's for `settings.patience`
    /// epochs: training ends there, also when resumed.
    public var patienceRanOut: Bool {
        guard let patience = settings.patience, let best else { return false }
        return history.count - best.epoch >= patience
    }

    /// Runs epochs `history.count + 1 … settings.epochs`; calls `progress` after each and stops
    /// early when `shouldStop` says so (checked between steps) or patience runs out. Leaves the
    /// network holding the best weights.
    /// - Returns: whether all epochs ran (false: stopped by `shouldStop`).
    @discardableResult
    public func run(train: SampleStore, validation: SampleStore, progress: (EpochRecord) -> Void = { _ in },
                    step: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> Bool {
        guard train.count > 0 else { throw TrainingError("the training split is empty") }
        let labels = try zip(train.ids, train.labels).map { id, label -> SampleLabel in
            guard let label else { throw TrainingError("training sample \(id) has no label") }
            return label
        }
        while history.count < settings.epochs {
            // Patience that ran out ends the run, also one resumed after it did (no epoch more).
            if patienceRanOut { break }
            let epoch = history.count + 1
            let start = DispatchTime.now().uptimeNanoseconds
            network.setTraining(true)
            let batches = epochBatches(labels: labels, size: settings.batchSize, seed: settings.seed, epoch: epoch,
                                       balanced: settings.balancedBatches)
            var lossSum = 0.0, extremeSums = (dark: 0.0, lit: 0.0), images = 0
            // Warm-up counts from the start, or from the last restart (its optimizer state is fresh too).
            let warmupStart = history.last(where: { $0.restart != nil })?.epoch ?? 0
            var lowest = Float.infinity, highest = -Float.infinity
            for (k, indices) in batches.enumerated() {
                if shouldStop() { return false }
                let warmup = settings.warmupEpochs == 0 ? 1
                    : min(1, Float((epoch - 1 - warmupStart) * batches.count + k + 1) / Float(settings.warmupEpochs * batches.count))
                optimizer.learningRate = settings.learningRate * learningRateScale * warmup
                let stepSeed = settings.seed &+ 0xD1CE &* UInt64(epoch) &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1)
                let batch = try Batch(train.samples(indices),
                                      augmentationSeed: settings.augmentation == .dihedral ? stepSeed ^ 0xA46D_E7A1 : nil)
                network.seedRandomness(stepSeed)
                network.zeroGradients()
                let a = try network.activation(batch.images)
                try contracts.requireActivation(a, for: batch.images)
                let (lo, hi) = try maskedRange(a, mask: batch.tissue)
                try contracts.requireRange(lowest: lo, highest: hi)
                let loss = try head.loss(activation: a, tissue: batch.tissue, labels: batch.labels)
                try contracts.requireLoss(loss, on: "the network's maps")
                try loss.backward()
                optimizer.step(network.parameters)
                lossSum += Double(loss.scalars[0]) * Double(indices.count)
                let extremes = try extremeLosses(batch, like: a)
                extremeSums.dark += Double(extremes.dark) * Double(indices.count)
                extremeSums.lit += Double(extremes.lit) * Double(indices.count)
                images += indices.count
                lowest = min(lowest, lo); highest = max(highest, hi)
                step(k + 1, batches.count)
            }
            let trainLoss = Float(lossSum / Double(images))
            let extremes = (dark: Float(extremeSums.dark / Double(images)), lit: Float(extremeSums.lit / Double(images)))
            let validationResult = validation.count == 0 ? nil : try evaluate(validation)
            for (loss, what) in [(trainLoss, "training"), (validationResult?.loss ?? 0, "validation")] where !loss.isFinite {
                throw TrainingError("epoch \(epoch): the \(what) loss is \(loss): training diverged, and this epoch is not kept; "
                                    + "train anew with a lower learning rate (this run's: \(settings.learningRate))")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            let monitored = validationResult?.loss ?? trainLoss
            let improved = best.map { monitored < $0.loss - settings.minDelta } ?? true
            if improved { best = (epoch, monitored, network.stateDictionary()) }
            var record = EpochRecord(epoch: epoch, trainLoss: trainLoss, validationLoss: validationResult?.loss,
                                     validationAUC: validationResult?.auc, seconds: seconds,
                                     imagesPerSecond: Double(images) / seconds,
                                     collapse: collapseNote(loss: trainLoss, extremes: extremes,
                                                            previous: history.last, lowest: lowest, highest: highest,
                                                            validationAUC: validationResult?.auc,
                                                            warmingUp: epoch - warmupStart <= settings.warmupEpochs),
                                     best: improved)
            if record.collapse != nil, let last = batches.last, try sendsNoGradient(train.samples(last)) {
                record.collapse = "collapsed: no gradient reaches the network: the pooling head's loss does not depend on the "
                    + "activation map where it is (its gradient is 0 at every pixel of a training batch; a clamp or a constant "
                    + "in the loss?), so nothing can change it; check the head's gradient (docs/adding-a-head.md)"
            }
            // Restart only on unambiguous evidence: saturated maps, or the dark loss with chance-level validation.
            let certain = highest < 1e-3 || lowest > 1 - 1e-3 || validationResult?.auc != nil
            // (Not after the last epoch: no epoch would follow.)
            if record.collapse != nil, certain, restarts < Self.maximumRestarts, epoch < settings.epochs, let b = best {
                try network.load(b.weights)
                optimizer.resetState()
                record.restart = settings.learningRate * learningRateScale / 2
            }
            history.append(record)
            progress(record)
        }
        if let b = best { try network.load(b.weights) }
        return true
    }

    /// `run` over samples in memory.
    @discardableResult
    public func run(train: [Sample], validation: [Sample], progress: (EpochRecord) -> Void = { _ in },
                    step: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> Bool {
        try run(train: SampleStore(train), validation: SampleStore(validation), progress: progress, step: step,
                shouldStop: shouldStop)
    }

    /// How many times a collapsed run restarts from its best weights at half the learning rate.
    public static let maximumRestarts = 5
    private var restarts: Int { history.filter { $0.restart != nil }.count }
    /// The factor on the settings' learning rate: halved at every restart.
    public var learningRateScale: Float { 1 / Float(1 << restarts) }

    func restoreProgress(history: [EpochRecord], best: (epoch: Int, loss: Float, weights: [String: Tensor])?) {
        self.history = history
        self.best = best
    }

    /// Loss (mean per image, weighting each batch by its size) and AUC of the pooled scores,
    /// in inference mode without recording a graph.
    public func evaluate(_ samples: SampleStore) throws -> (loss: Float, auc: Double?, scores: [Float]) {
        network.setTraining(false)
        defer { network.setTraining(true) }
        return try withoutGradients {
            var lossSum = 0.0
            var scores: [Float] = []
            for start in stride(from: 0, to: samples.count, by: settings.batchSize) {
                let part = try samples.samples(Array(start..<min(start + settings.batchSize, samples.count)))
                let batch = try Batch(part)
                let a = try network.activation(batch.images)
                try contracts.requireActivation(a, for: batch.images)
                let (lo, hi) = try maskedRange(a, mask: batch.tissue)
                try contracts.requireRange(lowest: lo, highest: hi)
                let loss = try head.loss(activation: a, tissue: batch.tissue, labels: batch.labels)
                try contracts.requireLoss(loss, on: "the network's maps")
                lossSum += Double(loss.scalars[0]) * Double(part.count)
                let score = try head.score(activation: a, tissue: batch.tissue)
                try contracts.requireScores(score, count: part.count)
                scores += score.scalars
            }
            let auc = rocAUC(scores: scores, positives: samples.labels.map { $0 == .cancer })
            return (Float(lossSum / Double(samples.count)), auc, scores)
        }
    }

    /// The highest activation on the tissue of `samples`' cancer samples (nil without any), in
    /// inference mode: where it stays below a threshold, every mask at that threshold is empty.
    public func brightestCancerTissue(_ samples: SampleStore) throws -> Float? {
        let cancer = samples.labels.indices.filter { samples.labels[$0] == .cancer }
        guard !cancer.isEmpty else { return nil }
        network.setTraining(false)
        defer { network.setTraining(true) }
        return try withoutGradients {
            var highest = -Float.infinity
            for start in stride(from: 0, to: cancer.count, by: settings.batchSize) {
                let batch = try Batch(samples.samples(Array(cancer[start..<min(start + settings.batchSize, cancer.count)])))
                highest = max(highest, try maskedRange(network.activation(batch.images), mask: batch.tissue).highest)
            }
            return highest
        }
    }

    /// Whether the head's loss on training `samples` has no gradient with respect to the activation
    /// map (every pixel's exactly 0): a head whose loss does not depend on the map where it is,
    /// unlike a saturated network, whose map the loss would move. The map is taken into
    /// [1e-3, 1 − 1e-3], where heads that guard their logarithms with a clip still have a gradient;
    /// inference mode leaves batch statistics as they are.
    private func sendsNoGradient(_ samples: [Sample]) throws -> Bool {
        let batch = try Batch(samples)
        network.setTraining(false)
        defer { network.setTraining(true) }
        let map = try withoutGradients { try network.activation(batch.images) }
        let leaf = try Tensor(shape: map.shape, scalars: map.scalars.map { min(max($0, 1e-3), 1 - 1e-3) }, requiresGrad: true)
        try head.loss(activation: leaf, tissue: batch.tissue, labels: batch.labels).backward()
        return leaf.grad.map { $0.scalars.allSatisfy { $0 == 0 } } ?? true
    }

    /// The losses the head gives this batch for an all-dark map (every activation 0) and an
    /// all-lit one (every activation 1): what a collapsed network scores.
    private func extremeLosses(_ batch: Batch, like a: Tensor) throws -> (dark: Float, lit: Float) {
        if extremeMaps?.dark.shape != a.shape { extremeMaps = (Tensor(zeros: a.shape), Tensor(repeating: 1, shape: a.shape)) }
        let (dark, lit) = extremeMaps!
        return try withoutGradients {
            let losses = (try head.loss(activation: dark, tissue: batch.tissue, labels: batch.labels),
                          try head.loss(activation: lit, tissue: batch.tissue, labels: batch.labels))
            try contracts.requireLoss(losses.0, on: "an all-dark map (every activation 0)", finite: true)
            try contracts.requireLoss(losses.1, on: "an all-lit map (every activation 1)", finite: true)
            return (losses.0.scalars[0], losses.1.scalars[0])
        }
    }
    private var extremeMaps: (dark: Tensor, lit: Tensor)?

    /// A warning when the epoch ends collapsed: every activation on tissue stayed below 1e-3 (or
    /// above 1 − 1e-3), or the training loss has sat within 1% of what an all-dark (or all-lit)
    /// map scores — for the CompSegNet head and a dark map, α times the cancer images per batch —
    /// for this epoch and the one before, while the network ranked the validation images no better
    /// than chance (AUC ≤ .6) in both; without validation images, while the loss moved less than
    /// 0.1% between them; either after the warm-up only (`warmingUp`: the network starts near the
    /// all-dark loss, ranks by chance, and its small steps move the loss little in a healthy run). That is what He-normal weights
    /// without batch norm fell into from epoch 1 on the independent phantom. One such epoch is not
    /// enough: a slow start (with warm-up, say) can look the same in its first epoch, and recover.
    func collapseNote(loss: Float, extremes: (dark: Float, lit: Float), previous: EpochRecord?, lowest: Float, highest: Float,
                      validationAUC: Double?, warmingUp: Bool = false) -> String? {
        let auc = validationAUC.map { String(format: "; validation AUC %.2f", $0) } ?? ""
        let advice = (dark: "the network lights up nothing. Keep the topology's defaults (its initializer: He-normal "
            + "weights without batch norm collapse), Adam (--optimizer adam), the head's initial activation .02, balanced "
            + "batches and the warm-up; or lower --lr, or try another --seed",
                      lit: "the network lights up everything. Keep the warm-up (--warmup 3), or lower --lr")
        if highest < 1e-3 { return "collapsed: every activation on tissue stayed below 1e-3 this epoch\(auc); " + advice.dark }
        if lowest > 1 - 1e-3 { return "collapsed: every activation on tissue stayed above 1 − 1e-3 this epoch\(auc); " + advice.lit }
        guard let previous else { return nil }
        let stuck = !warmingUp && (validationAUC.map { $0 <= 0.6 && (previous.validationAUC ?? 1) <= 0.6 }
                                   ?? (Swift.abs(loss - previous.trainLoss) <= 0.001 * loss))
        guard stuck else { return nil }
        func near(_ l: Float, _ extreme: Float) -> Bool { extreme > 0 && extreme.isFinite && Swift.abs(l - extreme) <= 0.01 * extreme }
        let matched = [(extremes.dark, "all-dark", advice.dark), (extremes.lit, "all-lit", advice.lit)]
            .filter { near(loss, $0.0) && near(previous.trainLoss, $0.0) }
        guard !matched.isEmpty else { return nil }
        // The activations rule out the map the network does not give (the head's loss may score both alike): every one
        // on tissue at .5 or above is no dark map, at .5 or below no lit one.
        let told = matched.filter { !($0.1 == "all-dark" && lowest >= 0.5) && !($0.1 == "all-lit" && highest <= 0.5) }
        guard told.count == 1, let (extreme, map, text) = told.first else {
            let scores = matched.count == 2
                ? String(format: "an all-dark or an all-lit map scores (%.5f, %.5f)", extremes.dark, extremes.lit)
                : String(format: "an %@ map scores (%.5f)", matched[0].1, matched[0].0)
                    + String(format: ", though its activations on tissue lay from %.3g to %.3g", lowest, highest)
            return String(format: "collapsed: the training loss %.5f is what ", loss) + scores + ", as it was the epoch before"
                + "\(auc); the network's maps do not depend on the image. Lower --lr, keep the warm-up, or try another --seed"
        }
        return String(format: "collapsed: the training loss %.5f is what an ", loss) + map
            + String(format: " map scores (%.5f), as it was the epoch before", extreme) + "\(auc); " + text
    }
}
