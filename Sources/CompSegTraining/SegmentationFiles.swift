import CompSegCore
import CompSegIO
import Foundation

/// The files written per segmented sample: `<id>_map.png` (activation ×255, 8-bit), `<id>_map.tif`
/// (float32), `<id>_mask.png` (0/255, threshold within tissue) and, when asked for,
/// `<id>_mask.geojson`: the mask's polygons (holes included) as QuPath imports annotations, in
/// the full-resolution pixels of the file (a sample read at a reduced scale is scaled back up).
public enum SegmentationFiles {
    public static let suffixes = ["_map.png", "_map.tif", "_mask.png"]
    /// The activation above which a tissue pixel is tumor, unless a command is told otherwise (the paper's).
    public static let defaultThreshold: Float = 0.35
    public static let geoJSONSuffix = "_mask.geojson"

    /// The files `write` would create in `folder` for the samples named `ids`; with `figures`, also
    /// those `EvaluationReport.writeFigures` would.
    public static func paths(for ids: [String], in folder: URL, geoJSON: Bool = false, figures: Bool = false) -> [URL] {
        let kinds = suffixes + (geoJSON ? [geoJSONSuffix] : []) + (figures ? EvaluationReport.figureKinds.map { "_\($0).png" } : [])
        return ids.flatMap { id in kinds.map { folder.appendingPathComponent(id + $0) } }
    }

    /// What a command reads, each file with its role ("the truth of line 4 in data.csv"): a
    /// manifest's rows' images, tissue masks and truths, or files given by name.
    public static func inputs(_ rows: [Manifest.Row], manifest: String) -> [(url: URL, role: String)] {
        rows.flatMap { row in
            [(row.path, "the sample of line \(row.line) in \(manifest)")] + (row.mask.map { [($0, "the tissue mask of line \(row.line) in \(manifest)")] } ?? [])
                + (row.truth.map { [($0, "the truth of line \(row.line) in \(manifest)")] } ?? [])
        }
    }

    /// Throws when a file a command would write or remove (`outputs`) is one it reads (`inputs`),
    /// as when `--out` is the data's folder and a truth is named `<id>_mask.png`: written over,
    /// it would be lost, and a later evaluation would score the network against itself.
    public static func requireNoInput(among outputs: [URL], inputs: [(url: URL, role: String)], command: String) throws {
        func key(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
        let written = Set(outputs.map(key))
        guard let clash = inputs.first(where: { written.contains(key($0.url)) }) else { return }
        throw IOError(file: clash.url.path, "is \(clash.role), and \(command) writes a file of this name into its --out (or removes "
                      + "an earlier run's): choose another --out, so that no input is written over")
    }

    /// The headers compseg writes its per-sample records with (`segmentation.csv` before it named
    /// each file, before it recorded the threshold, before it checked inputs, and now; `per_sample.csv`).
    static let recordHeaders = ["id,label,tissue_pixels,tumor_pixels,tumor_fraction", "id,label,tissue_pixels,tumor_pixels,tumor_fraction,path",
                                "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path",
                                "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path,unfamiliar_input",
                                "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path,unfamiliar_input," + areaColumns,
                                segmentationHeader, EvaluationFiles.perSampleHeader] + EvaluationFiles.earlierPerSampleHeaders
    /// The header of `segmentation.csv` (`segment`, `overlay`).
    public static let segmentationHeader = "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path,unfamiliar_input," + areaColumns
        + ",patient"

    /// The last columns of both records: the pixel's physical size in µm, and the tissue's and the
    /// marked tumor's areas in mm², blank where the file records no pixel size.
    static let areaColumns = "pixel_width_um,pixel_height_um,tissue_area_mm2,tumor_area_mm2"

    /// `areaColumns`' cells for `result`, unrounded.
    static func areaCells(_ result: SegmentationEvaluation.SampleResult) -> [String] {
        guard let size = result.pixelSize, let tissue = result.tissueArea, let tumor = result.tumorArea else { return ["", "", "", ""] }
        return ["\(size.x)", "\(size.y)", "\(tissue)", "\(tumor)"]
    }

    /// The `unfamiliar_input` column's text for sample `id`: `yes` where its inputs lie outside
    /// those the run was trained on (`TrainedModel.unfamiliarInputs`), `no` where they do not,
    /// blank where nothing was checked (a run without `inputRange`, a sample without tissue).
    static func unfamiliarText(_ unfamiliar: [String: Bool]?, id: String) -> String {
        unfamiliar?[id].map { $0 ? "yes" : "no" } ?? ""
    }

    /// `segmentation.csv`'s text for `results`: a line per sample with its label, tissue and tumor
    /// pixels, tumor fraction (blank without tissue), the mask threshold and the file it came from
    /// (`files`, by id), whether its inputs lie outside the run's (`unfamiliarText`) and its pixel
    /// size and areas where known (`areaCells`), and its patient (`patients`, by id) where the
    /// manifest names one; numbers
    /// unrounded (the shortest text that reads back as the value, so that the threshold re-applied
    /// to the float maps gives the counts).
    public static func segmentationRecord(_ results: [SegmentationEvaluation.SampleResult], threshold: Float, files: [String: URL],
                                          patients: [String: String] = [:], unfamiliar: [String: Bool]? = nil) -> String {
        let rows = [segmentationHeader] + results.map {
            CSV.line([CSV.text($0.id), $0.label?.rawValue ?? "", "\($0.tissuePixels)", "\($0.tumorPixels)",
                      $0.tissuePixels == 0 ? "" : "\($0.tumorFraction)", "\(threshold)",
                      CSV.text(files[$0.id]?.path ?? ""), unfamiliarText(unfamiliar, id: $0.id)] + areaCells($0)
                     + [CSV.text(patients[$0.id] ?? "")])
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// The sample ids an earlier run's record in a folder lists: the first column of the
    /// `segmentation.csv` or `per_sample.csv` compseg wrote; none where there is no such record
    /// (a file of that name with another header is a user's, not ours).
    public static func recordedIDs(_ record: URL) -> [String] {
        guard let rows = recordRows(record) else { return [] }
        return rows.dropFirst().compactMap(\.first).map(CSV.readText).filter { !$0.isEmpty && !$0.contains("/") && $0 != "." && $0 != ".." }
    }

    /// Whether `record` is a per-sample record compseg wrote (`segmentation.csv`, `per_sample.csv`).
    public static func isRecord(_ record: URL) -> Bool { recordRows(record) != nil }

    private static func recordRows(_ record: URL) -> [[String]]? {
        guard let text = try? String(contentsOf: record, encoding: .utf8), let rows = try? CSV.parse(text, file: record.path),
              let header = rows.first, recordHeaders.contains(header.joined(separator: ",")) else { return nil }
        return rows
    }

    /// Refuses, even under `--force`, to write over files of `existing` that no earlier run of
    /// compseg wrote into `folder` (`ours`: its list of outputs, or what its records name): a file
    /// of the user's that shares an output's name.
    /// - Throws: `IOError` naming them.
    public static func requireOurs(_ existing: [URL], ours: [URL], in folder: URL) throws {
        let known = Set(ours.map(\.standardizedFileURL.path))
        let foreign = existing.filter { !known.contains($0.standardizedFileURL.path) }
        guard !foreign.isEmpty else { return }
        let one = foreign.count == 1
        throw IOError(file: folder.path, "holds \(entriesSummary(foreign.map(\.lastPathComponent))) that this run would write over and "
                      + "that no earlier run of compseg wrote there: --force replaces only compseg's own outputs; move "
                      + "\(one ? "it" : "them") or choose another --out")
    }

    /// Removes from `folder` the per-sample files of the samples `ids` (maps, masks, polygons and
    /// figures, whichever command wrote them), except those named in `keeping`: an earlier run's,
    /// so that a run written over it (`--force`) leaves none of them behind.
    public static func removeOutputs(of ids: [String], in folder: URL, keeping: Set<String> = []) {
        for url in paths(for: ids, in: folder, geoJSON: true, figures: true) where !keeping.contains(url.lastPathComponent) {
            removeWrittenFile(url)
        }
    }

    /// Writes one sample's map and mask (each file atomically), and with `geoJSON` its polygons,
    /// those of at least `minimumArea` full-resolution pixels.
    public static func write(_ sample: Sample, map: [Float], threshold: Float, to folder: URL, geoJSON: Bool = false,
                             minimumArea: Double = 0) throws {
        try Interruption.check()  // Ctrl-C: between samples
        let (h, w) = (sample.height, sample.width)
        let mask = map.indices.map { map[$0] > threshold && sample.tissue.pixels[$0] }
        let size = sample.pixelSize
        try PNGImage(width: w, height: h, channels: 1, pixels: map.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) })
            .write(to: folder.appendingPathComponent(sample.id + "_map.png"), metadata: .picture(mapDescription(sample.id), pixelSize: size))
        try FloatImage(width: w, height: h, channels: 1, values: map)
            .write(to: folder.appendingPathComponent(sample.id + "_map.tif"))
        try PNGImage(width: w, height: h, channels: 1, pixels: mask.map { $0 ? 255 : 0 })
            .write(to: folder.appendingPathComponent(sample.id + "_mask.png"),
                   metadata: .picture(maskDescription(sample.id, threshold: threshold), pixelSize: size))
        if geoJSON {
            let scale = Sample.pixelScale(in: sample.metadata, height: h, width: w)
            try MaskPolygons(width: w, height: h, pixels: mask, scale: scale)
                .write(to: folder.appendingPathComponent(sample.id + geoJSONSuffix), minimumArea: minimumArea)
        }
    }

    /// What `<id>_map.png` shows, as its Description says.
    static func mapDescription(_ id: String) -> String {
        "Activation map of sample \(id): the network's activation, 0 to 1, as 0 to 255"
    }

    /// What `<id>_mask.png` shows, as its Description says.
    static func maskDescription(_ id: String, threshold: Float) -> String {
        "Tumor mask of sample \(id): 255 where the activation exceeds \(threshold) within the tissue, else 0"
    }

    /// Each row's ground-truth tumor mask (its `truth` PNG or GeoJSON), by its sample's id.
    /// - Throws: `ManifestError` naming, by line, every row whose truth file is missing, unreadable,
    ///   or of neither its sample's size nor (read at a coarser level or scale) its file's full resolution.
    public static func readTruth(_ rows: [Manifest.Row], _ samples: [Sample], manifest: String) throws -> [String: [Bool]] {
        var truth: [String: [Bool]] = [:], problems: [String] = []
        for (row, s) in zip(rows, samples) {
            guard let file = row.truth else { continue }
            do { truth[s.id] = try MaskFile.mask(contentsOf: file, height: s.height, width: s.width, fullResolution: s.fullResolution) } catch {
                problems.append("line \(row.line): truth \(error)")
            }
        }
        guard problems.isEmpty else { throw ManifestError(file: manifest, problems: problems) }
        return truth
    }

    /// The patient of each of `samples` (read from `rows`, in their order) whose row names one, by sample id.
    public static func patients(_ rows: [Manifest.Row], _ samples: [Sample]) -> [String: String] {
        Dictionary(zip(rows, samples).compactMap { row, s in row.patient.map { (s.id, $0) } }) { a, _ in a }
    }

    /// Throws `ManifestError` naming, by line, every row whose truth file is missing or not a
    /// readable PNG or GeoJSON: checked before any sample is segmented (their sizes are checked when read).
    public static func checkTruthFiles(_ rows: [Manifest.Row], manifest: String) throws {
        try checkTruthFiles(rows.compactMap { row in row.truth.map { (row.line, $0) } }, manifest: manifest)
    }

    /// `checkTruthFiles` for truth files given with their manifest lines.
    public static func checkTruthFiles(_ truths: [(line: Int, file: URL)], manifest: String) throws {
        var problems: [String] = []
        for (line, file) in truths {
            do { try MaskFile.checkReads(file) } catch { problems.append("line \(line): truth \(error)") }
        }
        guard problems.isEmpty else { throw ManifestError(file: manifest, problems: problems) }
    }
}

extension PNGMetadata {
    /// A sample's picture: its `Description`, and the physical size of its pixels, `pixelSize`
    /// divided by `upscale` for a picture enlarged by whole pixels.
    static func picture(_ description: String, pixelSize: PixelSize?, upscale: Int = 1) -> PNGMetadata {
        PNGMetadata(text: [Entry("Description", description)],
                    pixelSize: pixelSize.flatMap { $0.scaled(by: (1 / Double(upscale), 1 / Double(upscale))) })
    }
}
