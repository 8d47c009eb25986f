import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import InfraredModality

/// The demo's pipeline: a phantom infrared TMA, PCA fitted on its training spots, a network
/// trained through a pooling head on image labels with model selection on validation loss, and
/// the test split evaluated against ground truth that training never saw.
public struct PhantomDemo {
    public struct Settings: Sendable {
        public var phantom = InfraredPhantom.Settings()
        public var components = 16
        public var training = TrainingSettings()
        public var threshold: Float = 0.35
        public init() {}
    }

    public struct Outcome {
        public let trainer: Trainer
        public let evaluation: SegmentationEvaluation
        public let samples: (train: Int, validation: Int, test: Int)
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
        let evaluation = try SegmentationEvaluation(model: network, samples: test, truth: data.truth,
                                                    threshold: settings.threshold)
        return Outcome(trainer: trainer, evaluation: evaluation, samples: (train.count, validation.count, test.count))
    }
}
