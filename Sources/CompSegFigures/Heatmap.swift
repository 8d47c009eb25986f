import CompSegCore

/// Scalar maps (activation maps, probabilities) in viridis, with an optional colour bar.
public enum Heatmap {
    /// Layout of the colour-bar version (pixels): white margin all round, gap between map and bar,
    /// bar width, tick length, gap between tick and label, and the minimum bar height (so that the
    /// labels never touch, however small the map).
    public static let margin = 6, gap = 8, barWidth = 14, tickLength = 4, labelGap = 3, minBarHeight = 96

    /// The colour of pixels outside the tissue, light enough to read as no measurement against
    /// viridis's dark low end.
    public static let outsideTissue: RGB = (222, 222, 222)

    /// The colour bar's title, written upwards beside it.
    public static let barTitle = "activation"

    /// Tick labels on the colour bar, top to bottom, with the value each marks.
    public static let ticks: [(label: String, value: Double)] = [("1", 1), ("0.5", 0.5), ("0", 0)]

    /// Output size for a `height`×`width` map enlarged by `scale`.
    public static func size(height: Int, width: Int, colorBar: Bool, scale: Int = 1) -> (height: Int, width: Int) {
        let h = height * scale, w = width * scale
        guard colorBar else { return (h, w) }
        let labelWidth = ticks.map { Text.width($0.label, size: Text.tickSize) }.max() ?? 0
        let titleWidth = Text.height(size: Text.tickSize)
        let barH = max(h, minBarHeight, Text.width(barTitle, size: Text.tickSize))
        return (2 * margin + barH,
                margin + w + gap + barWidth + tickLength + labelGap + labelWidth + gap + titleWidth + margin)
    }

    /// Renders `values` (H×W row-major, meant in [0, 1]; clamped, NaN mid grey) in viridis, each
    /// value a `scale`×`scale` block. Without the colour bar the picture is exactly the map; with it,
    /// the map sits on white at (margin, margin) with a vertical gradient bar to its right (1 at the
    /// top, 0 at the bottom) labelled 1, 0.5 and 0, and titled "activation" (reading upwards).
    /// With a `threshold` (the masks' cut, and its mask colour), the outline of `outline` (a mask
    /// of the enlarged map's size: where the map exceeds the threshold) is drawn on the map, and
    /// a line across the bar marks the threshold, both in that colour: faint maps, dark at every
    /// pixel, still show which pixels their masks take.
    /// With `tissue` (of the map's size), pixels outside it are `outsideTissue` grey: the masks,
    /// the tumor fraction and the pooling head see the tissue only.
    public static func render(values: [Float], height: Int, width: Int, colorBar: Bool = true, scale: Int = 1,
                              threshold: (value: Float, outline: Mask, colour: RGB)? = nil, tissue: Mask? = nil) -> RGBImage {
        precondition(values.count == height * width, "Heatmap: \(height)×\(width) needs \(height * width) values, got \(values.count)")
        precondition(scale >= 1, "Heatmap scale must be at least 1")
        precondition(tissue.map { $0.height == height && $0.width == width } ?? true, "Heatmap: the tissue mask is not \(height)×\(width)")
        var map = RGBImage(height: height, width: width, fill: Palette.black)
        for y in 0..<height { for x in 0..<width {
            let p = y * width + x
            map.set(x: x, y: y, tissue?.pixels[p] == false ? outsideTissue : Colormap.viridis(Double(values[p])))
        } }
        map = map.scaled(by: scale)
        if let threshold { map = Overlay.contour(preview: map, mask: threshold.outline, colour: threshold.colour) }
        guard colorBar else { return map }

        let (outH, outW) = size(height: height, width: width, colorBar: true, scale: scale)
        var out = RGBImage(height: outH, width: outW, fill: Palette.white)
        out.paste(map, x: margin, y: margin)
        let barX = margin + map.width + gap, barTop = margin, barH = outH - 2 * margin
        for r in 0..<barH {
            let colour = Colormap.viridis(1 - Double(r) / Double(max(barH - 1, 1)))
            out.fillRect(x: barX, y: barTop + r, width: barWidth, height: 1, colour)
        }
        // Outline just outside the gradient, so that every gradient row keeps its colour.
        out.drawLine(x0: barX - 1, y0: barTop - 1, x1: barX + barWidth, y1: barTop - 1, Palette.black)
        out.drawLine(x0: barX - 1, y0: barTop + barH, x1: barX + barWidth, y1: barTop + barH, Palette.black)
        out.drawLine(x0: barX - 1, y0: barTop - 1, x1: barX - 1, y1: barTop + barH, Palette.black)
        out.drawLine(x0: barX + barWidth, y0: barTop - 1, x1: barX + barWidth, y1: barTop + barH, Palette.black)
        let labelH = Text.height(size: Text.tickSize)
        var labelRight = 0
        for tick in ticks {
            let row = barTop + Int(((1 - tick.value) * Double(barH - 1)).rounded())
            let tickX = barX + barWidth + 1
            out.fillRect(x: tickX, y: row, width: tickLength - 1, height: 1, Palette.black)
            // Each label centred on its tick, the end ones moved within the bar's height: a panel
            // crops the margin off (`EvaluationReport.writeFigures`), and with it would go half a label.
            let y = min(max(row - labelH / 2, barTop), barTop + barH - labelH)
            Text.drawSmooth(tick.label, into: &out, x: tickX + tickLength - 1 + labelGap, y: y, size: Text.tickSize)
            labelRight = max(labelRight, tickX + tickLength - 1 + labelGap + Text.width(tick.label, size: Text.tickSize))
        }
        if let threshold {  // two pixels high, kept within the bar
            let row = barTop + Int(((1 - Double(min(max(threshold.value, 0), 1))) * Double(barH - 1)).rounded())
            out.fillRect(x: barX - 3, y: min(row, barTop + barH - 2), width: barWidth + 6, height: 2, threshold.colour)
        }
        let titleLength = Text.width(barTitle, size: Text.tickSize)
        Text.drawSmooth(barTitle, into: &out, x: labelRight + gap, y: barTop + (barH - titleLength) / 2, size: Text.tickSize, vertical: true)
        return out
    }

    /// A horizontal colour bar `length` pixels long for a legend: the viridis gradient (0 left, 1
    /// right) 16 px high, ticks at 0, 0.5 and 1 with their labels below, and "activation" beneath;
    /// with a `threshold`, a line across the bar at its value in its colour.
    public static func colorBarLegend(length: Int = 240, threshold: (value: Float, colour: RGB)? = nil) -> RGBImage {
        precondition(length >= 60, "colour bar legend: at least 60 pixels long")
        let labelH = Text.height(size: Text.tickSize), pad = 8, barH = 16
        let side = Text.width("0.5", size: Text.tickSize) / 2 + pad
        var out = RGBImage(height: pad + barH + tickLength + labelGap + labelH + labelGap + labelH + pad, width: length + 2 * side,
                           fill: Palette.white)
        for c in 0..<length {
            out.fillRect(x: side + c, y: pad, width: 1, height: barH, Colormap.viridis(Double(c) / Double(length - 1)))
        }
        for tick in ticks {
            let x = side + Int((tick.value * Double(length - 1)).rounded())
            out.fillRect(x: x, y: pad + barH, width: 1, height: tickLength, Palette.black)
            Text.drawSmooth(tick.label, into: &out, x: x - Text.width(tick.label, size: Text.tickSize) / 2,
                            y: pad + barH + tickLength + labelGap, size: Text.tickSize)
        }
        Text.drawSmooth(barTitle, into: &out, x: side + (length - Text.width(barTitle, size: Text.tickSize)) / 2,
                        y: pad + barH + tickLength + 2 * labelGap + labelH, size: Text.tickSize)
        if let threshold {
            let x = side + Int((Double(min(max(threshold.value, 0), 1)) * Double(length - 1)).rounded())
            out.fillRect(x: min(x, side + length - 2), y: pad - 3, width: 2, height: barH + 6, threshold.colour)
        }
        return out
    }
}
