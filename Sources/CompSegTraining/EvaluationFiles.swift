import CompSegIO
import Foundation

/// `summary.json`, `per_sample.csv` and (where samples name patients) `per_patient.csv` of an
/// evaluation, written atomically.
public enum EvaluationFiles {
    static let perPatientHeader = "patient,label,samples,cancer_samples,tumor_fraction_max,ids"

    static let perSampleHeader = "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,"
        + "called,split,path,unfamiliar_input," + SegmentationFiles.areaColumns + ",patient"
    /// The headers of evaluations written earlier: before the patient column, before the area columns, before the `unfamiliar_input` column, before the
    /// `called` and `split` columns, and before the `path` column.
    static let earlierPerSampleHeaders = [
        "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,called,split,path,unfamiliar_input,"
            + SegmentationFiles.areaColumns,
        "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,called,split,path,unfamiliar_input",
        "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,called,split,path",
        "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,path",
        "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty",
    ]

    /// Writes `summary.json` and `per_sample.csv`: a line per sample with its measures, its call at
    /// the Youden cut (`cancer` or `cancer-free`; empty without one), its split (`splits` by sample
    /// id), the file it came from (`files` by sample id), where known, and whether its inputs lie
    /// outside the run's (`unfamiliar`, as `SegmentationFiles.unfamiliarText`), and its pixel size and
    /// areas where known (`SegmentationFiles.areaCells`), and its patient where named. `source` sets the
    /// summary's `model`, `data`, `split` and `thresholdOrigin`; `run` its `nLeftOut` and `warnings`;
    /// `network` its `compsegVersion`, `weightsEpoch`, `weightsChecksum` and `fineTunedFrom`.
    public static func write(_ evaluation: SegmentationEvaluation, files: [String: URL] = [:], splits: [String: String] = [:],
                             source: (model: String, data: String, split: String, thresholdOrigin: String)? = nil,
                             run: (leftOut: Int, warnings: [String])? = nil, unfamiliar: [String: Bool]? = nil,
                             network: (version: String, epoch: Int?, checksum: String?, fineTunedFrom: String?)? = nil, to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        func number(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }  // unrounded: the shortest text that reads back as the value
        var lines = [perSampleHeader]
        for r in evaluation.results {
            lines.append(CSV.line([CSV.text(r.id), r.label?.rawValue ?? "", "\(r.tissuePixels)", "\(r.tumorPixels)", number(r.tumorFraction),
                          number(r.dice), number(r.iou), number(r.pixelSensitivity),
                          number(r.pixel?.specificity), r.pixel.map { $0.bothEmpty ? "1" : "0" } ?? "",
                          evaluation.call(r)?.rawValue ?? "", splits[r.id] ?? "", CSV.text(files[r.id]?.path ?? ""),
                          SegmentationFiles.unfamiliarText(unfamiliar, id: r.id)] + SegmentationFiles.areaCells(r) + [CSV.text(r.patient ?? "")]))
        }
        try writeDurably(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("per_sample.csv"))
        let patients = SegmentationEvaluation.patients(of: evaluation.results)
        if !patients.isEmpty {
            let rows = patients.map { p in
                CSV.line([CSV.text(p.patient), p.label?.rawValue ?? "", "\(p.samples.count)", "\(p.cancerSamples)", number(p.tumorFraction),
                          CSV.text(p.samples.joined(separator: ";"))])
            }
            try writeDurably(Data(([perPatientHeader] + rows).joined(separator: "\n").appending("\n").utf8),
                             to: folder.appendingPathComponent("per_patient.csv"))
        }
        var summary = evaluation.summary
        if let source { (summary.model, summary.data, summary.split, summary.thresholdOrigin) = source }
        if let run { (summary.nLeftOut, summary.warnings) = (run.leftOut, run.warnings) }
        if let network { (summary.compsegVersion, summary.weightsEpoch, summary.weightsChecksum, summary.fineTunedFrom) = network }
        try writeDurably(encoder.encode(summary), to: folder.appendingPathComponent("summary.json"))  // last: it says all is there
    }
}
