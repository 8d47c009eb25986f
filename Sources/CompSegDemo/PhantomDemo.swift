import CompSegCore
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation
import Phantoms

/// The demo: a phantom tissue microarray prepared by a modality manifest's chain (fitted on the
/// training spots) and trained by a `TrainingRun` into a run folder exactly as `compseg train`
/// trains; then the mask threshold chosen on the validation spots, and the test split evaluated
/// against ground truth that training never saw. The infrared phantom is made in memory (its
/// spots stand in for the reader's); the Raman phantom is written as instrument files and read
/// back through the modality's reader.
public struct PhantomDemo {
    public struct Settings: Sendable {
        /// The phantom: infrared made in memory, or another written to files and read back.
        public enum Data: Sendable {
            case infrared(InfraredPhantom.Settings)
            /// Spots that `write` writes into `folder` with a manifest (returning its location),
            /// then read as files; `description` says what they are (e.g. "Raman phantom seed 0, 60 spots").
            case files(description: String, folder: URL, write: @Sendable (URL) throws -> URL)

            public static func raman(_ p: RamanPhantom.Settings, folder: URL) -> Data {
                .files(description: "Raman phantom seed \(p.seed), \(p.spots) spots of \(p.size)×\(p.size) pixels, \(p.bands) bands "
                       + "(ENVI, and WiRE's text export)", folder: folder, write: { try RamanPhantom(p).write(to: $0) })
            }

            public static func he(_ p: HEPhantom.Settings, folder: URL) -> Data {
                .files(description: "H&E phantom seed \(p.seed), \(p.spots) spots of \(p.size)×\(p.size) pixels "
                       + "(tiled TIFF and PNG)", folder: folder, write: { try HEPhantom(p).write(to: $0) })
            }
        }
        public var data: Data
        /// The modality whose chain prepares the spots (and, for files, whose reader reads them).
        public var modality: ModalityManifest
        public var topology = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 16])
        public var head = PluginDescription(identifier: "compsegnet")
        public var training = TrainingSettings()
        /// nil: chosen on the validation split (best mean Dice).
        public var threshold: Float? = nil
        /// What the run's `model.json` records under `versions` beside the data's description.
        public var versions: [String: String] = ["device": Backend.current.name]

        public init(_ data: Data, modality: ModalityManifest) { self.data = data; self.modality = modality }
    }

    public struct Outcome {
        public let run: TrainingRun
        public let evaluation: SegmentationEvaluation
        public let samples: (train: Int, validation: Int, test: Int)
        /// The test samples (without images), their activation maps and ground truth (for figures).
        public let test: [Sample]
        public let maps: [[Float]]
        public let truth: [String: [Bool]]
        /// Where the spots came from (a manifest's path, or the phantom made in memory), and the
        /// test spots' files by id (none in memory).
        public let data: String, files: [String: URL]
    }

    /// The prepared splits and the ground truth of the validation and test spots.
    struct Prepared {
        let modality: PreparedModality
        let train: SampleStore, validation: SampleStore, test: SampleStore
        let truth: [String: [Bool]]
        let description: String
        /// The manifest the spots were read from (nil: made in memory) and the test spots' files by id.
        var manifest: URL? = nil, files: [String: URL] = [:]
        /// The train and val rows as `train` records them, for spots read from files.
        var rows: ManifestRows? = nil
    }

    /// Trains into `folder`, which must not hold a run.
    /// - Parameters:
    ///   - report: called with a line to print before training starts.
    /// - Throws: `Interrupted` where a signal (`Interruption.received`) stopped training between steps.
    public static func run(_ settings: Settings, in folder: RunDirectory, registry: Registry,
                           report: (String) -> Void = { _ in }, progress: (EpochRecord) -> Void = { _ in },
                           step: (Int, Int) -> Void = { _, _ in }) throws -> Outcome {
        let prepared: Prepared
        switch settings.data {
        case .infrared(let p): prepared = try inMemory(p, settings.modality, registry, report)
        case .files(let description, let data, let write):
            prepared = try files(description, data, write, settings.modality, registry, report)
        }
        let (train, validation, test) = (prepared.train, prepared.validation, prepared.test)
        report("train \(train.count), val \(validation.count), test \(test.count) spots")

        var model = RunConfiguration(modality: prepared.modality.manifest, topology: settings.topology, head: settings.head,
                                     inputChannels: try train.samples([0])[0].image.shape[0], training: settings.training,
                                     versions: settings.versions.merging(["data": prepared.description]) { _, data in data })
        // As train records them: a resume checks its data against them, and evaluate names the run's own samples.
        model.rows = prepared.rows
        if let manifest = prepared.manifest { model.versions["manifest"] = manifest.path }
        let run = try TrainingRun(creating: folder, model: model, train: train, validation: validation, registry: registry)
        guard try run.run(progress: progress, step: step, shouldStop: { Interruption.received != 0 }) else {
            throw Interrupted(signal: Int32(Interruption.received))
        }

        // The phantom's validation spots have truth, so Dice chooses (the paper's .35 were they to lack
        // it); recorded with the run, as train records it.
        _ = try run.chooseThreshold(registry: registry) { _ in prepared.truth }
        let threshold = settings.threshold ?? run.model.threshold?.value ?? SegmentationFiles.defaultThreshold
        let trained = try TrainedModel(run: folder, registry: registry)
        let (samples, maps) = try trained.segmented(test)
        let evaluation = SegmentationEvaluation(samples: samples, maps: maps, truth: prepared.truth, threshold: threshold)
        return Outcome(run: run, evaluation: evaluation, samples: (train.count, validation.count, test.count),
                       test: samples, maps: maps, truth: prepared.truth,
                       data: prepared.manifest?.path ?? "\(prepared.description), made in memory", files: prepared.files)
    }

    /// The infrared phantom made in memory, its spots standing in for the reader's.
    static func inMemory(_ p: InfraredPhantom.Settings, _ manifest: ModalityManifest, _ registry: Registry,
                         _ report: (String) -> Void) throws -> Prepared {
        report("Generating \(p.spots) phantom spots of \(p.size)×\(p.size) pixels, \(p.bands) bands; preparing them "
               + "as --modality \(manifest.name) does…")
        let phantom = InfraredPhantom(p)
        var raw: [Sample] = [], truth: [String: [Bool]] = [:]
        for i in 0..<p.spots {
            let (sample, tumor) = try phantom.sample(i)
            raw.append(sample)
            truth[sample.id] = tumor
        }
        let inSplit = { (split: Split) in raw.filter { $0.metadata["split"] == split.rawValue } }
        let modality = try PreparedModality(manifest, registry: registry).fitted(to: SampleSequence(inSplit(.train)))
        let prepare = { (split: Split) in SampleStore(try inSplit(split).map(modality.prepare)) }
        return Prepared(modality: modality, train: try prepare(.train), validation: try prepare(.val), test: try prepare(.test),
                        truth: truth, description: "infrared phantom seed \(p.seed), \(p.spots) spots")
    }

    /// A phantom written as files into `folder`, read by the modality's reader.
    static func files(_ description: String, _ folder: URL, _ write: (URL) throws -> URL, _ manifest: ModalityManifest,
                      _ registry: Registry, _ report: (String) -> Void) throws -> Prepared {
        report("Writing the \(description) into \(folder.path); reading and preparing them as --modality \(manifest.name) does…")
        let data = try Manifest(contentsOf: write(folder))
        let modality = try PreparedModality(manifest, registry: registry).fitted(on: data.rows(in: .train), manifest: data)
        let (train, validation) = try TrainingRun.stores(data, modality, cacheBudget: SampleStore.defaultCacheBudget)
        let test = try modality.store(data.rows(in: .test), manifest: data)
        var truth: [String: [Bool]] = [:]
        for split in [Split.val, .test] {
            let rows = data.rows(in: split)
            let store = split == .val ? validation : test
            truth.merge(try SegmentationFiles.readTruth(rows, store.samples(Array(0..<store.count)).map { $0.withoutImage() },
                                                        manifest: data.url.path)) { a, _ in a }
        }
        let testRows = data.rows(in: .test)
        return Prepared(modality: modality, train: train, validation: validation, test: test, truth: truth,
                        description: "\(description), files in \(folder.path)", manifest: data.url,
                        files: Dictionary(zip(test.ids, testRows.map(\.path))) { a, _ in a },
                        rows: ManifestRows(data, readingContentsWith: modality.reader).recordingPixels(train: train, validation: validation))
    }
}
