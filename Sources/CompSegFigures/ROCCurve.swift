import Foundation
import CompSegCore

/// Receiver operating characteristic curves: computed from scores and labels, drawn as a raster
/// picture or as standalone SVG with the same layout.
public enum ROCCurve {
    public typealias Point = (fpr: Double, tpr: Double)

    /// One curve: its points and AUC, and optionally the AUC's 95% interval and an operating point
    /// (e.g. Youden's) to mark on it.
    public struct Curve: Sendable {
        public var name: String
        public var points: [Point]
        public var auc: Double
        /// The AUC's 95% confidence interval, low and high, with the method named in `intervalMethod`.
        public var interval: (low: Double, high: Double)?
        public var intervalMethod = "DeLong"
        /// A point to mark (its false and true positive rates) with its legend text, e.g. "Youden: fraction ≥ 0.12".
        public var marker: (point: Point, label: String)?

        public init(name: String, points: [Point], auc: Double, interval: (low: Double, high: Double)? = nil,
                    marker: (point: Point, label: String)? = nil) {
            self.name = name; self.points = points; self.auc = auc; self.interval = interval; self.marker = marker
        }
    }

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
        return Curve(name: name, points: p, auc: auc(p))
    }

    /// The legend line of a curve: "name AUC 0.93", with the interval "name AUC 0.93 [0.85, 0.99]".
    public static func legend(_ curve: Curve) -> String {
        guard !curve.auc.isNaN else { return "\(curve.name) AUC n/a" }
        var line = "\(curve.name) AUC " + String(format: "%.2f", curve.auc)
        if let i = curve.interval { line += String(format: " [%.2f, %.2f]", i.low, i.high) }
        return line
    }

    /// The plot: axes from −0.02 to 1.02 (so that a curve along an edge lies inside the frame,
    /// not on it), ticks every 0.25, the chance diagonal dashed grey, each curve in its own
    /// `Palette.categorical` colour, the last 3 px wide and each earlier one 4 px wider (less when
    /// there are more than four; curves that coincide show as nested bands), with its marker as a
    /// ringed dot, and a legend in the lower
    /// right: "name AUC 0.93 [0.85, 0.99]" per curve (one curve: "AUC 0.93 [0.85, 0.99]", so that
    /// the legend stays clear of the curve's left edge), then the marker's label (several curves: one
    /// entry for every curve's marker); a legend that would cover a curve or a marker goes below the plot instead,
    /// the chart growing taller by its height. Titled "ROC of the tumor fraction" unless given another `title`.
    public static func chart(curves: [Curve], size: Int = 480, title: String? = defaultTitle) -> Chart {
        precondition(size >= 200, "ROC plot size must be at least 200 pixels")
        let ticks: [Chart.Tick] = [("0", 0), ("0.25", 0.25), ("0.5", 0.5), ("0.75", 0.75), ("1", 1)]
        var chart = Chart(width: size, height: size, title: title, xLabel: "false positive rate", yLabel: "true positive rate",
                          xRange: -0.02...1.02, yRange: -0.02...1.02, xTicks: ticks, yTicks: ticks)
        // Below the diagonal, where curves better than chance do not go; the axes keep their range
        // (a legend placed where it covers least would raise the top above 1 when it crosses the diagonal).
        chart.legend = .lowerRight
        chart.series.append(.init(points: [(0, 0), (1, 1)], colour: Palette.lightGrey, lineWidth: 1.5, dash: 6))
        for (i, curve) in curves.enumerated() {
            let colour = Palette.categorical[i % Palette.categorical.count]
            let name = curves.count == 1 ? String(legend(curve).dropFirst(curve.name.count + 1)) : legend(curve)
            // Each curve narrower than the one beneath it (by 4 px, less with many), so curves that
            // coincide show as nested bands.
            let step = min(4, 12 / Double(max(1, curves.count - 1)))
            let width = 3 + step * Double(curves.count - 1 - i)
            chart.series.append(.init(name: name, points: curve.points.map { ($0.fpr, $0.tpr) }, colour: colour, lineWidth: width))
        }
        for (i, curve) in curves.enumerated() {
            guard let m = curve.marker else { continue }
            let colour = Palette.categorical[i % Palette.categorical.count]
            chart.series.append(.init(name: curves.count > 1 ? nil : m.label, points: [(m.point.fpr, m.point.tpr)],
                                      colour: colour, lineWidth: 0, dotRadius: 6, ringed: true))
        }
        if curves.count > 1, curves.contains(where: { $0.marker != nil }) {  // one entry for every curve's marker
            chart.series.append(.init(name: "ringed dot: each curve's Youden point", points: [], colour: Palette.grey, lineWidth: 0, dotRadius: 6,
                                      ringed: true))
        }
        // A legend that would cover a curve or a marker (many curves, or curves near chance) goes
        // below the plot, which keeps its size: the chart grows by the legend's height.
        var curvesAlone = chart
        curvesAlone.series.removeFirst()  // the chance diagonal may lie under the legend
        if let box = chart.legendBox, curvesAlone.covered([box])[0] > 0 {
            chart.legend = .below
            chart.height += chart.legendBelowHeight
        }
        return chart
    }

    /// What the curve shows: each sample's tumor fraction as a score for its image label.
    public static let defaultTitle = "ROC of the tumor fraction"

    /// The plot (`chart`) as a picture `size` wide and `size` high (taller with its legend below).
    public static func render(curves: [Curve], size: Int = 480) -> RGBImage { chart(curves: curves, size: size).render() }

    /// The same plot as `render` as a standalone SVG document (UTF-8, the same size in user units), its text real text.
    public static func svg(curves: [Curve], size: Int = 480) -> String { chart(curves: curves, size: size).svg() }
}
