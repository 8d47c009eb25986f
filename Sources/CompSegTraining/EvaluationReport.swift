import CompSegCore
import CompSegFigures
import CompSegIO
import Foundation

/// The figures of an evaluation and one self-contained `report.html` (images embedded):
/// per sample `<id>_overlay.png` (mask blended on the preview), `<id>_contour.png`,
/// `<id>_heatmap.png` (viridis with colour bar), `<id>_label.png` (0 background, 1 tumor, as QuPath
/// imports label images) and `<id>_panel.png` (preview | heatmap | overlay | ground truth);
/// `roc.png` and `roc.svg` of the tumor fraction.
public enum EvaluationReport {
    /// Writes the figures and the report into `folder`.
    /// - Parameters:
    ///   - title: the report's heading (e.g. the run folder).
    ///   - colour, alpha: of the blended mask.
    public static func write(_ evaluation: SegmentationEvaluation, samples: [Sample], maps: [[Float]],
                             truth: [String: [Bool]], title: String, to folder: URL,
                             colour: RGB = (255, 0, 0), alpha: Double = 0.35) throws {
        let gallery = try writeFigures(evaluation, samples: samples, maps: maps, truth: truth, to: folder,
                                       colour: colour, alpha: alpha)
        let labelled = evaluation.results.filter { $0.label != nil }
        let curve = ROCCurve.curve(name: "tumor fraction", scores: labelled.map(\.tumorFraction),
                                   labels: labelled.map { $0.label == .cancer })
        let rocFile = try writeROC([curve], to: folder)
        let html = page(title: title, summary: evaluation.summary, roc: try Data(contentsOf: rocFile),
                        gallery: gallery.sorted { $0.score > $1.score }.map(\.html))
        try Data(html.utf8).write(to: folder.appendingPathComponent("report.html"), options: .atomic)
    }

    /// `roc.png` and `roc.svg` of `curves` in one figure; returns the PNG's location.
    @discardableResult
    public static func writeROC(_ curves: [ROCCurve.Curve], to folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("roc.png")
        try ROCCurve.render(curves: curves).writePNG(to: file)
        try Data(ROCCurve.svg(curves: curves).utf8).write(to: folder.appendingPathComponent("roc.svg"), options: .atomic)
        return file
    }

    /// Writes each sample's figures; returns each sample's tumor fraction with its gallery HTML.
    @discardableResult
    public static func writeFigures(_ evaluation: SegmentationEvaluation, samples: [Sample], maps: [[Float]],
                                    truth: [String: [Bool]], to folder: URL,
                                    colour: RGB = (255, 0, 0), alpha: Double = 0.35) throws -> [(score: Double, html: String)] {
        var gallery: [(score: Double, html: String)] = []
        for ((sample, map), result) in zip(zip(samples, maps), evaluation.results) {
            let (h, w) = (sample.height, sample.width)
            let mask = Mask(height: h, width: w, pixels: map.indices.map { map[$0] > evaluation.threshold && sample.tissue.pixels[$0] })
            let overlay = Overlay.blend(preview: sample.preview, mask: mask, colour: colour, alpha: alpha)
            let contour = Overlay.contour(preview: sample.preview, mask: mask, colour: colour)
            // Small images are enlarged (whole pixels) so a panel stays readable.
            let upscale = max(1, 160 / max(h, w))
            let heatmap = Heatmap.render(values: map, height: h, width: w, scale: upscale)
            var columns: [(title: String, image: RGBImage)] = [("preview", sample.preview.scaled(by: upscale)),
                                                               ("activation", heatmap), ("overlay", overlay.scaled(by: upscale))]
            if let t = truth[sample.id] {
                columns.append(("truth", Overlay.blend(preview: sample.preview, mask: Mask(height: h, width: w, pixels: t),
                                                       colour: (0, 160, 255), alpha: 0.5).scaled(by: upscale)))
            }
            let caption = "\(sample.id)  \(sample.label?.rawValue ?? "unlabelled")  fraction "
                + String(format: "%.2f", result.tumorFraction) + (result.pixel.map { String(format: "  Dice %.2f", $0.dice) } ?? "")
            let panel = Panel.compose(columns, caption: caption)
            try overlay.scaled(by: upscale).writePNG(to: folder.appendingPathComponent(sample.id + "_overlay.png"))
            try contour.scaled(by: upscale).writePNG(to: folder.appendingPathComponent(sample.id + "_contour.png"))
            try heatmap.writePNG(to: folder.appendingPathComponent(sample.id + "_heatmap.png"))
            try PNGImage(width: w, height: h, channels: 1, pixels: mask.pixels.map { $0 ? 1 : 0 })
                .write(to: folder.appendingPathComponent(sample.id + "_label.png"))
            let panelFile = folder.appendingPathComponent(sample.id + "_panel.png")
            try panel.writePNG(to: panelFile)
            gallery.append((result.tumorFraction, """
                <figure><img src="data:image/png;base64,\(try Data(contentsOf: panelFile).base64EncodedString())" alt="\(escape(sample.id))">\
                <figcaption>\(escape(caption))</figcaption></figure>
                """))
        }
        return gallery
    }

    private static func page(title: String, summary s: SegmentationEvaluation.Summary, roc: Data, gallery: [String]) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        let rows: [(String, String)] = [
            ("samples (cancer / cancer-free)", "\(s.nCancer) / \(s.nCancerFree)"),
            ("threshold", String(format: "%.2f", s.threshold)),
            ("AUC of the tumor fraction [95% CI, DeLong]", "\(f(s.auc)) [\(f(s.aucCI?[0])), \(f(s.aucCI?[1]))]"),
            ("sensitivity / specificity at Youden's point", "\(f(s.sensitivity)) / \(f(s.specificity))"),
            ("Dice, cancer samples (mean ± sd)", "\(f(s.diceMean)) ± \(f(s.diceSD))"),
            ("IoU, cancer samples (mean ± sd)", "\(f(s.iouMean)) ± \(f(s.iouSD))"),
            ("pixel sensitivity (mean ± sd)", "\(f(s.pixelSensitivityMean)) ± \(f(s.pixelSensitivitySD))"),
            ("pixel specificity (mean ± sd)", "\(f(s.pixelSpecificityMean)) ± \(f(s.pixelSpecificitySD))"),
            ("predicted and true masks both empty (Dice 1)", "\(s.nBothEmpty)"),
        ]
        let table = rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n")
        let rocData = roc.base64EncodedString()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>CompSeg evaluation: \(escape(title))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; margin-bottom: 1.5em; }
            th, td { text-align: left; padding: 0.3em 1em; border-bottom: 1px solid #ddd; }
            .gallery { display: flex; flex-wrap: wrap; gap: 1em; }
            figure { margin: 0; } figure img { image-rendering: pixelated; max-width: 100%; }
            figcaption { font-size: 0.85em; color: #555; }
            </style></head><body>
            <h1>CompSeg evaluation</h1>
            <p>\(escape(title))</p>
            <table>
            \(table)
            </table>
            <h2>ROC curve</h2>
            <img src="data:image/png;base64,\(rocData)" alt="ROC curve of the tumor fraction">
            <h2>Samples, highest tumor fraction first</h2>
            <div class="gallery">
            \(gallery.joined(separator: "\n"))
            </div>
            </body></html>
            """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
