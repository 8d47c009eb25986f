import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg overlay`: masks and figures per sample, for handing segmentations on, and
/// `segmentation.csv` as `segment` writes it.
struct OverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay",
        abstract: "Write overlays, contours, heatmaps, label and mask PNGs and panels for samples, and segmentation.csv.")

    @OptionGroup var input: TrainedRunInput
    @Option(name: .customLong("threshold"), parsing: .unconditional, help: ArgumentHelp("Activation threshold for the mask (default: the run's, chosen on its validation split after training; else the paper's .35).", valueName: "threshold"))
    var thresholdGiven: String?
    /// `--threshold`, checked by `validate()`.
    var threshold: Float? { thresholdNumber(thresholdGiven) }
    @Option(help: "Mask colour as hex RGB, e.g. ff0000 or #ff0000.") var colour = "ff0000"
    @Option(parsing: .unconditional, help: "Opacity of the blended mask, 0 to 1 (default: 0.35).") var opacity: Double?
    /// `--opacity`'s earlier name, still taken (`alpha` is the CompSegNet head's α elsewhere).
    @Option(parsing: .unconditional, help: .hidden) var alpha: Double?
    @OptionGroup var polygons: GeoJSONOptions
    @OptionGroup var batching: InferenceBatchOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions

    func validate() throws {
        try requireThreshold(thresholdGiven, command: "overlay")
        guard rgb != nil else { throw ValidationError("--colour must be six hex digits such as ff0000, got \(colour)") }
        if alpha != nil && opacity != nil {
            throw ValidationError("--alpha is --opacity's earlier name: give one of them")
        }
        let (name, value) = alpha.map { ("--alpha", $0) } ?? ("--opacity", blend)
        guard value >= 0 && value <= 1 else { throw ValidationError("\(name) must lie in [0, 1], got \(value)") }
    }

    var rgb: (UInt8, UInt8, UInt8)? {
        let hex = colour.hasPrefix("#") ? String(colour.dropFirst()) : colour
        guard hex.count == 6, hex.allSatisfy(\.isHexDigit), let v = UInt32(hex, radix: 16) else { return nil }
        return (UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
    }

    /// The mask's opacity, by either name.
    var blend: Double { alpha ?? opacity ?? 0.35 }

    func run() throws {
        if alpha != nil { warn("--alpha is now --opacity (alpha is the CompSegNet head's α); it is taken as --opacity") }
        try hintingSkipUnreadable(skipping: input.skipUnreadable, inputs: { input.inputPaths }) { try work() }
    }

    private func work() throws {
        // Ctrl-C or SIGTERM stops the work between samples (and bands of a streamed image): what it was writing goes.
        _ = InterruptFlag.install()
        threading.apply()
        try compute.apply()
        let registry = try CompSegTool.registry()
        let leftOut = input.skipUnreadable ? LeftOut() : nil
        let (trained, modality, store, rows, streamed, files, order, patients) = try input.load(registry, streamAbove: input.streaming.streamAbove, leftOut: leftOut)
        // Every truth mask is decoded before any image is segmented: a bad one is the manifest's problem, named by line.
        if let data = input.data {
            let truths = rows.compactMap { row in row.truth.map { (row.line, $0) } }
                + streamed.compactMap { s in s.truth.map { (s.line ?? 0, $0) } }
            try SegmentationFiles.checkTruthFiles(truths.sorted { $0.0 < $1.0 }, manifest: fileURL(data).path)
        }
        let threshold = trained.maskThreshold(given: threshold).value
        let folder = fileURL(input.out), (record, recorded) = input.earlierSegmentation()
        let outputs = SegmentationFiles.paths(for: store.ids + streamed.map(\.id), in: folder, geoJSON: polygons.geojson, figures: true) + [record]
        try input.writing(outputs, removing: recorded, command: "overlay") { earlier in
            let progress = SegmentingProgress()
            defer { progress.finish() }
            let (samples, maps) = try trained.segmented(store, batchSize: batching.batch, leavingOut: leftOut?.handler, progress: progress.update)
            progress.finish()
            warnAboutReaders(samples)
            let segmentedIDs = Set(samples.map(\.id))  // the rows of those left out go too
            let rows = rows.isEmpty ? [] : zip(store.ids, rows).filter { segmentedIDs.contains($0.0) }.map(\.1)
            let truth = try SegmentationFiles.readTruth(rows, samples, manifest: input.data ?? "the command line")
            let evaluation = SegmentationEvaluation(samples: samples, maps: maps, truth: truth, threshold: threshold)
            // Every file or none: a kill or a failure leaves an earlier overlay there whole; its files,
            // none of which stays beside these, go once these are in place.
            var results = evaluation.results
            try OutputList.replace(in: folder, earlier: earlier, last: [record.lastPathComponent]) { staging in
                for (s, map) in zip(samples, maps) {
                    try SegmentationFiles.write(s, map: map, threshold: threshold, to: staging, geoJSON: polygons.geojson,
                                                minimumArea: polygons.geojsonMinArea)
                }
                try EvaluationReport.writeFigures(evaluation, samples: samples, maps: maps, truth: truth, to: staging,
                                                  colour: rgb!, alpha: blend)
                for large in streamed {
                    guard let (done, _) = try large.segment(trained, modality: modality, threshold: threshold, to: staging,
                                                            geoJSON: polygons, figures: (rgb!, blend), leftOut: leftOut) else { continue }
                    results.append(done.result)
                }
                try leftOut?.report()
                results.sort(asGiven: order, by: \.id)
                try writeDurably(Data(SegmentationFiles.segmentationRecord(results, threshold: threshold, files: files, patients: patients,
                                                                                          unfamiliar: trained.unfamiliarInputs).utf8),
                                 to: staging.appendingPathComponent(record.lastPathComponent))
            }
            input.warnAboutBlankSamples(results, csv: true)
            warnAboutUnfamiliarInputs(trained)
            print("Wrote figures for \(counted(results.count, "sample")) into \(folder.path)")
        }
    }
}
