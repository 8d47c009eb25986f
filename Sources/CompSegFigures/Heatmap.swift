import CompSegCore

/// Scalar maps (activation maps, probabilities) in viridis, with an optional colour bar.
public enum Heatmap {
    /// Layout of the colour-bar version (pixels): white margin all round, gap between map and bar,
    /// bar width, tick length, gap between tick and label, and the minimum bar height (so that the
    /// three labels never touch, however small the map).
    public static let margin = 6, gap = 6, barWidth = 12, tickLength = 3, labelGap = 2, minBarHeight = 48

    /// Tick labels on the colour bar, top to bottom, with the value each marks.
    public static let ticks: [(label: String, value: Double)] = [("1", 1), (".5", 0.5), ("0", 0)]

    /// Output size for a `height`×`width` map enlarged by `scale`.
    public static func size(height: Int, width: Int, colorBar: Bool, scale: Int = 1) -> (height: Int, width: Int) {
        let h = height * scale, w = width * scale
        guard colorBar else { return (h, w) }
        let labelWidth = ticks.map { Text.width($0.label) }.max() ?? 0
        return (2 * margin + max(h, minBarHeight), margin + w + gap + barWidth + tickLength + labelGap + labelWidth + margin)
    }

    /// Renders `values` (H×W row-major, meant in [0, 1]; clamped, NaN mid grey) in viridis, each
    /// value a `scale`×`scale` block. Without the colour bar the picture is exactly the map; with it,
    /// the map sits on white at (margin, margin) with a vertical gradient bar to its right (1 at the
    /// top, 0 at the bottom) labelled 1, .5 and 0.
    public static func render(values: [Float], height: Int, width: Int, colorBar: Bool = true, scale: Int = 1) -> RGBImage {
        precondition(values.count == height * width, "Heatmap: \(height)×\(width) needs \(height * width) values, got \(values.count)")
        precondition(scale >= 1, "Heatmap scale must be at least 1")
        var map = RGBImage(height: height, width: width, fill: Palette.black)
        for y in 0..<height { for x in 0..<width { map.set(x: x, y: y, Colormap.viridis(Double(values[y * width + x]))) } }
        map = map.scaled(by: scale)
        guard colorBar else { return map }

        let (outH, outW) = size(height: height, width: width, colorBar: true, scale: scale)
        var out = RGBImage(height: outH, width: outW, fill: Palette.white)
        out.paste(map, x: margin, y: margin)
        let barX = margin + map.width + gap, barTop = margin, barH = max(map.height, minBarHeight)
        for r in 0..<barH {
            let colour = Colormap.viridis(1 - Double(r) / Double(max(barH - 1, 1)))
            out.fillRect(x: barX, y: barTop + r, width: barWidth, height: 1, colour)
        }
        // Outline just outside the gradient, so that every gradient row keeps its colour.
        out.drawLine(x0: barX - 1, y0: barTop - 1, x1: barX + barWidth, y1: barTop - 1, Palette.black)
        out.drawLine(x0: barX - 1, y0: barTop + barH, x1: barX + barWidth, y1: barTop + barH, Palette.black)
        out.drawLine(x0: barX - 1, y0: barTop - 1, x1: barX - 1, y1: barTop + barH, Palette.black)
        out.drawLine(x0: barX + barWidth, y0: barTop - 1, x1: barX + barWidth, y1: barTop + barH, Palette.black)
        for tick in ticks {
            let row = barTop + Int(((1 - tick.value) * Double(barH - 1)).rounded())
            let tickX = barX + barWidth + 1
            out.fillRect(x: tickX, y: row, width: tickLength - 1, height: 1, Palette.black)
            Text.draw(tick.label, into: &out, x: tickX + tickLength - 1 + labelGap, y: row - Text.glyphHeight / 2)
        }
        return out
    }
}
