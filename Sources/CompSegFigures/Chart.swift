import Foundation
import CompSegCore

/// A plot with axes, drawn both as a raster picture and as SVG from one description, so that the
/// PNG and the SVG of a figure show the same thing at the same place.
///
/// Drawing order, back to front: white background, light grid at the ticks, the frame, reference
/// rules, the series (lines, then dots), tick labels and axis labels, the legend. The frame is
/// behind the data, so a curve that runs along it (an ROC curve at AUC 1) stays visible; the axis
/// ranges are usually padded a little for the same reason.
public struct Chart: Sendable {
    /// One data series: a line through its points, dots at them, or both.
    public struct Series: Sendable {
        public var name: String?
        public var points: [(x: Double, y: Double)]
        public var colour: RGB
        /// Line width in pixels; 0 draws no line.
        public var lineWidth: Double
        /// Dash length in pixels; 0 draws a solid line.
        public var dash: Double
        /// Dot radius in pixels; 0 draws no dots.
        public var dotRadius: Double
        /// A dark ring around each dot, for markers that must stand out from a line under them.
        public var ringed: Bool

        public init(name: String? = nil, points: [(x: Double, y: Double)], colour: RGB, lineWidth: Double = 2.5,
                    dash: Double = 0, dotRadius: Double = 0, ringed: Bool = false) {
            self.name = name; self.points = points; self.colour = colour; self.lineWidth = lineWidth
            self.dash = dash; self.dotRadius = dotRadius; self.ringed = ringed
        }
    }

    /// A horizontal or vertical reference line across the plot (a threshold, a chosen epoch).
    public struct Rule: Sendable {
        public enum Orientation: Sendable { case horizontal, vertical }
        public var orientation: Orientation
        public var value: Double
        public var colour: RGB
        public var dash: Double
        /// Its legend entry; nil: none.
        public var name: String?

        public init(_ orientation: Orientation, at value: Double, colour: RGB = (90, 90, 90), dash: Double = 6, name: String? = nil) {
            self.orientation = orientation; self.value = value; self.colour = colour; self.dash = dash; self.name = name
        }
    }

    /// Where the legend goes; `best`: the corner of the plot where it covers the least data
    /// (the first of lower right, upper right, upper left, lower left among equals); `below`: under
    /// the x axis's label, outside the plot, in as many columns as the chart's width holds (the
    /// plot gives up `legendBelowHeight` pixels of the chart's height to it).
    public enum LegendPlace: Sendable { case lowerRight, upperRight, upperLeft, lowerLeft, best, below, none }
    public typealias Tick = (label: String, value: Double)

    public var width: Int, height: Int
    public var title: String?
    public var xLabel: String, yLabel: String
    public var xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    public var xTicks: [Tick], yTicks: [Tick]
    public var series: [Series] = []
    public var rules: [Rule] = []
    public var legend: LegendPlace = .best

    public init(width: Int, height: Int, title: String? = nil, xLabel: String, yLabel: String,
                xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, xTicks: [Tick], yTicks: [Tick]) {
        precondition(width >= 160 && height >= 120, "Chart: at least 160×120 pixels, got \(width)×\(height)")
        precondition(xRange.upperBound > xRange.lowerBound && yRange.upperBound > yRange.lowerBound,
                     "Chart: empty axis range \(xRange) × \(yRange)")
        self.width = width; self.height = height; self.title = title
        self.xLabel = xLabel; self.yLabel = yLabel; self.xRange = xRange; self.yRange = yRange
        self.xTicks = xTicks; self.yTicks = yTicks
    }

    // MARK: Layout

    static let pad = 8, tickLength = 5, tickGap = 4

    /// The largest text size, `size` down to 1.25 in steps of 0.25, at which every one of
    /// `labels` is at most `room` pixels wide (1.25 where none is).
    static func fitting(_ labels: [String], into room: Double, from size: Double) -> Double {
        var size = size
        while size > 1.25 && labels.contains(where: { Double(Text.width($0, size: size)) > room }) { size -= 0.25 }
        return size
    }
    static let gridColour: RGB = (232, 232, 232), frameColour: RGB = (60, 60, 60), textColour: RGB = (20, 20, 20)
    static let legendSwatch = 22, legendPad = 6

    /// The plot area in pixels: left, top, right, bottom edges.
    public var plotArea: (left: Int, top: Int, right: Int, bottom: Int) {
        let tickH = Text.height(size: Text.tickSize), labelH = Text.height(size: Text.labelSize)
        let tickW = yTicks.map { Text.width($0.label, size: Text.tickSize) }.max() ?? 0
        let top = Self.pad + (title.map { _ in Text.height(size: Text.titleSize) + Self.pad } ?? 4)
        let left = Self.pad + labelH + Self.pad + tickW + Self.tickGap + Self.tickLength
        let lastTick = xTicks.max { $0.value < $1.value }.map { Text.width($0.label, size: Text.tickSize) / 2 } ?? 0
        let right = width - max(Self.pad + 4, lastTick + 2)
        let bottom = height - legendBelowHeight - (Self.tickLength + Self.tickGap + tickH + Self.pad + labelH + Self.pad)
        return (left, top, right, bottom)
    }

    /// A legend below the plot: its columns (filled top to bottom), rows and column width; one
    /// column where even one does not fit the chart's width (its text then runs to the edge).
    var legendBelowLayout: (columns: Int, rows: Int, columnWidth: Int) {
        let entries = legendEntries
        // As wide as the raster's text or the SVG's (about 0.6 em a character), whichever is wider.
        let text = entries.map { max(Text.width($0.name, size: Text.tickSize), Int((Double($0.name.count) * Self.svgTickFont * 0.6).rounded(.up))) }.max() ?? 0
        let columnWidth = 3 * Self.legendPad + Self.legendSwatch + text
        let columns = max(1, min(entries.count, (width - 2 * Self.pad) / max(1, columnWidth)))
        return (columns, (entries.count + columns - 1) / columns, columnWidth)
    }

    /// The height a legend below the plot takes (0 for a legend elsewhere, or none).
    public var legendBelowHeight: Int {
        guard legend == .below, !legendEntries.isEmpty else { return 0 }
        return legendBelowLayout.rows * (Text.height(size: Text.tickSize) + 6) + Self.legendPad
    }

    /// The top-left corner of legend entry `i` in `box`: one column in a box on the plot, columns below it.
    func legendSlot(_ i: Int, in box: (x: Int, y: Int, width: Int, height: Int)) -> (x: Int, y: Int) {
        let line = Text.height(size: Text.tickSize) + 6
        guard legend == .below else { return (box.x, box.y + Self.legendPad + i * line) }
        let layout = legendBelowLayout
        return (box.x + i / layout.rows * layout.columnWidth, box.y + i % layout.rows * line)
    }

    /// The horizontal pixel position of data value `x` (may lie outside the plot).
    public func px(_ x: Double) -> Double {
        let a = plotArea
        return Double(a.left) + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(a.right - a.left)
    }

    /// The vertical pixel position of data value `y` (up is larger).
    public func py(_ y: Double) -> Double {
        let a = plotArea
        return Double(a.bottom) - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Double(a.bottom - a.top)
    }

    /// Legend entries: named series, then named rules.
    var legendEntries: [(name: String, colour: RGB, line: Double, dash: Double, dot: Double, ringed: Bool)] {
        series.compactMap { s in s.name.map { ($0, s.colour, s.lineWidth, s.dash, s.dotRadius, s.ringed) } }
            + rules.compactMap { r in r.name.map { ($0, r.colour, 2, r.dash, 0, false) } }
    }

    var legendBox: (x: Int, y: Int, width: Int, height: Int)? {
        let entries = legendEntries
        guard legend != .none, !entries.isEmpty else { return nil }
        let a = plotArea, line = Text.height(size: Text.tickSize) + 6
        let w = 3 * Self.legendPad + Self.legendSwatch + (entries.map { Text.width($0.name, size: Text.tickSize) }.max() ?? 0)
        let h = 2 * Self.legendPad + entries.count * line - 6
        if legend == .below {
            let layout = legendBelowLayout
            return (Self.pad, height - legendBelowHeight, layout.columns * layout.columnWidth, legendBelowHeight)
        }
        func box(_ place: LegendPlace) -> (x: Int, y: Int, width: Int, height: Int) {
            switch place {
            case .lowerRight: (a.right - w - 8, a.bottom - h - 8, w, h)
            case .upperLeft: (a.left + 8, a.top + 8, w, h)
            case .lowerLeft: (a.left + 8, a.bottom - h - 8, w, h)
            default: (a.right - w - 8, a.top + 8, w, h)
            }
        }
        guard legend == .best else { return box(legend) }
        let corners = [LegendPlace.lowerRight, .upperRight, .upperLeft, .lowerLeft].map(box)
        let counts = covered(corners)
        return corners[counts.firstIndex(of: counts.min()!)!]  // the first of equals
    }

    /// How much of the data each box would cover: the points along every line (a pixel apart),
    /// every dot (as 10) and every rule that fall within it or 4 pixels around it.
    func covered(_ boxes: [(x: Int, y: Int, width: Int, height: Int)]) -> [Int] {
        let a = plotArea
        let (sx, sy) = (Double(a.right - a.left) / (xRange.upperBound - xRange.lowerBound),
                        Double(a.bottom - a.top) / (yRange.upperBound - yRange.lowerBound))
        func x(_ v: Double) -> Double { Double(a.left) + (v - xRange.lowerBound) * sx }
        func y(_ v: Double) -> Double { Double(a.bottom) - (v - yRange.lowerBound) * sy }
        // The data as weighted pixel positions, made once for every box.
        var samples: [(x: Double, y: Double, weight: Int)] = []
        for s in series {
            let points = s.points.map { (x: x($0.x), y: y($0.y)) }
            samples += points.map { ($0.x, $0.y, s.dotRadius > 0 ? 10 : 1) }
            guard s.lineWidth > 0 else { continue }
            for (p, q) in zip(points, points.dropFirst()) {
                let steps = max(1, Int(max(abs(q.x - p.x), abs(q.y - p.y)).rounded(.up)))
                samples += (0..<steps).map { k in  // from each segment's start, as a line pixel too
                    let t = Double(k) / Double(steps)
                    return (p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t, 1)
                }
            }
        }
        return boxes.map { box in
            let (x0, y0) = (Double(box.x - 4), Double(box.y - 4))
            let (x1, y1) = (Double(box.x + box.width + 4), Double(box.y + box.height + 4))
            var count = samples.reduce(0) { $0 + ($1.x >= x0 && $1.x <= x1 && $1.y >= y0 && $1.y <= y1 ? $1.weight : 0) }
            for r in rules {
                switch r.orientation {
                case .horizontal: if (y0...y1).contains(y(r.value)) { count += box.width }
                case .vertical: if (x0...x1).contains(x(r.value)) { count += box.height }
                }
            }
            return count
        }
    }

    // MARK: Raster

    /// The chart as a `height`×`width` picture.
    public func render() -> RGBImage { roomForLegend().renderAsIs() }

    /// With `legend: .best` and no corner free of data, the chart with the top of its y range
    /// raised, 5% at a time up to twice its span, until a corner is free; where none comes free
    /// (a vertical rule spans every height), the legend goes below the plot, the chart growing by its height.
    func roomForLegend() -> Chart {
        guard legend == .best, let box = legendBox, covered([box])[0] > 0 else { return self }
        var chart = self
        let span = yRange.upperBound - yRange.lowerBound
        for k in 1...20 {
            chart.yRange = yRange.lowerBound...(yRange.upperBound + span * Double(k) * 0.05)
            if let b = chart.legendBox, chart.covered([b])[0] == 0 { return chart }
        }
        var below = self
        below.legend = .below
        below.height += below.legendBelowHeight
        return below
    }

    private func renderAsIs() -> RGBImage {
        var out = RGBImage(height: height, width: width, fill: Palette.white)
        let a = plotArea
        for t in xTicks where xRange.contains(t.value) {
            let x = Int(px(t.value).rounded(.down))
            out.fillRect(x: x, y: a.top, width: 1, height: a.bottom - a.top, Self.gridColour)
        }
        for t in yTicks where yRange.contains(t.value) {
            let y = Int(py(t.value).rounded(.down))
            out.fillRect(x: a.left, y: y, width: a.right - a.left, height: 1, Self.gridColour)
        }
        // The frame, behind everything drawn on the plot.
        out.drawLine(x0: a.left, y0: a.top, x1: a.right, y1: a.top, Self.frameColour)
        out.drawLine(x0: a.left, y0: a.bottom, x1: a.right, y1: a.bottom, Self.frameColour)
        out.drawLine(x0: a.left, y0: a.top, x1: a.left, y1: a.bottom, Self.frameColour)
        out.drawLine(x0: a.right, y0: a.top, x1: a.right, y1: a.bottom, Self.frameColour)

        for r in rules {
            var c = Coverage(width: width, height: height)
            switch r.orientation {
            case .horizontal:
                let y = py(r.value)
                c.stroke(x0: Double(a.left), y0: y, x1: Double(a.right), y1: y, lineWidth: 2, dash: r.dash)
            case .vertical:
                let x = px(r.value)
                c.stroke(x0: x, y0: Double(a.top), x1: x, y1: Double(a.bottom), lineWidth: 2, dash: r.dash)
            }
            out.blend(c, colour: r.colour)
        }
        for s in series where s.lineWidth > 0 && s.points.count > 1 {
            var c = Coverage(width: width, height: height)
            c.stroke(s.points.map { (px($0.x), py($0.y)) }, lineWidth: s.lineWidth, dash: s.dash)
            out.blend(c, colour: s.colour)
        }
        for s in series where s.dotRadius > 0 {
            for p in s.points {
                if s.ringed {
                    var ring = Coverage(width: width, height: height)
                    ring.disc(x: px(p.x), y: py(p.y), radius: s.dotRadius + 2)
                    out.blend(ring, colour: Palette.black)
                }
                var c = Coverage(width: width, height: height)
                c.disc(x: px(p.x), y: py(p.y), radius: s.dotRadius)
                out.blend(c, colour: s.colour)
            }
        }

        let tickH = Text.height(size: Text.tickSize)
        // x tick labels shrink, where need be, so that neighbours keep apart.
        let shown = xTicks.filter { xRange.contains($0.value) }.sorted { $0.value < $1.value }
        let room = zip(shown, shown.dropFirst()).map { px($1.value) - px($0.value) }.min() ?? Double(width)
        let xTickSize = Self.fitting(shown.map(\.label), into: room - 8, from: Text.tickSize)
        for t in shown {
            let x = Int(px(t.value).rounded(.down))
            out.fillRect(x: x, y: a.bottom, width: 1, height: Self.tickLength, Self.frameColour)
            Text.drawSmooth(t.label, into: &out, x: x - Text.width(t.label, size: xTickSize) / 2,
                            y: a.bottom + Self.tickLength + Self.tickGap, colour: Self.textColour, size: xTickSize)
        }
        for t in yTicks where yRange.contains(t.value) {
            let y = Int(py(t.value).rounded(.down))
            out.fillRect(x: a.left - Self.tickLength, y: y, width: Self.tickLength, height: 1, Self.frameColour)
            Text.drawSmooth(t.label, into: &out, x: a.left - Self.tickLength - Self.tickGap - Text.width(t.label, size: Text.tickSize),
                            y: y - tickH / 2, colour: Self.textColour, size: Text.tickSize)
        }
        Text.drawSmooth(xLabel, into: &out, x: (a.left + a.right) / 2 - Text.width(xLabel, size: Text.labelSize) / 2,
                        y: height - legendBelowHeight - Self.pad - Text.height(size: Text.labelSize), colour: Self.textColour)
        // The y label shrinks, where need be, to the chart's height; it is centred on the plot, or kept inside the chart.
        let ySize = Self.fitting([yLabel], into: Double(height - 2 * Self.pad), from: Text.labelSize)
        let yLength = Text.width(yLabel, size: ySize)
        Text.drawSmooth(yLabel, into: &out, x: Self.pad,
                        y: max(Self.pad, min(height - Self.pad - yLength, (a.top + a.bottom) / 2 - yLength / 2)),
                        colour: Self.textColour, size: ySize, vertical: true)
        if let title {
            Text.drawSmooth(title, into: &out, x: a.left, y: Self.pad, colour: Self.textColour, size: Text.titleSize)
        }

        guard let box = legendBox else { return out }
        if legend != .below {  // a box on the plot, framed; below it, the legend stands on the white
            out.fillRect(x: box.x, y: box.y, width: box.width, height: box.height, Palette.white)
            out.drawLine(x0: box.x, y0: box.y, x1: box.x + box.width - 1, y1: box.y, Palette.grey)
            out.drawLine(x0: box.x, y0: box.y + box.height - 1, x1: box.x + box.width - 1, y1: box.y + box.height - 1, Palette.grey)
            out.drawLine(x0: box.x, y0: box.y, x1: box.x, y1: box.y + box.height - 1, Palette.grey)
            out.drawLine(x0: box.x + box.width - 1, y0: box.y, x1: box.x + box.width - 1, y1: box.y + box.height - 1, Palette.grey)
        }
        for (i, e) in legendEntries.enumerated() {
            let slot = legendSlot(i, in: box)
            let top = slot.y, mid = Double(top) + Double(tickH) / 2
            var c = Coverage(width: width, height: height)
            let x0 = Double(slot.x + Self.legendPad), x1 = x0 + Double(Self.legendSwatch)
            if e.line > 0 { c.stroke(x0: x0, y0: mid, x1: x1, y1: mid, lineWidth: min(e.line, 4), dash: e.dash > 0 ? 4 : 0) }
            if e.dot > 0 && e.ringed {
                var ring = Coverage(width: width, height: height)
                ring.disc(x: (x0 + x1) / 2, y: mid, radius: min(e.dot, 5) + 2)
                out.blend(ring, colour: Palette.black)
            }
            if e.dot > 0 { c.disc(x: (x0 + x1) / 2, y: mid, radius: min(e.dot, 5)) }
            out.blend(c, colour: e.colour)
            Text.drawSmooth(e.name, into: &out, x: slot.x + 2 * Self.legendPad + Self.legendSwatch, y: top,
                            colour: Self.textColour, size: Text.tickSize)
        }
        return out
    }

    // MARK: SVG

    /// Font sizes (user units) of SVG text, chosen so that the text is as large as the raster's.
    static let svgTickFont = 13.0, svgLabelFont = 15.0, svgTitleFont = 16.0

    /// The chart's elements for an SVG document (no document wrapper), with `dy` added to every y.
    public func svgElements() -> String { roomForLegend().svgElementsAsIs() }

    private func svgElementsAsIs() -> String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func hex(_ c: RGB) -> String { Palette.hex(c) }
        let a = plotArea
        let (l, t, r, b) = (Double(a.left), Double(a.top), Double(a.right), Double(a.bottom))
        // One-pixel lines sit on pixel centres (the raster's pixel k spans k…k+1), so they stay crisp.
        func crisp(_ v: Double) -> Double { v.rounded(.down) + 0.5 }
        var s = "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        for tick in xTicks where xRange.contains(tick.value) {
            s += "<line x1=\"\(f(crisp(px(tick.value))))\" y1=\"\(f(t))\" x2=\"\(f(crisp(px(tick.value))))\" y2=\"\(f(b))\" stroke=\"\(hex(Self.gridColour))\"/>\n"
        }
        for tick in yTicks where yRange.contains(tick.value) {
            s += "<line x1=\"\(f(l))\" y1=\"\(f(crisp(py(tick.value))))\" x2=\"\(f(r))\" y2=\"\(f(crisp(py(tick.value))))\" stroke=\"\(hex(Self.gridColour))\"/>\n"
        }
        s += "<rect class=\"frame\" x=\"\(f(l + 0.5))\" y=\"\(f(t + 0.5))\" width=\"\(a.right - a.left)\" height=\"\(a.bottom - a.top)\" fill=\"none\" stroke=\"\(hex(Self.frameColour))\"/>\n"
        for rule in rules {
            let dash = rule.dash > 0 ? " stroke-dasharray=\"\(f(rule.dash)) \(f(rule.dash))\"" : ""
            switch rule.orientation {
            case .horizontal:
                s += "<line x1=\"\(f(l))\" y1=\"\(f(py(rule.value)))\" x2=\"\(f(r))\" y2=\"\(f(py(rule.value)))\" stroke=\"\(hex(rule.colour))\" stroke-width=\"2\"\(dash)/>\n"
            case .vertical:
                s += "<line x1=\"\(f(px(rule.value)))\" y1=\"\(f(t))\" x2=\"\(f(px(rule.value)))\" y2=\"\(f(b))\" stroke=\"\(hex(rule.colour))\" stroke-width=\"2\"\(dash)/>\n"
            }
        }
        for series in series where series.lineWidth > 0 && series.points.count > 1 {
            let points = series.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            let dash = series.dash > 0 ? " stroke-dasharray=\"\(f(series.dash)) \(f(series.dash))\"" : ""
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(hex(series.colour))\" stroke-width=\"\(f(series.lineWidth))\" stroke-linejoin=\"round\" stroke-linecap=\"round\"\(dash)/>\n"
        }
        for series in series where series.dotRadius > 0 {
            let ring = series.ringed ? " stroke=\"#000000\" stroke-width=\"2\"" : ""
            for p in series.points {
                s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(f(series.dotRadius + (series.ringed ? 1 : 0)))\" fill=\"\(hex(series.colour))\"\(ring)/>\n"
            }
        }
        s += "<g font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" fill=\"\(hex(Self.textColour))\">\n"
        for tick in xTicks where xRange.contains(tick.value) {
            s += "<line x1=\"\(f(crisp(px(tick.value))))\" y1=\"\(f(b))\" x2=\"\(f(crisp(px(tick.value))))\" y2=\"\(f(b + Double(Self.tickLength)))\" stroke=\"\(hex(Self.frameColour))\"/>\n"
            s += "<text x=\"\(f(px(tick.value)))\" y=\"\(f(b + Double(Self.tickLength + Self.tickGap) + Self.svgTickFont * 0.9))\" font-size=\"\(f(Self.svgTickFont))\" text-anchor=\"middle\">\(Self.escape(tick.label))</text>\n"
        }
        for tick in yTicks where yRange.contains(tick.value) {
            s += "<line x1=\"\(f(l - Double(Self.tickLength)))\" y1=\"\(f(crisp(py(tick.value))))\" x2=\"\(f(l))\" y2=\"\(f(crisp(py(tick.value))))\" stroke=\"\(hex(Self.frameColour))\"/>\n"
            s += "<text x=\"\(f(l - Double(Self.tickLength + Self.tickGap)))\" y=\"\(f(py(tick.value) + Self.svgTickFont * 0.35))\" font-size=\"\(f(Self.svgTickFont))\" text-anchor=\"end\">\(Self.escape(tick.label))</text>\n"
        }
        s += "<text x=\"\(f((l + r) / 2))\" y=\"\(f(Double(height - legendBelowHeight - Self.pad) - 2))\" font-size=\"\(f(Self.svgLabelFont))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        let yx = Double(Self.pad) + Self.svgLabelFont * 0.8, ymid = (t + b) / 2
        s += "<text x=\"\(f(yx))\" y=\"\(f(ymid))\" font-size=\"\(f(Self.svgLabelFont))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(yx)) \(f(ymid)))\">\(Self.escape(yLabel))</text>\n"
        if let title {
            s += "<text x=\"\(f(l))\" y=\"\(f(Double(Self.pad) + Self.svgTitleFont * 0.9))\" font-size=\"\(f(Self.svgTitleFont))\" font-weight=\"bold\">\(Self.escape(title))</text>\n"
        }
        if var box = legendBox {
            // The box fits the SVG's text (about 0.6 em a character), on the same side as the PNG's.
            let textWidth = Int((Double(legendEntries.map(\.name.count).max() ?? 0) * Self.svgTickFont * 0.6).rounded(.up))
            let tickH = Text.height(size: Text.tickSize)
            if legend != .below {
                let fitted = min(box.width, 3 * Self.legendPad + Self.legendSwatch + textWidth)
                if box.x > plotArea.left + 8 { box.x += box.width - fitted }
                box.width = fitted
                s += "<rect x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" fill=\"#ffffff\" stroke=\"\(hex(Palette.grey))\"/>\n"
            }
            for (i, e) in legendEntries.enumerated() {
                let slot = legendSlot(i, in: box)
                let top = slot.y, mid = Double(top) + Double(tickH) / 2
                let x0 = Double(slot.x + Self.legendPad), x1 = x0 + Double(Self.legendSwatch)
                if e.line > 0 {
                    let dash = e.dash > 0 ? " stroke-dasharray=\"4 4\"" : ""
                    s += "<line x1=\"\(f(x0))\" y1=\"\(f(mid))\" x2=\"\(f(x1))\" y2=\"\(f(mid))\" stroke=\"\(hex(e.colour))\" stroke-width=\"\(f(min(e.line, 4)))\"\(dash)/>\n"
                }
                if e.dot > 0 {
                    let ring = e.ringed ? " stroke=\"#000000\" stroke-width=\"2\"" : ""
                    s += "<circle cx=\"\(f((x0 + x1) / 2))\" cy=\"\(f(mid))\" r=\"\(f(min(e.dot, 5) + (e.ringed ? 1 : 0)))\" fill=\"\(hex(e.colour))\"\(ring)/>\n"
                }
                s += "<text x=\"\(slot.x + 2 * Self.legendPad + Self.legendSwatch)\" y=\"\(f(mid + Self.svgTickFont * 0.35))\" font-size=\"\(f(Self.svgTickFont))\">\(Self.escape(e.name))</text>\n"
            }
        }
        s += "</g>\n"
        return s
    }

    /// The chart as a standalone SVG document (UTF-8, `width`×`height` user units).
    public func svg() -> String { Self.svg(stacking: [self]) }

    /// Charts one above the other as one SVG document, as wide as the widest.
    public static func svg(stacking given: [Chart]) -> String {
        let charts = given.map { $0.roomForLegend() }  // each at its height with its legend placed
        let w = charts.map(\.width).max() ?? 0, h = charts.map(\.height).reduce(0, +)
        // The charts' titles as the document's, which viewers show and screen readers read as its name.
        let titles = charts.compactMap(\.title).filter { !$0.isEmpty }
        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)">
            \(titles.isEmpty ? "" : "<title>\(Self.escape(titles.joined(separator: "; ")))</title>\n")<rect x="0" y="0" width="\(w)" height="\(h)" fill="#ffffff"/>

            """
        var y = 0
        for chart in charts {
            s += "<g transform=\"translate(0 \(y))\">\n" + chart.svgElements() + "</g>\n"
            y += chart.height
        }
        return s + "</svg>\n"
    }

    /// Charts one above the other as one picture, as wide as the widest, on white.
    public static func render(stacking given: [Chart]) -> RGBImage {
        let charts = given.map { $0.roomForLegend() }
        var out = RGBImage(height: charts.map(\.height).reduce(0, +), width: charts.map(\.width).max() ?? 0, fill: Palette.white)
        var y = 0
        for chart in charts {
            out.paste(chart.render(), x: 0, y: y)
            y += chart.height
        }
        return out
    }

    /// About `count` round ticks over `range`: steps of 1, 2 or 5 × 10ⁿ, labelled with as many
    /// decimals as the step needs.
    public static func niceTicks(_ range: ClosedRange<Double>, count: Int = 5) -> [Tick] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [(format(range.lowerBound, decimals: 2), range.lowerBound)] }
        let raw = span / Double(max(count, 1)), power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        var ticks: [Tick] = []
        var v = (range.lowerBound / step).rounded(.up) * step
        while v <= range.upperBound + step * 1e-9 {
            ticks.append((format(v, decimals: decimals), v))
            v += step
        }
        return ticks
    }

    static func format(_ v: Double, decimals: Int) -> String {
        let s = String(format: "%.\(decimals)f", abs(v) < 1e-12 ? 0 : v)
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
