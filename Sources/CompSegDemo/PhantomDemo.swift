import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import InfraredModality

/// The demo's pipeline: a phantom infrared TMA, PCA fitted on its training spots, a network
/// trained through a pooling head on image labels with model selection on validation loss, the
/// mask threshold chosen on the validation spots, and the test split evaluated against ground
/// truth that training never saw.
public struct PhantomDemo {
    public struct Settings: Sendable {
        public var phantom = InfraredPhantom.Settings()
        public var components = 16
        public var training = TrainingSettings()
        /// nil: chosen on the validation split (best mean Dice).
        public var threshold: Float? = nil
        public init() {}
    }

    public struct Outcome {
        public let trainer: Trainer
        public let evaluation: SegmentationEvaluation
        public let samples: (train: Int, validation: Int, test: Int)
        /// The test samples, their activation maps and ground truth (for figures).
        public let test: [Sample]
        public let maps: [[Float]]
        public let truth: [String: [Bool]]
        /// The fitted preprocessing (the PCA), as `model.json` records it.
        public let preprocessing: [PluginDescription]
    }

    /// - Parameters:
    ///   - network: built for `settings.components` input channels.
    ///   - report: called with a line to print before training starts.
    public static func run(_ settings: Settings, network: any SegmentingNetwork, head: any PoolingHead,
                           report: (String) -> Void = { _ in }, progress: (EpochRecord) -> Void = { _ in },
                           step: (Int, Int) -> Void = { _, _ in }) throws -> Outcome {
        let p = settings.phantom
        report("Generating \(p.spots) phantom spots of \(p.size)×\(p.size) pixels, \(p.bands) bands; "
               + "PCA to \(settings.components) components…")
        let data = try PhantomDataset(InfraredPhantom(p), components: settings.components)
        let (train, validation, test) = (data.split(.train), data.split(.val), data.split(.test))
        report("train \(train.count), val \(validation.count), test \(test.count) spots")
        let trainer = try Trainer(network: network, head: head, settings: settings.training)
        try trainer.run(train: train, validation: validation, progress: progress, step: step)
        let model = try TrainedModelMaps(network)
        let threshold = try settings.threshold ?? SegmentationEvaluation.bestThreshold(
            samples: validation, maps: model.maps(validation), truth: data.truth)
        let maps = try model.maps(test)
        let evaluation = SegmentationEvaluation(samples: test, maps: maps, truth: data.truth, threshold: threshold)
        return Outcome(trainer: trainer, evaluation: evaluation, samples: (train.count, validation.count, test.count),
                       test: test, maps: maps, truth: data.truth,
                       preprocessing: [PluginDescription(identifier: "pca", configuration: String(decoding: try data.pca.configuration(), as: UTF8.self))])
    }
}

/// Activation maps of a network in inference mode, one sample at a time.
struct TrainedModelMaps {
    let network: any SegmentingNetwork
    init(_ network: any SegmentingNetwork) throws {
        self.network = network
        network.setTraining(false)
    }
    func maps(_ samples: [Sample]) throws -> [[Float]] {
        try samples.map { s in
            try withoutGradients {
                try network.activation(Tensor(shape: Shape([1] + s.image.shape.dims), scalars: s.image.scalars)).scalars
            }
        }
    }
}
