import CompSegCore
import CompSegFigures
import CompSegIO
import Foundation

/// The figures of an image segmented region by region (`TrainedModel.segmentStreaming`), drawn
/// without holding the image: it is read again a band of rows at a time.
struct StreamedFigures {
    /// Rows read at once: a band of a 20,000-pixel-wide slide is 20 MB of RGB.
    static let bandRows = 256

    let regions: any SampleRegions
    let id: String
    /// The 8-bit activation map (H×W), and the mask and the tissue as bits.
    let map: [UInt8], maskBits: PixelBits, tissueBits: PixelBits
    let truth: PixelBits?
    let threshold: Float, colour: RGB, alpha: Double
    /// The physical size of the image's pixels, where known.
    let pixelSize: PixelSize?

    func isMasked(_ p: Int) -> Bool { maskBits[p] }
    func isTissue(_ p: Int) -> Bool { tissueBits[p] }

    /// Writes `<id>_overlay.png`, `_contour.png` and `_label.png` at full resolution, row by row,
    /// and `<id>_heatmap.png` and `_panel.png` drawn from copies shrunk to `EvaluationReport.panelSide`.
    /// Memory beyond the maps: one band of the image, and the shrunk copies. An image smaller than
    /// 160 pixels a side (streamed by `--stream-above 0`) has its overlay and contour enlarged by
    /// whole pixels, as `EvaluationReport.writeFigures` draws a loaded one.
    /// - Returns: the report card's pictures (`EvaluationReport.Views.card`), from the shrunk copies.
    func write(to folder: URL) throws -> [(title: String, image: RGBImage)] {
        let (h, w) = (regions.height, regions.width)
        let name = { (kind: String) in folder.appendingPathComponent(EvaluationReport.figureName(id, kind)) }
        let enlarge = max(1, 160 / max(h, w))
        let texts = FigureTexts(id: id, threshold: threshold, pixelSize: pixelSize, upscale: enlarge)
        let overlay = enlarge > 1 ? nil : try PNGRowWriter(url: name("overlay"), width: w, height: h, channels: 3, metadata: texts.overlay)
        let contour = enlarge > 1 ? nil : try PNGRowWriter(url: name("contour"), width: w, height: h, channels: 3, metadata: texts.contour)
        let label = try PNGRowWriter(url: name("label"), width: w, height: h, channels: 1, metadata: texts.label)
        let f = Downscale.factor(height: h, width: w, toFit: EvaluationReport.panelSide)
        let (sh, sw) = Downscale.size(height: h, width: w, factor: f)
        var sums = [Int](repeating: 0, count: sh * sw * 3), counts = [Int](repeating: 0, count: sh * sw)
        var (tissuePixels, tumorPixels, truePixels, agreeing) = (0, 0, 0, 0)  // for the panel's caption: fraction and Dice
        let c = [colour.0, colour.1, colour.2], a = min(max(alpha, 0), 1), halo = Overlay.halo(for: colour), tone = [halo.0, halo.1, halo.2]
        for y0 in stride(from: 0, to: h, by: Self.bandRows) {
            try Interruption.check()
            let rows = min(Self.bandRows, h - y0)
            let preview = try regions.preview(y: y0, x: 0, height: rows, width: w).bytes
            var blended = preview, outlined = preview, labels = [UInt8](repeating: 0, count: rows * w)
            for r in 0..<rows {
                let y = y0 + r, small = (y / f) * sw
                for x in 0..<w {
                    let i = r * w + x, p = y * w + x
                    for k in 0..<3 { sums[(small + x / f) * 3 + k] += Int(preview[3 * i + k]) }
                    counts[small + x / f] += 1
                    if isTissue(p) {
                        tissuePixels += 1
                        if let truth, truth[p] { truePixels += 1; if isMasked(p) { agreeing += 1 } }
                    }
                    guard isMasked(p) else {
                        if Overlay.isHalo(x: x, y: y, height: h, width: w, isMasked) { for k in 0..<3 { outlined[3 * i + k] = tone[k] } }
                        continue
                    }
                    labels[i] = 1
                    tumorPixels += 1
                    for k in 0..<3 { blended[3 * i + k] = Overlay.tint(preview[3 * i + k], c[k], alpha: a) }
                    if Overlay.isBoundary(x: x, y: y, height: h, width: w, isMasked) { for k in 0..<3 { outlined[3 * i + k] = c[k] } }
                }
            }
            try overlay?.append(blended)
            try contour?.append(outlined)
            try label.append(labels)
        }
        try overlay?.finish()
        try contour?.finish()
        try label.finish()

        let shrunk = try RGBImage(height: sh, width: sw, bytes: sums.indices.map { UInt8((sums[$0] + counts[$0 / 3] / 2) / counts[$0 / 3]) })
        let smallMap = Downscale.mean(height: h, width: w, factor: f) { Float(map[$0]) / 255 }
        let smallMask = Downscale.majority(height: h, width: w, factor: f, isMasked)
        let smallTissue = Downscale.majority(height: h, width: w, factor: f, isTissue)
        let smallTruth = truth.map { t in Downscale.majority(height: h, width: w, factor: f) { t[$0] } }
        if enlarge > 1 {  // no shrinking (f is 1): the copies are the image
            try Overlay.blend(preview: shrunk, mask: smallMask, colour: colour, alpha: alpha).scaled(by: enlarge)
                .writePNG(to: name("overlay"), metadata: texts.overlay)
            try Overlay.contour(preview: shrunk.scaled(by: enlarge), mask: smallMask.scaled(by: enlarge), colour: colour)
                .writePNG(to: name("contour"), metadata: texts.contour)
        }
        let upscale = max(1, 160 / max(sh, sw))
        // The shrunk copies' pixels: the image's times its pixels per copy pixel.
        let shrunkSize = pixelSize?.scaled(by: (Double(w) / Double(sw), Double(h) / Double(sh)))
        try Heatmap.render(values: smallMap, height: sh, width: sw, scale: upscale,
                           threshold: (threshold, smallMask.scaled(by: upscale), colour), tissue: smallTissue)
            .writePNG(to: name("heatmap"), metadata: FigureTexts(id: id, threshold: threshold, pixelSize: shrunkSize, upscale: upscale).heatmap)
        // Dice as the evaluation gives it: with truth, over the tissue (1 where both masks are empty), none for a cancer-free sample.
        let dice = regions.label != .cancerFree && truth != nil
            ? (tumorPixels + truePixels == 0 ? 1 : 2 * Double(agreeing) / Double(tumorPixels + truePixels)) : nil
        let caption = EvaluationReport.panelCaption(id: id, label: regions.label, fraction: tissuePixels == 0 ? 0 : Double(tumorPixels) / Double(tissuePixels),
                                                    threshold: threshold, tumorArea: pixelSize?.squareMillimetres(tumorPixels), dice: dice)
        let views = try EvaluationReport.Views(preview: shrunk, map: smallMap, mask: smallMask, tissue: smallTissue, truth: smallTruth,
                                               threshold: threshold, colour: colour, alpha: alpha, caption: caption, pixelSize: shrunkSize)
        try views.panel.writePNG(to: name("panel"), metadata: texts.panel(caption))
        return views.card
    }
}
