import ArgumentParser
import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import InfraredModality

/// `compseg demo`: the whole method on a built-in synthetic infrared tissue microarray: image
/// labels only for training, model selection on validation loss, then test AUC and Dice against
/// the ground truth that training never saw.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train CompSegNet on a synthetic infrared TMA from image labels and evaluate it against ground truth.")

    @Option(help: "Spots in the phantom (60% train, 20% val, 20% test).") var spots = 60
    @Option(help: "Spot side in pixels.") var size = 64
    @Option(help: "Principal components fed to the network.") var components = 16
    @Option(help: "Topology identifier.") var topology = "unet"
    @Option(help: "Network base width.") var width = 16
    @Option(help: "Network pooling steps.") var depth = 3
    @Option(help: "Epochs.") var epochs = 40
    @Option(help: "Images per batch.") var batch = 7
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "Optimizer: adam, rmsprop or sgd.") var optimizer = "adam"
    @Option(help: "Seed of the phantom, the weights and the batch order.") var seed: UInt64 = 0
    @Option(help: "Activation threshold for masks (the paper: .35).") var threshold: Float = 0.35
    @Option(help: "Run folder to write (model.json, weights, history); none when omitted.") var out: String?
    @Option(help: "Threads for every pool (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { Threads.set(threads) }
        guard let kind = TrainingSettings.OptimizerKind(rawValue: optimizer) else {
            throw ValidationError("--optimizer must be adam, rmsprop or sgd, got \(optimizer)")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        var phantomSettings = InfraredPhantom.Settings()
        phantomSettings.spots = spots; phantomSettings.size = size; phantomSettings.seed = seed
        print("Generating \(spots) phantom spots of \(size)×\(size) pixels, \(phantomSettings.bands) bands; PCA to \(components) components…")
        let data = try PhantomDataset(InfraredPhantom(phantomSettings), components: components)
        let (train, validation, test) = (data.split(.train), data.split(.val), data.split(.test))
        print("train \(train.count), val \(validation.count), test \(test.count) spots")

        let registry = try builtinRegistry()
        let topologyConfiguration = PluginConfiguration(json: Data(#"{"width": \#(width), "depth": \#(depth)}"#.utf8),
                                                        source: "demo options")
        let network = try registry.topology(topology, inputChannels: components, seed: seed, topologyConfiguration)
        var settings = TrainingSettings()
        settings.epochs = epochs; settings.batchSize = batch; settings.learningRate = lr
        settings.optimizer = kind; settings.seed = seed
        let trainer = try Trainer(network: network, head: try registry.head("compsegnet"), settings: settings)
        let progress = ProgressReporter(epochs: epochs, images: train.count)
        try trainer.run(train: train, validation: validation, progress: progress.finish,
                        step: { k, n in progress.step(epoch: trainer.history.count + 1, k, of: n) })

        let result = try PhantomEvaluation(model: network, samples: test, truth: data.truth, threshold: threshold)
        if let out {
            let run = RunDirectory(URL(fileURLWithPath: out))
            if FileManager.default.fileExists(atPath: run.modelFile.path) {
                throw TrainingError("\(run.url.path) already holds a run; choose another --out")
            }
            try run.create()
            try run.writeModel(ModelDescription(
                modality: nil, topology: .init(identifier: topology, configuration: #"{"depth":\#(depth),"width":\#(width)}"#),
                head: .init(identifier: "compsegnet"), inputChannels: components, training: settings,
                bestEpoch: trainer.best?.epoch, versions: ["compseg": CompSegVersion.string, "data": "phantom seed \(seed)"]))
            try run.writeWeights(network.stateDictionary(), metadata: ["format": "pt"])
            try run.writeHistory(trainer.history)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        print(String(format: "Best epoch %d. Test AUC %.3f; Dice %.3f ± %.3f over %d cancer spots; %.0f s in all.",
                     trainer.best?.epoch ?? 0, result.auc ?? .nan, result.diceMean, result.diceSD, result.dice.count, seconds))
    }
}

/// Image- and pixel-level results of a trained network on phantom spots.
struct PhantomEvaluation {
    let auc: Double?
    let dice: [Double]
    var diceMean: Double { dice.isEmpty ? .nan : dice.reduce(0, +) / Double(dice.count) }
    var diceSD: Double {
        guard dice.count > 1 else { return 0 }
        let m = diceMean
        return (dice.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(dice.count - 1)).squareRoot()
    }

    /// AUC of the tumor fraction (tissue pixels above threshold) against the labels, as the paper;
    /// Dice of the thresholded map within tissue against the truth, over cancer samples.
    init(model: any SegmentingNetwork, samples: [Sample], truth: [String: [Bool]], threshold: Float) throws {
        model.setTraining(false)
        var fractions: [Float] = [], dice: [Double] = []
        for sample in samples {
            let a = try withoutGradients {
                try model.activation(Tensor(shape: Shape([1] + sample.image.shape.dims), scalars: sample.image.scalars))
            }.scalars
            let predicted = a.indices.map { a[$0] > threshold && sample.tissue.pixels[$0] }
            fractions.append(Float(predicted.filter { $0 }.count) / Float(max(1, sample.tissue.count)))
            if sample.label == .cancer, let t = truth[sample.id] { dice.append(CompSegTraining.dice(predicted, t)) }
        }
        auc = rocAUC(scores: fractions, positives: samples.map { $0.label == .cancer })
        self.dice = dice
    }
}
