import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegIO
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg segment`: applies a trained network (the pooling head is no longer needed) and writes
/// per sample the activation map (8-bit PNG, 0–255, and float32 TIFF), the thresholded mask within
/// tissue (PNG, 0/255), and `segmentation.csv` with each sample's tumor fraction.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment samples with a trained run: activation maps, masks and tumor fractions.")

    @OptionGroup var input: TrainedRunInput
    @Option(name: .customLong("threshold"), parsing: .unconditional, help: ArgumentHelp("Activation threshold for the mask (default: the run's, chosen on its validation split after training; else the paper's .35); the mask takes tissue pixels whose activation is above it.", valueName: "threshold"))
    var thresholdGiven: String?
    /// `--threshold`, checked by `validate()`.
    var threshold: Float? { thresholdNumber(thresholdGiven) }
    @OptionGroup var polygons: GeoJSONOptions
    @OptionGroup var batching: InferenceBatchOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions

    func validate() throws {
        try requireThreshold(thresholdGiven, command: "segment")
    }

    func run() throws {
        try hintingSkipUnreadable(skipping: input.skipUnreadable, inputs: { input.inputPaths }) { try work() }
    }

    private func work() throws {
        // Ctrl-C or SIGTERM stops the work between samples (and bands of a streamed image): what it was writing goes.
        _ = InterruptFlag.install()
        threading.apply()
        try compute.apply()
        let registry = try CompSegTool.registry()
        let leftOut = input.skipUnreadable ? LeftOut() : nil
        let (trained, modality, store, _, streamed, files, order, patients) = try input.load(registry, streamAbove: input.streaming.streamAbove, leftOut: leftOut,
                                                                                   truths: false)
        let threshold = trained.maskThreshold(given: threshold).value
        let folder = fileURL(input.out), (record, recorded) = input.earlierSegmentation()
        let outputs = SegmentationFiles.paths(for: store.ids + streamed.map(\.id), in: folder, geoJSON: polygons.geojson) + [record]
        try input.writing(outputs, removing: recorded, command: "segment", truths: false) { earlier in
            let progress = SegmentingProgress()
            defer { progress.finish() }
            let (samples, maps, times) = try trained.segmentedTimed(store, batchSize: batching.batch, clock: modality.clock,
                                                                    leavingOut: leftOut?.handler, progress: progress.update)
            progress.finish()
            warnAboutReaders(samples)
            let writingStart = DispatchTime.now().uptimeNanoseconds
            var streaming = 0.0  // seconds of the streamed images, left out of the samples' writing time
            var dotted: [(id: String, maskSpread: Double)] = []  // the streamed images' masks, for the checkerboard warning
            var fractions = SegmentationEvaluation(samples: samples, maps: maps, truth: [:], threshold: threshold).results
            // Every file or none: a failure (a full disk, say) leaves no new file behind; an earlier
            // segmentation's files, none of which stays beside these, go once these are in place.
            try OutputList.replace(in: folder, earlier: earlier, last: [record.lastPathComponent]) { staging in
                for (sample, map) in zip(samples, maps) {
                    try SegmentationFiles.write(sample, map: map, threshold: threshold, to: staging, geoJSON: polygons.geojson,
                                                minimumArea: polygons.geojsonMinArea)
                }
                for large in streamed {
                    guard let (done, seconds) = try large.segment(trained, modality: modality, threshold: threshold, to: staging,
                                                                  geoJSON: polygons, leftOut: leftOut) else { continue }
                    fractions.append(done.result)
                    dotted.append((done.counts.id, done.maskParitySpread))
                    streaming += seconds
                }
                try leftOut?.report()
                fractions.sort(asGiven: order, by: \.id)
                try writeDurably(Data(SegmentationFiles.segmentationRecord(fractions, threshold: threshold, files: files, patients: patients,
                                                                                          unfamiliar: trained.unfamiliarInputs).utf8),
                                 to: staging.appendingPathComponent(record.lastPathComponent))
            }
            let writing = Double(DispatchTime.now().uptimeNanoseconds - writingStart) * 1e-9 - streaming
            input.warnAboutBlankSamples(fractions, csv: true)
            warnAboutUnfamiliarInputs(trained)
            warnAboutCheckerboard(samples, maps, topology: trained.description.topology, threshold: threshold, streamed: dotted)
            print("Segmented \(counted(fractions.count, "sample")) into \(folder.path)")
            if !samples.isEmpty {
                print("Time" + (streamed.isEmpty ? "" : " of the \(counted(samples.count, "sample")) loaded whole") + ": "
                      + times.summary(writing: writing))
            }
        }
    }
}
