import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import Phantoms

/// The demo: a phantom infrared TMA made in memory, prepared by a modality manifest's chain
/// (`modalities/infrared.yaml`: crop, vector normalization, PCA, fitted on the training spots)
/// and trained by a `TrainingRun` into a run folder exactly as `compseg train` trains; then the
/// mask threshold chosen on the validation spots, and the test split evaluated against ground
/// truth that training never saw.
public struct PhantomDemo {
    public struct Settings: Sendable {
        public var phantom = InfraredPhantom.Settings()
        /// The modality whose reader the spots stand in for, and whose chain prepares them.
        public var modality: ModalityManifest
        public var topology = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 16])
        public var head = PluginDescription(identifier: "compsegnet")
        public var training = TrainingSettings()
        /// nil: chosen on the validation split (best mean Dice).
        public var threshold: Float? = nil

        public init(modality: ModalityManifest) { self.modality = modality }
    }

    public struct Outcome {
        public let run: TrainingRun
        public let evaluation: SegmentationEvaluation
        public let samples: (train: Int, validation: Int, test: Int)
        /// The test samples (without images), their activation maps and ground truth (for figures).
        public let test: [Sample]
        public let maps: [[Float]]
        public let truth: [String: [Bool]]
    }

    /// Trains into `folder`, which must not hold a run.
    /// - Parameters:
    ///   - report: called with a line to print before training starts.
    public static func run(_ settings: Settings, in folder: RunDirectory, registry: Registry,
                           report: (String) -> Void = { _ in }, progress: (EpochRecord) -> Void = { _ in },
                           step: (Int, Int) -> Void = { _, _ in }) throws -> Outcome {
        let p = settings.phantom
        report("Generating \(p.spots) phantom spots of \(p.size)×\(p.size) pixels, \(p.bands) bands; preparing them "
               + "as --modality \(settings.modality.name) does…")
        let phantom = InfraredPhantom(p)
        var raw: [Sample] = [], truth: [String: [Bool]] = [:]
        for i in 0..<p.spots {
            let (sample, tumor) = try phantom.sample(i)
            raw.append(sample)
            truth[sample.id] = tumor
        }
        let inSplit = { (split: Split) in raw.filter { $0.metadata["split"] == split.rawValue } }
        let modality = try PreparedModality(settings.modality, registry: registry).fitted(to: SampleSequence(inSplit(.train)))
        let prepare = { (split: Split) in try inSplit(split).map(modality.prepare) }
        let (train, validation, test) = try (prepare(.train), prepare(.val), prepare(.test))
        report("train \(train.count), val \(validation.count), test \(test.count) spots")

        let model = RunConfiguration(modality: modality.manifest, topology: settings.topology, head: settings.head,
                                     inputChannels: train[0].image.shape[0], training: settings.training,
                                     versions: ["data": "phantom seed \(p.seed), \(p.spots) spots"])
        let run = try TrainingRun(creating: folder, model: model, train: SampleStore(train),
                                  validation: SampleStore(validation), registry: registry)
        _ = try run.run(progress: progress, step: step)

        let trained = try TrainedModel(run: folder, registry: registry)
        let threshold = try settings.threshold ?? SegmentationEvaluation.bestThreshold(
            samples: validation, maps: trained.activationMaps(validation), truth: truth)
        let (samples, maps) = try trained.segmented(SampleStore(test))
        let evaluation = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: threshold)
        return Outcome(run: run, evaluation: evaluation, samples: (train.count, validation.count, test.count),
                       test: samples, maps: maps, truth: truth)
    }
}
