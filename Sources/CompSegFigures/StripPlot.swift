import CompSegCore

/// Values per group as dots side by side (a strip plot), each group with its median and quartiles
/// as a box, and an optional horizontal cut: e.g. the tumor fraction of cancer-free and cancer
/// samples with the cut that calls a sample cancer.
public enum StripPlot {
    public struct Group: Sendable {
        public var name: String
        public var values: [Double]
        public var colour: RGB
        public init(name: String, values: [Double], colour: RGB) { self.name = name; self.values = values; self.colour = colour }
    }

    /// The horizontal offset (in group widths, within ±0.18) of the `k`-th dot: the fractional part
    /// of k·φ, spread evenly and the same on every run.
    public static func jitter(_ k: Int) -> Double {
        let golden = 0.6180339887498949
        return ((Double(k) * golden).truncatingRemainder(dividingBy: 1) - 0.5) * 0.36
    }

    /// Quartiles by linear interpolation between order statistics (type 7, as numpy's default).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * q, lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// Group i sits at x = i, labelled "name (n=…)"; dots of radius 5 in the group's colour; the box
    /// (first to third quartile, a line at the median) in dark grey; the cut a dashed rule in the
    /// legend; y from 0 to 10% above the largest value or cut (at least 0.05). NaN values are left out.
    public static func chart(groups: [Group], yLabel: String, title: String? = nil,
                             cut: (value: Double, label: String)? = nil, width: Int = 560, height: Int = 400) -> Chart {
        let clean = groups.map { Group(name: $0.name, values: $0.values.filter(\.isFinite), colour: $0.colour) }
        let top = max(0.05, ((clean.flatMap(\.values) + [cut?.value ?? 0]).max() ?? 0) * 1.1)
        let xTicks = clean.enumerated().map { ("\($1.name) (n=\($1.values.count))", Double($0)) }
        var chart = Chart(width: width, height: height, title: title, xLabel: "image label", yLabel: yLabel,
                          xRange: -0.6...(Double(max(clean.count, 1) - 1) + 0.6), yRange: 0...top,
                          xTicks: xTicks, yTicks: Chart.niceTicks(0...top, count: 5))
        let boxColour: RGB = (70, 70, 70)
        for (i, g) in clean.enumerated() where !g.values.isEmpty {
            let s = g.values.sorted(), x = Double(i)
            let (q1, median, q3) = (quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75))
            chart.series.append(.init(points: [(x - 0.28, q1), (x + 0.28, q1), (x + 0.28, q3), (x - 0.28, q3), (x - 0.28, q1)],
                                      colour: boxColour, lineWidth: 1.5))
            chart.series.append(.init(points: [(x - 0.28, median), (x + 0.28, median)], colour: boxColour, lineWidth: 3))
        }
        for (i, g) in clean.enumerated() {
            chart.series.append(.init(points: g.values.enumerated().map { (Double(i) + jitter($0), $1) }, colour: g.colour,
                                      lineWidth: 0, dotRadius: 5))
        }
        if let cut { chart.rules.append(.init(.horizontal, at: cut.value, colour: (40, 40, 40), dash: 7, name: cut.label)) }
        return chart
    }
}
