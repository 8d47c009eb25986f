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
    @Option(parsing: .unconditional, help: "Activation threshold for the mask (default: the run's, chosen on its validation split after training; else the paper's .35, i.e. .35·255 on 8-bit maps).")
    var threshold: Float?
    @Flag(help: "Also write each mask's polygons as <id>_mask.geojson, annotations QuPath imports (full-resolution pixel coordinates).")
    var geojson = false
    @Option(parsing: .unconditional, help: "Images of more pixels than this are read and segmented region by region (tiles), never held whole, when the reader reads regions (he) and every step is pixelwise.")
    var streamAbove = 64 << 20
    @Option(parsing: .unconditional, help: "Samples of one size through the network at once, the next ones read meanwhile (default: as many as fit in 32 Mi input values, 1 to 8: one 256×256×450 spot, eight 64×64×450 ones).")
    var batch: Int?
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions

    func validate() throws {
        if let batch, batch < 1 || batch > 1024 { throw ValidationError("--batch must lie in 1…1024, got \(batch)") }
        if let threshold, !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must lie in (0, 1), got \(threshold)") }
        guard streamAbove >= 0 else { throw ValidationError("--stream-above must be 0 or more, got \(streamAbove)") }
    }

    func run() throws {
        threading.apply()
        try compute.apply()
        let registry = try CompSegTool.registry()
        let (trained, modality, store, _, streamed, files, order) = try input.load(registry, streamAbove: streamAbove)
        let threshold = trained.maskThreshold(given: threshold).value
        let folder = URL(fileURLWithPath: input.out), (record, recorded) = input.earlierSegmentation()
        let outputs = SegmentationFiles.paths(for: store.ids + streamed.map(\.id), in: folder, geoJSON: geojson) + [record]
        try input.writing(outputs, removing: recorded, command: "segment") { earlier in
            let (samples, maps, times) = try trained.segmentedTimed(store, batchSize: batch, clock: modality.clock)
            let writingStart = DispatchTime.now().uptimeNanoseconds
            var streaming = 0.0  // seconds of the streamed images, left out of the samples' writing time
            var fractions = SegmentationEvaluation(samples: samples, maps: maps, truth: [:], threshold: threshold).results
            // Every file or none: a failure (a full disk, say) leaves no new file behind; an earlier
            // segmentation's files, none of which stays beside these, go once these are in place.
            try OutputList.replace(in: folder, earlier: earlier, last: [record.lastPathComponent]) { staging in
                for (sample, map) in zip(samples, maps) {
                    try SegmentationFiles.write(sample, map: map, threshold: threshold, to: staging, geoJSON: geojson)
                }
                for large in streamed {
                    guard let source = modality.reader as? any RegionImageSource,
                          let regions = try source.regions(of: large.url, label: large.label) else { continue }
                    print("Segmenting \(large.url.path) (\(regions.width)×\(regions.height)) region by region"
                          + (regions.tissueNote.map { "; \($0)" } ?? "") + "…")
                    let start = DispatchTime.now().uptimeNanoseconds
                    do {
                        fractions.append(try trained.segmentStreaming(regions, id: large.id, modality: modality, threshold: threshold,
                                                                      to: staging, geoJSON: geojson))
                    } catch { throw CLIError("\(large.url.path) (\(regions.width)×\(regions.height), region by region): \(error)") }
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                    streaming += seconds
                    print(String(format: "  %.1f s (reading, preprocessing, network and writing, region by region)", seconds))
                }
                let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
                fractions.sort { rank[$0.id, default: 0] < rank[$1.id, default: 0] }  // as the inputs were given
                try writeDurably(Data(SegmentationFiles.segmentationRecord(fractions, threshold: threshold, files: files).utf8),
                                 to: staging.appendingPathComponent(record.lastPathComponent))
            }
            let writing = Double(DispatchTime.now().uptimeNanoseconds - writingStart) * 1e-9 - streaming
            input.warnAboutBlankSamples(fractions, csv: true)
            warnAboutCheckerboard(samples, maps, topology: trained.description.topology)
            print("Segmented \(counted(samples.count + streamed.count, "sample")) into \(folder.path)")
            if !samples.isEmpty {
                print("Time" + (streamed.isEmpty ? "" : " of the \(counted(samples.count, "sample")) loaded whole") + ": "
                      + times.summary(writing: writing))
            }
        }
    }
}
