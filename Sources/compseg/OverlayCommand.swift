import BuiltinPlugins
import ArgumentParser
import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg overlay`: masks and figures per sample, for handing segmentations on.
struct OverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay",
        abstract: "Write overlays, contours, heatmaps, label and mask PNGs and panels for samples.")

    @Option(help: "Run folder written by `compseg train`.") var model: String
    @Option(help: "Manifest CSV (truth masks, where given, join the panels).") var data: String?
    @Argument(help: "Sample files (instead of --data).") var files: [String] = []
    @Option(help: "Output folder.") var out: String
    @Option(help: "Activation threshold for the mask.") var threshold: Float = 0.35
    @Option(help: "Mask colour as hex RGB, e.g. ff0000.") var colour = "ff0000"
    @Option(help: "Opacity of the blended mask.") var alpha = 0.35
    @Flag(help: "Overwrite existing output files.") var force = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (data == nil) != files.isEmpty else { throw ValidationError("give either --data MANIFEST or sample files") }
        guard rgb != nil else { throw ValidationError("--colour must be six hex digits such as ff0000, got \(colour)") }
        guard alpha >= 0 && alpha <= 1 else { throw ValidationError("--alpha must lie in [0, 1], got \(alpha)") }
    }

    var rgb: (UInt8, UInt8, UInt8)? {
        guard colour.count == 6, let v = UInt32(colour, radix: 16) else { return nil }
        return (UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
    }

    func run() throws {
        threading.apply()
        let registry = try builtinRegistry()
        let trained = try TrainedModel(run: RunDirectory(URL(fileURLWithPath: model)), registry: registry)
        let modality = try trained.description.preparedModality(registry: registry, file: trained.run.modelFile.path)
        let store: SampleStore, rows: [Manifest.Row]
        if let data {
            let manifest = try Manifest(contentsOf: URL(fileURLWithPath: data))
            store = try modality.store(manifest.rows, manifest: manifest)
            rows = manifest.rows
        } else {
            store = try modality.store(files: files.map { URL(fileURLWithPath: $0) })
            rows = []
        }
        let folder = URL(fileURLWithPath: out)
        let existing = SegmentationFiles.paths(for: store.ids, in: folder).filter { FileManager.default.fileExists(atPath: $0.path) }
        if !existing.isEmpty && !force {
            throw CLIError("\(existing.count) output files exist already (e.g. \(existing[0].path)); pass --force to overwrite them")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (samples, maps) = try trained.segmented(store)
        let truth = try SegmentationFiles.readTruth(rows, samples)
        let evaluation = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: threshold)
        for (s, map) in zip(samples, maps) { try SegmentationFiles.write(s, map: map, threshold: threshold, to: folder) }
        try EvaluationReport.writeFigures(evaluation, samples: samples, maps: maps, truth: truth, to: folder,
                                          colour: rgb!, alpha: alpha)
        print("Wrote figures for \(samples.count) samples into \(folder.path)")
    }
}
