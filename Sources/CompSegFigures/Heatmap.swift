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

    /// Output size for a `height`×`width` map enlarged by `scale`, with room for the `threshold`'s
    /// number beside the bar.
    public static func size(height: Int, width: Int, colorBar: Bool, scale: Int = 1, threshold: Float? = nil) -> (height: Int, width: Int) {
        let h = height * scale, w = width * scale
        guard colorBar else { return (h, w) }
        let labels = ticks.map(\.label) + (threshold.map { [thresholdText($0)] } ?? [])
        let labelWidth = labels.map { Text.width($0, size: Text.tickSize) }.max() ?? 0
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
    /// a line across the bar marks the threshold, both in that colour, with its number beside the
    /// line (in place of the tick labels it would touch): faint maps, dark at every pixel, still
    /// show which pixels their masks take, and at what cut.
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

        let (outH, outW) = size(height: height, width: width, colorBar: true, scale: scale, threshold: threshold?.value)
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
        let labelH = Text.height(size: Text.tickSize), labelX = barX + barWidth + tickLength + labelGap
        func row(_ value: Double) -> Int { barTop + Int(((1 - min(max(value, 0), 1)) * Double(barH - 1)).rounded()) }
        // Each label centred on its row, the end ones moved within the bar's height: a panel crops
        // the margin off (`EvaluationReport.writeFigures`), and with it would go half a label.
        func labelTop(_ row: Int) -> Int { min(max(row - labelH / 2, barTop), barTop + barH - labelH) }
        let thresholdTop = threshold.map { labelTop(row(Double($0.value))) }
        for tick in ticks {
            let tickRow = row(tick.value), top = labelTop(tickRow)
            out.fillRect(x: barX + barWidth + 1, y: tickRow, width: tickLength - 1, height: 1, Palette.black)
            if let thresholdTop, abs(top - thresholdTop) < labelH + 2 { continue }  // the threshold's number is there
            Text.drawSmooth(tick.label, into: &out, x: labelX, y: top, size: Text.tickSize)
        }
        if let threshold, let thresholdTop {  // the line two pixels high, kept within the bar
            out.fillRect(x: barX - 3, y: min(row(Double(threshold.value)), barTop + barH - 2), width: barWidth + 6, height: 2, threshold.colour)
            let label = thresholdText(threshold.value)
            Text.drawSmooth(label, into: &out, x: labelX, y: thresholdTop, colour: Palette.legibleOnWhite(threshold.colour), size: Text.tickSize)
        }
        let titleLength = Text.width(barTitle, size: Text.tickSize)  // at the right, past the widest label
        Text.drawSmooth(barTitle, into: &out, x: outW - margin - Text.height(size: Text.tickSize), y: barTop + (barH - titleLength) / 2, size: Text.tickSize, vertical: true)
        return out
    }

    /// A horizontal colour bar `length` pixels long for a legend: the viridis gradient (0 left, 1
    /// right) 16 px high, ticks at 0, 0.5 and 1 with their labels below, and "activation" beneath;
    /// with a `threshold`, a line across the bar at its value and its number under it (in place of
    /// the tick labels it would touch), in its colour.
    public static func colorBarLegend(length: Int = 240, threshold: (value: Float, colour: RGB)? = nil) -> RGBImage {
        precondition(length >= 60, "colour bar legend: at least 60 pixels long")
        let labelH = Text.height(size: Text.tickSize), pad = 8, barH = 16
        let side = Text.width("0.5", size: Text.tickSize) / 2 + pad
        var out = RGBImage(height: pad + barH + tickLength + labelGap + labelH + labelGap + labelH + pad, width: length + 2 * side,
                           fill: Palette.white)
        for c in 0..<length {
            out.fillRect(x: side + c, y: pad, width: 1, height: barH, Colormap.viridis(Double(c) / Double(length - 1)))
        }
        func column(_ value: Double) -> Int { side + Int((min(max(value, 0), 1) * Double(length - 1)).rounded()) }
        // A label centred under its column, kept within the picture.
        func labelLeft(_ label: String, _ x: Int) -> Int {
            let w = Text.width(label, size: Text.tickSize)
            return min(max(x - w / 2, 0), out.width - w)
        }
        let thresholdLabel = threshold.map { (text: thresholdText($0.value), x: column(Double($0.value))) }
        let thresholdSpan = thresholdLabel.map { l in
            labelLeft(l.text, l.x)...(labelLeft(l.text, l.x) + Text.width(l.text, size: Text.tickSize))
        }
        let labelY = pad + barH + tickLength + labelGap
        for tick in ticks {
            let x = column(tick.value), left = labelLeft(tick.label, x)
            out.fillRect(x: x, y: pad + barH, width: 1, height: tickLength, Palette.black)
            let span = left...(left + Text.width(tick.label, size: Text.tickSize))
            if let thresholdSpan, span.lowerBound <= thresholdSpan.upperBound + 4 && thresholdSpan.lowerBound <= span.upperBound + 4 {
                continue  // the threshold's number is there
            }
            Text.drawSmooth(tick.label, into: &out, x: left, y: labelY, size: Text.tickSize)
        }
        Text.drawSmooth(barTitle, into: &out, x: side + (length - Text.width(barTitle, size: Text.tickSize)) / 2,
                        y: pad + barH + tickLength + 2 * labelGap + labelH, size: Text.tickSize)
        if let threshold, let thresholdLabel {
            out.fillRect(x: min(thresholdLabel.x, side + length - 2), y: pad - 3, width: 2, height: barH + 6, threshold.colour)
            Text.drawSmooth(thresholdLabel.text, into: &out, x: labelLeft(thresholdLabel.text, thresholdLabel.x), y: labelY,
                            colour: Palette.legibleOnWhite(threshold.colour), size: Text.tickSize)
        }
        return out
    }
}
