import CompSegCore
import CompSegFigures
import CompSegIO
import Foundation

/// The figures of an evaluation and one self-contained `report.html` (images embedded):
/// per sample `<id>_overlay.png` (mask blended on the preview), `<id>_contour.png`,
/// `<id>_heatmap.png` (viridis with its colour bar, titled "activation"), `<id>_label.png` (0
/// background, 1 tumor, as QuPath imports label images) and `<id>_panel.png` (preview | heatmap |
/// overlay | ground truth, titled, its caption the sample, label, tumor fraction and Dice); `roc.png`/`roc.svg` (the ROC of the tumor fraction
/// with its AUC interval and Youden's point), `fractions.png`/`fractions.svg` (the tumor fraction
/// by class with Youden's cut) and `thresholds.png`/`thresholds.svg` (mean Dice and Youden's J
/// against the activation threshold, the chosen one marked).
public enum EvaluationReport {
    /// Colours of the classes in figures: cancer-free, cancer (blue and vermilion, which readers
    /// with red–green colour blindness tell apart, as they do not green and red).
    public static let cancerFreeColour: RGB = (0, 114, 178), cancerColour: RGB = (213, 94, 0)
    /// The predicted mask's colour and opacity in the figures (`overlay --colour`, `--alpha` change them).
    public static let maskColour: RGB = (255, 0, 0), maskAlpha = 0.35
    /// The colour of the true tumor in the truth pictures.
    public static let truthColour: RGB = (0, 160, 255)

    /// The true tumor's colour beside masks drawn in `colour`: `truthColour`, or orange where
    /// `colour` is near it (`overlay --colour 0000ff`), so that the two never look alike.
    public static func truthColour(beside colour: RGB) -> RGB {
        let d = [Int(colour.0) - Int(truthColour.0), Int(colour.1) - Int(truthColour.1), Int(colour.2) - Int(truthColour.2)]
        return d.map { $0 * $0 }.reduce(0, +) < 200 * 200 ? (255, 150, 0) : truthColour
    }

    /// Writes the figures and the report into `folder`.
    /// - Parameters:
    ///   - title: the report's heading line (e.g. the run folder and data).
    ///   - curves: the run's training curves (SVG), embedded when given.
    ///   - thresholdOrigin: how the activation threshold came about, e.g. "chosen on the validation
    ///     split (best mean Dice)" or "set by --threshold".
    ///   - colour, alpha: of the blended mask.
    ///   - warnings: what the command warned of, listed under the summary.
    ///   - footer: the page's closing line: which compseg and which weights made it.
    public static func write(_ evaluation: SegmentationEvaluation, samples: [Sample], maps: [[Float]],
                             truth: [String: [Bool]], title: String, to folder: URL, curves: String? = nil,
                             thresholdOrigin: String = "set by --threshold",
                             colour: RGB = maskColour, alpha: Double = maskAlpha, warnings: [String] = [], footer: String? = nil) throws {
        let gallery = try writeFigures(evaluation, samples: samples, maps: maps, truth: truth, to: folder,
                                       colour: colour, alpha: alpha)
        try write(evaluation, counts: zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id], thresholds: [evaluation.threshold]) },
                  gallery: gallery, title: title, to: folder, curves: curves, thresholdOrigin: thresholdOrigin, colour: colour,
                  warnings: warnings, footer: footer)
    }

    /// Writes the charts and the report into `folder`, from each sample's activation counts (over
    /// edges that hold `evaluation`'s threshold) and report card (`writeFigures`, `card`); `warnings`,
    /// what the command warned of, are listed under the summary.
    public static func write(_ evaluation: SegmentationEvaluation, counts: [ActivationCounts], gallery: [(score: Double, html: String)],
                             title: String, to folder: URL, curves: String? = nil, thresholdOrigin: String = "set by --threshold",
                             colour: RGB = maskColour, warnings: [String] = [], footer: String? = nil) throws {
        let s = evaluation.summary
        // The ROC needs both classes, the threshold's curves cancer samples with truth or both
        // classes: without them neither is drawn (an empty plot with a caption about curves misleads).
        let bothClasses = s.auc != nil
        let cancerWithTruth = evaluation.results.contains { $0.label == .cancer && $0.pixel != nil }
        if bothClasses { try writeROC([rocCurve(name: "tumor fraction", evaluation)], to: folder) }
        let fractions = fractionChart(evaluation)
        try fractions.render().writePNG(to: folder.appendingPathComponent("fractions.png"))
        try writeDurably(Data(fractions.svg().utf8), to: folder.appendingPathComponent("fractions.svg"))
        let sweep = thresholdChart(counts: counts, chosen: evaluation.threshold)
        if bothClasses || cancerWithTruth {
            try sweep.render().writePNG(to: folder.appendingPathComponent("thresholds.png"))
            try writeDurably(Data(sweep.svg().utf8), to: folder.appendingPathComponent("thresholds.svg"))
        }

        var figures: [String] = []
        if bothClasses {
            figures.append(ReportHTML.figure(svg: ROCCurve.svg(curves: [rocCurve(name: "tumor fraction", evaluation)]),
                                             alt: "ROC curve of the tumor fraction",
                                             caption: "ROC of the tumor fraction against the image labels. The ringed dot is Youden's point "
                                                + "(the cut that maximizes sensitivity + specificity − 1); the interval, where there is one, "
                                                + "is DeLong's 95% interval"
                                                + (evaluation.summary.aucCIClustered
                                                   ? ", clustered by patient (Obuchowski)." : ".")))
        }
        figures.append(ReportHTML.figure(svg: fractions.svg(), alt: "Tumor fraction by class",
                                         caption: "Tumor fraction of each sample (share of its tissue with activation above "
                                            + thresholdText(s.threshold) + "), by image label; boxes span the quartiles, the bar is the median. "
                                            + (s.youdenFraction == nil ? "No cut is drawn: Youden's cut needs samples of both classes that some cut tells apart."
                                               : "Samples on or above the dashed cut are called cancer.")))
        if bothClasses || cancerWithTruth {
            figures.append(ReportHTML.figure(svg: sweep.svg(), alt: "Mean Dice and Youden's J against the activation threshold",
                                             caption: "Why the threshold is " + thresholdText(s.threshold) + ": it was \(thresholdOrigin). "
                                                + "The curves show, on these samples, how the mean Dice of cancer samples and Youden's J of the tumor fraction change with it."))
        }
        if let curves {
            figures.append(ReportHTML.figure(svg: curves, alt: "Training curves",
                                             caption: "Training: loss on the training and validation splits and validation AUC per epoch; "
                                                + "the dashed line marks the epoch whose weights were kept (lowest validation loss)."))
        }
        let body = """
            <h1>CompSeg evaluation</h1>
            <p class="subtitle">\(ReportHTML.escape(title))</p>
            \(summaryTiles(evaluation, thresholdOrigin: thresholdOrigin))
            \(ReportHTML.warnings(warnings))
            <h2>Figures</h2>
            <div class="figures">
            \(figures.joined(separator: "\n"))
            </div>
            <h2>Samples, highest tumor fraction first</h2>
            \(try sampleLegend(threshold: s.threshold, colour: colour))
            <div class="cards">
            \(gallery.sorted { $0.score > $1.score }.map(\.html).joined(separator: "\n"))
            </div>
            <h2>Per-sample results</h2>
            <p class="subtitle">Click a column, or press Enter on it, to sort; a sample's name leads to its card.</p>
            \(sampleTable(evaluation))
            """
        try writeDurably(Data(ReportHTML.page(title: "CompSeg evaluation: \(title)", body: body, footer: footer).utf8),
                         to: folder.appendingPathComponent("report.html"))
    }

    /// The ROC curve of `evaluation`'s tumor fraction, with DeLong's interval and Youden's point.
    public static func rocCurve(name: String, _ evaluation: SegmentationEvaluation) -> ROCCurve.Curve {
        let labelled = evaluation.results.filter { $0.label != nil }
        var curve = ROCCurve.curve(name: name, scores: labelled.map(\.tumorFraction), labels: labelled.map { $0.label == .cancer })
        let s = evaluation.summary
        if let ci = s.aucCI, ci.count == 2 { curve.interval = (ci[0], ci[1]) }
        if let sens = s.sensitivity, let spec = s.specificity, let cut = youdenCutText(evaluation) {
            curve.marker = ((1 - spec, sens), "Youden: fraction ≥ \(cut)")
        }
        return curve
    }

    /// `roc.png` and `roc.svg` of `curves` in one figure; returns the PNG's location.
    @discardableResult
    public static func writeROC(_ curves: [ROCCurve.Curve], to folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("roc.png")
        try ROCCurve.render(curves: curves).writePNG(to: file)
        try writeDurably(Data(ROCCurve.svg(curves: curves).utf8), to: folder.appendingPathComponent("roc.svg"))
        return file
    }

    /// The strip plot of the tumor fraction by image label, with Youden's cut.
    public static func fractionChart(_ evaluation: SegmentationEvaluation) -> Chart {
        let r = evaluation.results
        let s = evaluation.summary
        return StripPlot.chart(
            groups: [StripPlot.Group(name: "cancer-free", values: r.filter { $0.label == .cancerFree }.map(\.tumorFraction), colour: cancerFreeColour),
                     StripPlot.Group(name: "cancer", values: r.filter { $0.label == .cancer }.map(\.tumorFraction), colour: cancerColour)],
            yLabel: "tumor fraction (activation > \(thresholdText(s.threshold)))", title: "Tumor fraction by class",
            cut: s.youdenFraction.map { ($0, "Youden cut \(youdenCutText(evaluation) ?? "")") })
    }

    /// The activation thresholds the sweep evaluates: 0.05, 0.10, … 0.95, as `bestThreshold` tries.
    public static let sweptThresholds: [Float] = stride(from: Float(0.05), through: 0.951, by: 0.05).map { ($0 * 100).rounded() / 100 }

    /// Mean Dice over cancer samples with truth (where any) and Youden's J of the tumor fraction at
    /// each swept threshold and at the chosen one, with the chosen threshold as a rule; a chosen
    /// threshold below the sweep is shown among the faint candidates (0.001 to 0.049) on a
    /// logarithmic axis.
    public static func thresholdChart(samples: [Sample], maps: [[Float]], truth: [String: [Bool]], chosen: Float) -> Chart {
        thresholdChart(counts: zip(samples, maps).map { ActivationCounts($0, map: $1, truth: truth[$0.id], thresholds: [chosen]) }, chosen: chosen)
    }

    /// `thresholdChart` from each sample's activation counts (over edges that hold `chosen`).
    public static func thresholdChart(counts: [ActivationCounts], chosen: Float) -> Chart {
        // A threshold below the sweep is drawn among the faint candidates, on a logarithmic axis: on
        // a linear one it would sit against the y axis.
        let faint = chosen > 0 && chosen < sweptThresholds[0]
        let thresholds = (faint ? ActivationCounts.candidates : sweptThresholds) + [chosen]
        let x: (Float) -> Double = faint ? { log10(Double($0)) } : { Double($0) }
        var dice: [(x: Double, y: Double)] = [], youden: [(x: Double, y: Double)] = []
        for t in Set(thresholds).sorted() {
            let s = SegmentationEvaluation(counts: counts, threshold: t).summary
            if let d = s.diceMean, d.isFinite { dice.append((x(t), d)) }
            if let a = s.sensitivity, let b = s.specificity { youden.append((x(t), a + b - 1)) }
            else if s.auc != nil { youden.append((x(t), 0)) }  // both classes, and no cut better than chance: J is 0
        }
        let ticks = Chart.niceTicks(0...1, count: 5)
        let lowest = faint ? log10(Double(min(chosen, 0.001))) : -3
        let decades = (Int(lowest.rounded(.down))...0).map { (label: String(format: "%g", pow(10, Double($0))), value: Double($0)) }
        var chart = Chart(width: 480, height: 400, title: "Choice of the threshold",
                          xLabel: faint ? "activation threshold (logarithmic)" : "activation threshold", yLabel: "score",
                          xRange: faint ? (lowest - 0.1)...0.1 : -0.02...1.02, yRange: -0.02...1.02,
                          xTicks: faint ? decades : ticks, yTicks: ticks)
        if !dice.isEmpty { chart.series.append(.init(name: "mean Dice (cancer)", points: dice, colour: Palette.categorical[0], dotRadius: 3)) }
        if !youden.isEmpty { chart.series.append(.init(name: "Youden's J (fraction)", points: youden, colour: Palette.categorical[1], dotRadius: 3)) }
        chart.rules.append(.init(.vertical, at: x(chosen), colour: (200, 30, 30), dash: 7, name: "threshold \(thresholdText(chosen))"))
        return chart
    }

    /// The figures `writeFigures` writes for each sample, as `figureName(id, kind)`.
    static let figureKinds = ["overlay", "contour", "heatmap", "label", "panel"]
    /// The longest side of a card's pictures in `report.html`, in pixels.
    static let cardSide = 480
    static func figureName(_ id: String, _ kind: String) -> String { "\(id)_\(kind).png" }

    /// The longest side of a panel's pictures: a larger sample's panel (and card) is drawn from
    /// shrunk copies of its preview, map and masks (a 20,000² slide's would be 80,000 pixels wide).
    /// The overlay, contour, heatmap and label files keep the full resolution.
    public static let panelSide = 2048

    /// One sample's pictures as its panel and its report card show them: preview, activation map
    /// (the mask's outline on it, the threshold on its bar, grey outside the tissue), overlay and,
    /// with truth, the true tumor; enlarged (whole pixels) to 160 so that small ones stay readable.
    /// The panel's are drawn from copies shrunk to `panelSide`, the card's from the full size and
    /// shrunk to `cardSide` (one factor from the full size, as the docs give it).
    struct Views {
        let panel: RGBImage
        /// The card's pictures, titled, at most `cardSide` a side (the activation without its bar:
        /// the page has one legend).
        let card: [(title: String, image: RGBImage)]

        /// The pictures at one size.
        private struct Pictures {
            let shown: RGBImage, overlay: RGBImage, truth: RGBImage?, upscale: Int, width: Int
            let map: [Float], cut: (value: Float, outline: Mask, colour: RGB), tissue: Mask

            init(preview: RGBImage, map: [Float], mask: Mask, tissue: Mask, truth: Mask?, threshold: Float, colour: RGB, alpha: Double) {
                let upscale = max(1, 160 / max(preview.height, preview.width))
                (self.upscale, width, self.map, self.tissue) = (upscale, preview.width, map, tissue)
                cut = (threshold, mask.scaled(by: upscale), colour)
                shown = preview.scaled(by: upscale)
                overlay = Overlay.blend(preview: preview, mask: mask, colour: colour, alpha: alpha).scaled(by: upscale)
                self.truth = truth.map {
                    Overlay.blend(preview: preview, mask: $0, colour: truthColour(beside: colour), alpha: alpha).scaled(by: upscale)
                }
            }

            func heatmap(colorBar: Bool) -> RGBImage {
                Heatmap.render(values: map, height: shown.height / upscale, width: width, colorBar: colorBar, scale: upscale,
                               threshold: cut, tissue: tissue)
            }
        }

        /// - Parameters:
        ///   - caption: the panel's line under its pictures (`panelCaption`), so that a panel shown alone says whose it is.
        ///   - pixelSize: the physical size of `preview`'s pixels, where known: the previews then carry a scale bar.
        init(preview: RGBImage, map: [Float], mask: Mask, tissue: Mask, truth: Mask?, threshold: Float, colour: RGB, alpha: Double,
             caption: String? = nil, pixelSize: PixelSize? = nil) throws {
            let full = Pictures(preview: preview, map: map, mask: mask, tissue: tissue, truth: truth, threshold: threshold,
                                colour: colour, alpha: alpha)
            // The bar on a preview as shown: the sample's pixel size times sample pixels per shown pixel.
            func barred(_ shown: RGBImage) -> RGBImage {
                guard let pixelSize else { return shown }
                return ScaleBar.drawn(on: shown, micrometresPerPixel: pixelSize.x * Double(preview.width) / Double(shown.width))
            }
            var quad: [(String, RGBImage)] = [("preview", full.shown), ("activation", full.heatmap(colorBar: false)),
                                              ("predicted tumor", full.overlay)]
            if let truth = full.truth { quad.append(("true tumor", truth)) }
            // A slide of thousands of pixels would make the report tens of megabytes: cards are shrunk, the PNGs beside it are not.
            card = quad.enumerated().map { i, picture in
                let shrunk = picture.1.shrunk(toFit: cardSide)
                return (picture.0, i == 0 ? barred(shrunk) : shrunk)
            }

            let (h, w) = (preview.height, preview.width), f = Downscale.factor(height: h, width: w, toFit: panelSide)
            let small = f == 1 ? full
                : Pictures(preview: preview.shrunk(toFit: panelSide), map: Downscale.mean(height: h, width: w, factor: f) { map[$0] },
                           mask: Downscale.majority(height: h, width: w, factor: f) { mask.pixels[$0] },
                           tissue: Downscale.majority(height: h, width: w, factor: f) { tissue.pixels[$0] },
                           truth: truth.map { t in Downscale.majority(height: h, width: w, factor: f) { t.pixels[$0] } },
                           threshold: threshold, colour: colour, alpha: alpha)
            // In the panel the map starts where the other pictures do: the heatmap's white margin is cut
            // off at the left and top (the bottom one holds half of the colour bar's "0").
            let heatmap = small.heatmap(colorBar: true), m = Heatmap.margin
            var columns: [(title: String, image: RGBImage)] = [
                ("preview", barred(small.shown)), ("activation", heatmap.cropped(x: m, y: m, width: heatmap.width - m, height: heatmap.height - m)),
                ("predicted tumor", small.overlay)]
            if let truth = small.truth { columns.append(("true tumor", truth)) }
            panel = Panel.compose(columns, caption: caption, titleSpans: [1: small.width * small.upscale])
        }
    }

    /// A panel's caption: the sample, its label where known, its tumor fraction at the threshold,
    /// its tumor area where the pixel size is known, and its Dice where scored
    /// ("spot003, cancer, tumor fraction 0.231 (activation > 0.35), tumor 0.0412 mm², Dice 0.81").
    static func panelCaption(id: String, label: SampleLabel?, fraction: Double, threshold: Float, tumorArea: Double? = nil,
                             dice: Double? = nil) -> String {
        ([id] + [label?.rawValue].compactMap { $0 } + ["tumor fraction \(fractionText(fraction)) (activation > \(thresholdText(threshold)))"]
            + [tumorArea.map { "tumor " + areaText($0) }, dice.map { String(format: "Dice %.2f", $0) }].compactMap { $0 }).joined(separator: ", ")
    }

    /// An area at 3 significant digits: in mm² ("0.0412 mm²"), under 0.01 mm² in µm² ("2540 µm²").
    static func areaText(_ squareMillimetres: Double) -> String {
        squareMillimetres > 0 && squareMillimetres < 0.01 ? significant(squareMillimetres * 1e6) + " µm²" : significant(squareMillimetres) + " mm²"
    }

    /// `v` at 3 significant digits without an exponent ("0.0000412", "41.2", "41200").
    static func significant(_ v: Double) -> String {
        guard v > 0, v.isFinite else { return String(format: "%g", v) }
        return String(format: "%.\(max(0, 2 - Int(log10(v).rounded(.down))))f", v)
    }

    /// Writes each sample's figures; returns each sample's tumor fraction with its HTML card
    /// (`evaluation` holds a result for each of the samples, and may hold others').
    @discardableResult
    public static func writeFigures(_ evaluation: SegmentationEvaluation, samples: [Sample], maps: [[Float]],
                                    truth: [String: [Bool]], to folder: URL,
                                    colour: RGB = maskColour, alpha: Double = maskAlpha,
                                    anchorPrefix: String = "") throws -> [(score: Double, html: String)] {
        var gallery: [(score: Double, html: String)] = []
        let results = Dictionary(uniqueKeysWithValues: evaluation.results.map { ($0.id, $0) })
        for (sample, map) in zip(samples, maps) {
            try Interruption.check()  // Ctrl-C: between samples
            let result = results[sample.id]!
            let (h, w) = (sample.height, sample.width)
            let mask = try Mask(height: h, width: w, pixels: map.indices.map { map[$0] > evaluation.threshold && sample.tissue.pixels[$0] })
            let truthMask = try truth[sample.id].map { try Mask(height: h, width: w, pixels: $0) }
            // Small images are enlarged (whole pixels) so a panel stays readable; the contour is
            // drawn on the enlarged mask, so that its line stays one pixel wide.
            let upscale = max(1, 160 / max(h, w)), enlarged = mask.scaled(by: upscale)
            let texts = FigureTexts(id: sample.id, threshold: evaluation.threshold, pixelSize: result.pixelSize, upscale: upscale)
            try Overlay.blend(preview: sample.preview, mask: mask, colour: colour, alpha: alpha).scaled(by: upscale)
                .writePNG(to: folder.appendingPathComponent(figureName(sample.id, "overlay")), metadata: texts.overlay)
            try Overlay.contour(preview: sample.preview.scaled(by: upscale), mask: enlarged, colour: colour)
                .writePNG(to: folder.appendingPathComponent(figureName(sample.id, "contour")), metadata: texts.contour)
            // The mask's outline on the map, and the threshold on its bar: which pixels it takes, however faint.
            try Heatmap.render(values: map, height: h, width: w, scale: upscale, threshold: (evaluation.threshold, enlarged, colour),
                               tissue: sample.tissue)
                .writePNG(to: folder.appendingPathComponent(figureName(sample.id, "heatmap")), metadata: texts.heatmap)
            try PNGImage(width: w, height: h, channels: 1, pixels: mask.pixels.map { $0 ? 1 : 0 })
                .write(to: folder.appendingPathComponent(figureName(sample.id, "label")), metadata: texts.label)
            let caption = panelCaption(id: sample.id, label: result.label, fraction: result.tumorFraction, threshold: evaluation.threshold,
                                       tumorArea: result.tumorArea, dice: result.dice)
            let views = try Views(preview: sample.preview, map: map, mask: mask, tissue: sample.tissue, truth: truthMask,
                                  threshold: evaluation.threshold, colour: colour, alpha: alpha, caption: caption, pixelSize: result.pixelSize)
            try views.panel.writePNG(to: folder.appendingPathComponent(figureName(sample.id, "panel")), metadata: texts.panel(caption))
            gallery.append(try card(result, pictures: views.card, evaluation: evaluation, anchorPrefix: anchorPrefix))
        }
        return gallery
    }

    /// A sample's report card: its pictures (`Views.card`) and numbers, with its tumor fraction (the cards' order).
    public static func card(_ result: SegmentationEvaluation.SampleResult, pictures: [(title: String, image: RGBImage)],
                            evaluation: SegmentationEvaluation, anchorPrefix: String = "") throws -> (score: Double, html: String) {
        let cells = try pictures.map { title, image in
            "<div>\(title)<img src=\"\(ReportHTML.dataURI(try ReportHTML.pngData(image), mime: "image/png"))\" "
                + "alt=\"\(ReportHTML.escape(result.id)): \(title)\" width=\"\(image.width)\" height=\"\(image.height)\"></div>"
        }
        let label = result.label?.rawValue ?? "unlabelled"
        var numbers = "tumor fraction \(fractionText(result.tumorFraction))"
        if let area = result.tumorArea { numbers += " · tumor \(areaText(area))" }
        if let called = evaluation.call(result) { numbers += " · called \(called.rawValue)" }
        if let dice = result.dice { numbers += String(format: " · Dice %.2f", dice) }
        return (result.tumorFraction, """
            <article class="card" id="\(ReportHTML.anchor(anchorPrefix + result.id))"><header><h3>\(ReportHTML.escape(result.id))</h3>\
            <span class="badge \(label)">\(label)</span><span class="numbers">\(numbers)</span></header>\
            <div class="quad">\(cells.joined())</div></article>
            """)
    }

    /// The summary: one tile per number, each with a line on what it means.
    static func summaryTiles(_ evaluation: SegmentationEvaluation, thresholdOrigin: String) -> String {
        let s = evaluation.summary
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        func meanSD(_ mean: Double?, _ sd: Double?) -> String { f(mean) + (sd.map { " ± " + f($0) } ?? "") }  // one sample: no sd
        var tiles = [
            ReportHTML.tile("Samples", "\(s.nCancer) cancer / \(s.nCancerFree) cancer-free",
                            "Evaluated samples, by their image label" + (s.nPatients.map { ", from \($0) patient\($0 == 1 ? "" : "s")" } ?? "") + "."),
            ReportHTML.tile("AUC", f(s.auc) + (s.aucCI.map { " [\(f($0[0])), \(f($0[1]))]" } ?? ""),
                            "How well the tumor fraction ranks cancer above cancer-free samples: 1 perfect, 0.5 chance; "
                                + (s.auc == nil ? "none here: it needs samples of both classes."
                                   : s.aucCI == nil && evaluation.classFromOnePatient != nil
                                   ? "no 95% interval: every \(evaluation.classFromOnePatient == .cancer ? "cancer" : "cancer-free") sample comes "
                                     + "from one patient, and samples of one patient are not independent, so they tell no spread between patients."
                                   : s.aucCI == nil
                                   ? "no 95% interval: DeLong's method gives none with one sample of a class, and a 0-wide one "
                                     + "when the classes separate completely or every score ties, which few samples cannot show."
                                   : s.aucCIClustered
                                   ? "95% interval by DeLong's method clustered by patient (Obuchowski): a patient's samples are "
                                     + "not independent, so each patient counts as one source."
                                   : "95% interval by DeLong's method.")),
        ]
        if let cancer = s.nPatientsCancer, let free = s.nPatientsCancerFree {
            tiles.append(ReportHTML.tile("Patient AUC", f(s.patientAUC) + (s.patientAUCCI.map { " [\(f($0[0])), \(f($0[1]))]" } ?? ""),
                                         "Over the patients (\(cancer) cancer / \(free) cancer-free), each scored by the highest tumor "
                                         + "fraction of its samples and counted cancer where any of them is"
                                         + (s.patientAUC == nil ? "; none here: " + SegmentationEvaluation.noPatientAUC(cancer: cancer) + "."
                                            : s.patientAUCCI == nil ? "; no 95% interval with so few patients or a complete separation."
                                            : "; 95% interval by DeLong's method.")))
        }
        tiles += [
            ReportHTML.tile("Threshold", thresholdText(s.threshold),
                            "A pixel counts as tumor where the network's activation exceeds it; it was \(thresholdOrigin)."),
            ReportHTML.tile("Youden cut", youdenCutText(evaluation).map { "fraction ≥ \($0)" } ?? (s.auc == nil ? "–" : "none"),
                            "A sample is called cancer when its tumor fraction reaches this cut (best sensitivity + specificity − 1)"
                                + (s.youdenFraction == nil && s.auc != nil ? "; none here: no cut calls the samples better than chance "
                                   + "(every tumor fraction alike, say), so none is called." : ".")),
            ReportHTML.tile("Sensitivity / specificity", "\(f(s.sensitivity, 2)) / \(f(s.specificity, 2))",
                            "At the Youden cut: share of cancer samples called cancer / of cancer-free samples called cancer-free."),
            ReportHTML.tile("Cancer-free tissue marked", s.cancerFreeFractionMean.map { SegmentationEvaluation.percentText($0, sd: s.cancerFreeFractionSD) } ?? "–",
                            "The share of the cancer-free samples' tissue the masks mark as tumor (mean ± sd): every marked pixel "
                                + "there is a false positive; 0 ideal."),
        ]
        if s.diceMean != nil {
            tiles += [
                ReportHTML.tile("Dice", meanSD(s.diceMean, s.diceSD),
                                "Overlap of the predicted and true tumor, over cancer samples with truth (mean ± sd; 1 perfect)."),
                ReportHTML.tile("True tumor outside tissue", s.truthPixelsOutsideTissue.map { "\($0) of \(s.truthPixels ?? 0) px" } ?? "–",
                                "True tumor pixels the tissue mask leaves out: the masks cannot mark them, and Dice counts them as "
                                + "missed. Many mean a tissue-mask problem, not the network's (inspect; the reader's tissue options; a mask column)."),
                ReportHTML.tile("IoU", meanSD(s.iouMean, s.iouSD),
                                "Intersection over union of the predicted and true tumor, over cancer samples with truth."),
                ReportHTML.tile("Pixel sensitivity", meanSD(s.pixelSensitivityMean, s.pixelSensitivitySD),
                                "Share of the true tumor pixels that are predicted tumor, over cancer samples with truth."),
                ReportHTML.tile("Pixel specificity", meanSD(s.pixelSpecificityMean, s.pixelSpecificitySD),
                                "Share of the tissue pixels without tumor that are left unmarked, over cancer samples with truth."),
            ]
        }
        if s.diceMean != nil || s.nBothEmpty > 0 {  // cancer-free samples with truth alone have no Dice, but may be left clean
            tiles.append(ReportHTML.tile("Both empty", "\(s.nBothEmpty)", "Samples with a truth mask whose predicted and true masks are both empty: "
                                         + "cancer-free samples left clean, and any cancer sample among them, which counts as Dice 1 in the mean "
                                         + "(a cancer-free sample has no Dice of its own: its tumor fraction says how much it marks)."))
        }
        return "<div class=\"tiles\">\n\(tiles.joined(separator: "\n"))\n</div>"
    }

    /// The legend above the sample cards: the activation colour bar and the mask colours.
    public static func sampleLegend(threshold: Float, colour: RGB = maskColour) throws -> String {
        let picture = Heatmap.colorBarLegend(threshold: (threshold, colour))  // shown at its own size: its pixel text stays sharp
        let bar = ReportHTML.dataURI(try ReportHTML.pngData(picture), mime: "image/png")
        return "<div class=\"legendrow\"><img src=\"\(bar)\" alt=\"activation colour bar, 0 to 1, the threshold marked\" "
            + "width=\"\(picture.width)\" height=\"\(picture.height)\">"
            + "<span><span class=\"swatch\" style=\"background:\(Palette.hex(colour))\"></span>predicted tumor: activation above "
            + thresholdText(threshold) + " in tissue (outlined on the activation, marked on its bar)</span>"
            + "<span><span class=\"swatch\" style=\"background:\(Palette.hex(truthColour(beside: colour)))\"></span>true tumor (ground truth)</span>"
            + "<span><span class=\"swatch\" style=\"background:\(Palette.hex(Heatmap.outsideTissue))\"></span>outside the tissue (on the activation)</span></div>"
    }

    /// Youden's cut as the figures and tiles say it, "fraction ≥ TEXT": rounded down, with as
    /// many decimals beyond `fractionText`'s as it takes to stay above every labelled sample's
    /// fraction below the cut, so that the text calls the samples as the cut does (0.11053 is
    /// 0.1105 where a sample has 0.1102, not 0.111, which a sample at the cut lies below).
    public static func youdenCutText(_ evaluation: SegmentationEvaluation) -> String? {
        guard let cut = evaluation.summary.youdenFraction else { return nil }
        let below = evaluation.results.filter { $0.label != nil }.map(\.tumorFraction).filter { $0 < cut }.max() ?? -.infinity
        var decimals = fractionText(cut).split(separator: ".").last?.count ?? 3
        while decimals <= 12 {
            let scale = pow(10, Double(decimals))
            // A hair above the cut, so that a cut of 0.11 stored as 0.10999… is not shown as 0.109; never above the cut.
            var shown = (cut * scale * (1 + 1e-12)).rounded(.down) / scale
            if shown > cut { shown = (cut * scale).rounded(.down) / scale }
            if shown > below, shown <= cut { return String(format: "%.\(decimals)f", shown) }
            decimals += 1
        }
        return String(format: "%.15g", cut)
    }

    /// A tumor fraction for the eye: three decimals, or three significant digits below 0.1 (0.00152,
    /// 0.0000500), so that the faint fractions a low threshold gives are not all shown as 0.002
    /// beside a cut that falls between them.
    public static func fractionText(_ v: Double) -> String {
        guard v > 0, v < 0.1, v.isFinite else { return String(format: "%.3f", v) }
        return String(format: "%.\(min(12, 2 - Int(log10(v).rounded(.down))))f", v)
    }

    /// The per-sample table, sortable, each name linking to its card (whose anchor is
    /// `anchorPrefix` and the id: a page of several evaluations gives each its own prefix); with
    /// the patient where any sample names one, and the tumor and tissue areas where any sample's pixel size is known.
    public static func sampleTable(_ evaluation: SegmentationEvaluation, anchorPrefix: String = "") -> String {
        func n(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "" }
        func area(_ v: Double?) -> String { v.map(significant) ?? "" }
        let areas = evaluation.results.contains { $0.pixelSize != nil }, patients = evaluation.results.contains { $0.patient != nil }
        let rows = evaluation.results.map { r -> [String] in
            let called = evaluation.call(r)?.rawValue ?? ""
            return [r.id] + (patients ? [r.patient ?? ""] : []) + [r.label?.rawValue ?? "", called, fractionText(r.tumorFraction), n(r.dice), n(r.iou),
                    n(r.pixelSensitivity), n(r.pixel?.specificity), "\(r.tumorPixels)", "\(r.tissuePixels)"]
                + (areas ? [area(r.tumorArea), area(r.tissueArea), r.pixelSize.map { String($0.description.dropLast(3)) } ?? ""] : [])
        }
        return ReportHTML.sortableTable(
            header: ["sample"] + (patients ? ["patient"] : []) + ["label", "called (Youden cut)", "tumor fraction", "Dice", "IoU", "pixel sensitivity",
                     "pixel specificity", "predicted tumor pixels", "tissue pixels"]
                + (areas ? ["tumor area (mm²)", "tissue area (mm²)", "pixel size (µm)"] : []),
            numeric: Set(([3, 4, 5, 6, 7, 8, 9] + (areas ? [10, 11] : [])).map { $0 + (patients ? 1 : 0) }), rows: rows, rowIDs: evaluation.results.map { anchorPrefix + $0.id })
    }

    static func escape(_ s: String) -> String { ReportHTML.escape(s) }
}

/// What a sample's figure files say of themselves (`PNGMetadata`): a Description each, and the
/// pixel size of those drawn pixel for pixel (enlarged by `upscale`; the panel has none: its
/// pictures are shrunk or enlarged apart).
struct FigureTexts {
    let id: String, threshold: Float, pixelSize: PixelSize?, upscale: Int

    private func picture(_ what: String) -> PNGMetadata {
        .picture("\(what) of sample \(id) (activation > \(thresholdText(threshold)) within the tissue)",
                 pixelSize: pixelSize, upscale: upscale)
    }
    var overlay: PNGMetadata { picture("Predicted tumor tinted on the preview") }
    var contour: PNGMetadata { picture("Predicted tumor outlined on the preview") }
    var heatmap: PNGMetadata { picture("Activation map in colour, with the predicted tumor outlined") }
    var label: PNGMetadata {
        .picture("Tumor labels of sample \(id): 1 where the activation exceeds \(threshold) within the tissue, else 0", pixelSize: pixelSize)
    }
    func panel(_ caption: String) -> PNGMetadata { PNGMetadata(text: [.init("Description", "Panel of sample \(caption)")]) }
}
