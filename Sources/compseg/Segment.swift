import BuiltinPlugins
import ArgumentParser
import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg segment`: applies a trained network (the pooling head is no longer needed) and writes
/// per sample the activation map (8-bit PNG, 0–255, and float32 TIFF), the thresholded mask within
/// tissue (PNG, 0/255), and `segmentation.csv` with each sample's tumor fraction.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment samples with a trained run: activation maps, masks and tumor fractions.")

    @Option(help: "Run folder written by `compseg train`.") var model: String
    @Option(help: "Manifest CSV whose samples to segment (every split).") var data: String?
    @Argument(help: "Sample files to segment (instead of --data).") var files: [String] = []
    @Option(help: "Output folder.") var out: String
    @Option(help: "Activation threshold for the mask (the paper: .35, i.e. .35·255 on 8-bit maps).") var threshold: Float = 0.35
    @Flag(help: "Overwrite existing output files.") var force = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (data == nil) != files.isEmpty else { throw ValidationError("give either --data MANIFEST or sample files") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must lie in (0, 1), got \(threshold)") }
    }

    func run() throws {
        threading.apply()
        let registry = try builtinRegistry()
        let trained = try TrainedModel(run: RunDirectory(URL(fileURLWithPath: model)), registry: registry)
        let modality = try trained.description.preparedModality(registry: registry, file: trained.run.modelFile.path)
        let store: SampleStore
        if let data {
            let manifest = try Manifest(contentsOf: URL(fileURLWithPath: data))
            store = try modality.store(manifest.rows, manifest: manifest)
        } else {
            store = try modality.store(files: files.map { URL(fileURLWithPath: $0) })
        }
        let folder = URL(fileURLWithPath: out)
        let outputs = SegmentationFiles.paths(for: store.ids, in: folder) + [folder.appendingPathComponent("segmentation.csv")]
        let existing = outputs.filter { FileManager.default.fileExists(atPath: $0.path) }
        if !existing.isEmpty && !force {
            throw CLIError("\(existing.count) output files exist already (e.g. \(existing[0].path)); "
                                  + "pass --force to overwrite them or choose another --out")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (samples, maps) = try trained.segmented(store)
        for (sample, map) in zip(samples, maps) { try SegmentationFiles.write(sample, map: map, threshold: threshold, to: folder) }
        let fractions = SegmentationEvaluation(samples: samples, maps: maps, truth: [:], threshold: threshold).results
        let rows = ["id,label,tissue_pixels,tumor_pixels,tumor_fraction"] + fractions.map {
            "\($0.id),\($0.label?.rawValue ?? ""),\($0.tissuePixels),\($0.tumorPixels)," + String(format: "%.6f", $0.tumorFraction)
        }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("segmentation.csv"),
                                                                  options: .atomic)
        print("Segmented \(samples.count) samples into \(folder.path)")
    }
}
