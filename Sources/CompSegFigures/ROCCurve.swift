import Foundation
import CompSegCore

/// Receiver operating characteristic curves: computed from scores and labels, drawn as a raster
/// picture or as standalone SVG with the same layout.
public enum ROCCurve {
    public typealias Point = (fpr: Double, tpr: Double)
    public typealias Curve = (name: String, points: [Point], auc: Double)

    /// The ROC points of `scores` (higher means more likely positive) against `labels` (true =
    /// positive): (0, 0), then one point per distinct score from the highest down, where every sample
    /// scoring at least that much is called positive, ending at (1, 1). Samples with tied scores enter
    /// together, so a tie of positives and negatives is one diagonal step. Pairs whose score is NaN are
    /// left out. Empty when there is no positive or no negative (the rates are undefined).
    public static func points(scores: [Double], labels: [Bool]) -> [Point] {
        precondition(scores.count == labels.count, "ROC: \(scores.count) scores but \(labels.count) labels")
        let pairs = zip(scores, labels).filter { !$0.0.isNaN }.sorted { $0.0 > $1.0 }
        let positives = pairs.filter(\.1).count, negatives = pairs.count - positives
        guard positives > 0, negatives > 0 else { return [] }
        var result: [Point] = [(0, 0)]
        var (tp, fp, i) = (0, 0, 0)
        while i < pairs.count {
            let threshold = pairs[i].0
            while i < pairs.count && pairs[i].0 == threshold {
                if pairs[i].1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            result.append((Double(fp) / Double(negatives), Double(tp) / Double(positives)))
        }
        return result
    }

    /// Area under the curve by the trapezoid rule (equals the Mann–Whitney probability that a positive
    /// outscores a negative, ties counting one half, for `points(scores:labels:)`); NaN for no points.
    public static func auc(_ points: [Point]) -> Double {
        guard points.count > 1 else { return .nan }
        var area = 0.0
        for (a, b) in zip(points, points.dropFirst()) { area += (b.fpr - a.fpr) * (a.tpr + b.tpr) / 2 }
        return area
    }

    /// One curve from scores and labels, with its AUC, ready for `render` and `svg`.
    public static func curve(name: String, scores: [Double], labels: [Bool]) -> Curve {
        let p = points(scores: scores, labels: labels)
        return (name, p, auc(p))
    }

    /// The legend line of a curve: "name AUC 0.93".
    public static func legend(_ curve: Curve) -> String {
        "\(curve.name) AUC \(curve.auc.isNaN ? "n/a" : String(format: "%.2f", curve.auc))"
    }

    /// Plot geometry shared by the raster and SVG versions.
    struct Layout {
        let size: Int
        let left = 42, right = 12, top = 12, bottom = 34
        var plotWidth: Int { size - left - right }
        var plotHeight: Int { size - top - bottom }
        func x(_ fpr: Double) -> Double { Double(left) + fpr * Double(plotWidth) }
        func y(_ tpr: Double) -> Double { Double(top) + (1 - tpr) * Double(plotHeight) }
        let ticks: [(label: String, value: Double)] = [("0", 0), (".5", 0.5), ("1", 1)]
        let lineHeight = 11, swatch = 14, legendPad = 4
        func legendBox(_ lines: [String]) -> (x: Int, y: Int, width: Int, height: Int) {
            let w = legendPad * 3 + swatch + (lines.map { Text.width($0) }.max() ?? 0)
            let h = legendPad * 2 + lines.count * lineHeight - (lineHeight - Text.glyphHeight)
            return (left + plotWidth - w - 6, top + plotHeight - h - 6, w, h)
        }
    }

    /// A `size`×`size` raster plot on white: framed axes with ticks labelled 0, .5, 1 on both axes,
    /// "FPR" below and "TPR" left, the chance diagonal dashed grey, each curve 2 px wide in its own
    /// `Palette.categorical` colour, and a legend "name AUC 0.93" in the lower right.
    public static func render(curves: [Curve], size: Int = 400) -> RGBImage {
        precondition(size >= 120, "ROC plot size must be at least 120 pixels")
        let L = Layout(size: size)
        var out = RGBImage(height: size, width: size, fill: Palette.white)
        func px(_ v: Double) -> Int { Int(v.rounded()) }
        let (x0, x1, y0, y1) = (L.left, L.left + L.plotWidth, L.top + L.plotHeight, L.top)
        out.drawLine(x0: x0, y0: y0, x1: x1, y1: y1, Palette.lightGrey, dash: 4)
        for (i, curve) in curves.enumerated() {
            let colour = Palette.categorical[i % Palette.categorical.count]
            for (a, b) in zip(curve.points, curve.points.dropFirst()) {
                out.drawLine(x0: px(L.x(a.fpr)), y0: px(L.y(a.tpr)), x1: px(L.x(b.fpr)), y1: px(L.y(b.tpr)), colour, thickness: 2)
            }
        }
        // Frame last, so that curves along the edges do not hide it.
        out.drawLine(x0: x0, y0: y0, x1: x1, y1: y0, Palette.black)
        out.drawLine(x0: x0, y0: y1, x1: x1, y1: y1, Palette.black)
        out.drawLine(x0: x0, y0: y0, x1: x0, y1: y1, Palette.black)
        out.drawLine(x0: x1, y0: y0, x1: x1, y1: y1, Palette.black)
        for tick in L.ticks {
            let tx = px(L.x(tick.value)), ty = px(L.y(tick.value))
            out.drawLine(x0: tx, y0: y0, x1: tx, y1: y0 + 3, Palette.black)
            Text.draw(tick.label, into: &out, x: tx - Text.width(tick.label) / 2, y: y0 + 6)
            out.drawLine(x0: x0 - 3, y0: ty, x1: x0, y1: ty, Palette.black)
            Text.draw(tick.label, into: &out, x: x0 - 6 - Text.width(tick.label), y: ty - Text.glyphHeight / 2)
        }
        Text.draw("FPR", into: &out, x: x0 + L.plotWidth / 2 - Text.width("FPR") / 2, y: y0 + 19)
        Text.draw("TPR", into: &out, x: 2, y: y1 + L.plotHeight / 4 - Text.glyphHeight / 2)

        let lines = curves.map(legend)
        guard !lines.isEmpty else { return out }
        let box = L.legendBox(lines)
        out.fillRect(x: box.x, y: box.y, width: box.width, height: box.height, Palette.white)
        out.drawLine(x0: box.x, y0: box.y, x1: box.x + box.width - 1, y1: box.y, Palette.grey)
        out.drawLine(x0: box.x, y0: box.y + box.height - 1, x1: box.x + box.width - 1, y1: box.y + box.height - 1, Palette.grey)
        out.drawLine(x0: box.x, y0: box.y, x1: box.x, y1: box.y + box.height - 1, Palette.grey)
        out.drawLine(x0: box.x + box.width - 1, y0: box.y, x1: box.x + box.width - 1, y1: box.y + box.height - 1, Palette.grey)
        for (i, line) in lines.enumerated() {
            let ly = box.y + L.legendPad + i * L.lineHeight
            let colour = Palette.categorical[i % Palette.categorical.count]
            out.fillRect(x: box.x + L.legendPad, y: ly + 2, width: L.swatch, height: 3, colour)
            Text.draw(line, into: &out, x: box.x + 2 * L.legendPad + L.swatch, y: ly)
        }
        return out
    }

    /// The same plot as `render` as a standalone SVG document (UTF-8, `size`×`size` user units).
    public static func svg(curves: [Curve], size: Int = 400) -> String {
        let L = Layout(size: size)
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        let (x0, x1) = (Double(L.left), Double(L.left + L.plotWidth))
        let (y0, y1) = (Double(L.top + L.plotHeight), Double(L.top))
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(size)" height="\(size)" viewBox="0 0 \(size) \(size)">
        <rect x="0" y="0" width="\(size)" height="\(size)" fill="#ffffff"/>
        <g font-family="monospace" font-size="10" fill="#000000">

        """
        s += "<line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x1))\" y2=\"\(f(y1))\" stroke=\"\(Palette.hex(Palette.lightGrey))\" stroke-dasharray=\"4 4\"/>\n"
        for (i, curve) in curves.enumerated() {
            let colour = Palette.hex(Palette.categorical[i % Palette.categorical.count])
            let pts = curve.points.map { "\(f(L.x($0.fpr))),\(f(L.y($0.tpr)))" }.joined(separator: " ")
            s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
        }
        s += "<rect x=\"\(f(x0))\" y=\"\(f(y1))\" width=\"\(L.plotWidth)\" height=\"\(L.plotHeight)\" fill=\"none\" stroke=\"#000000\"/>\n"
        for tick in L.ticks {
            let tx = L.x(tick.value), ty = L.y(tick.value)
            s += "<line x1=\"\(f(tx))\" y1=\"\(f(y0))\" x2=\"\(f(tx))\" y2=\"\(f(y0 + 3))\" stroke=\"#000000\"/>\n"
            s += "<text x=\"\(f(tx))\" y=\"\(f(y0 + 14))\" text-anchor=\"middle\">\(escape(tick.label))</text>\n"
            s += "<line x1=\"\(f(x0 - 3))\" y1=\"\(f(ty))\" x2=\"\(f(x0))\" y2=\"\(f(ty))\" stroke=\"#000000\"/>\n"
            s += "<text x=\"\(f(x0 - 6))\" y=\"\(f(ty + 3.5))\" text-anchor=\"end\">\(escape(tick.label))</text>\n"
        }
        s += "<text x=\"\(f(x0 + Double(L.plotWidth) / 2))\" y=\"\(f(y0 + 27))\" text-anchor=\"middle\">FPR</text>\n"
        s += "<text x=\"2\" y=\"\(f(y1 + Double(L.plotHeight) / 4 + 3.5))\">TPR</text>\n"
        let lines = curves.map(legend)
        if !lines.isEmpty {
            let box = L.legendBox(lines)
            s += "<rect x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" fill=\"#ffffff\" stroke=\"\(Palette.hex(Palette.grey))\"/>\n"
            for (i, line) in lines.enumerated() {
                let ly = box.y + L.legendPad + i * L.lineHeight
                let colour = Palette.hex(Palette.categorical[i % Palette.categorical.count])
                s += "<rect x=\"\(box.x + L.legendPad)\" y=\"\(ly + 2)\" width=\"\(L.swatch)\" height=\"3\" fill=\"\(colour)\"/>\n"
                s += "<text x=\"\(box.x + 2 * L.legendPad + L.swatch)\" y=\"\(ly + 7)\">\(escape(line))</text>\n"
            }
        }
        s += "</g>\n</svg>\n"
        return s
    }

    /// Text made safe for XML character data and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}
