import CompSegCore
import CompSegNN
import Foundation

/// What every phantom tissue microarray shares, whatever its modality: how many spots of what
/// size, the seed, the tumor's share of a cancer spot's tissue, and the splits.
public protocol TissueMicroarraySettings: Sendable {
    var spots: Int { get }
    var size: Int { get }
    /// Values per pixel of a spot's image: its bands, or 3 for RGB.
    var valuesPerPixel: Int { get }
    var seed: UInt64 { get }
    var minimumTumorFraction: Double { get }
    var maximumTumorFraction: Double { get }
    var validationFraction: Double { get }
    var testFraction: Double { get }
}

extension TissueMicroarraySettings {
    /// The label and split of spot `i`: labels alternate; splits interleave so each holds both labels.
    public func plan(_ i: Int) -> (label: SampleLabel, split: Split) {
        let label: SampleLabel = i % 2 == 0 ? .cancer : .cancerFree
        let position = Double(i / 2 * 2) / Double(max(1, spots))  // pairs share a split
        let split: Split = position < testFraction ? .test : position < testFraction + validationFraction ? .val : .train
        return (label, split)
    }

    /// Spot `i`'s layout, and the generator that drew it, for the modality's own draws after it.
    /// Seeded: spot i is the same for the same settings whatever else is generated.
    public func layout(_ i: Int) -> (layout: SpotLayout, generator: SeededGenerator) {
        var g = SeededGenerator(seed: seed &* 0x100000001B3 &+ UInt64(i) &* 0x9E3779B97F4A7C15 &+ 1)
        let layout = SpotLayout(size: size, label: plan(i).label, tumorFraction: minimumTumorFraction...maximumTumorFraction, &g)
        return (layout, g)
    }
}

/// One spot's tissue: a disc on empty background; epithelium (gland-like blobs) in stroma; in a
/// cancer spot, tumor regions covering a drawn share of the tissue; a smooth thickness variation.
public struct SpotLayout: Sendable {
    public enum Component: Sendable { case background, stroma, epithelium, tumor }
    public let size: Int
    /// Per pixel, row-major.
    public let components: [Component]
    /// Per pixel: 0.6 to 1.4, smooth over the spot.
    public let thickness: [Float]

    public var tissue: [Bool] { components.map { $0 != .background } }
    public var truth: [Bool] { components.map { $0 == .tumor } }

    init(size n: Int, label: SampleLabel, tumorFraction: ClosedRange<Double>, _ g: inout SeededGenerator) {
        size = n
        let centre = Double(n - 1) / 2
        let radius = Double(n) * (0.40 + 0.06 * Double(g.nextUniform()))
        var tissue = [Bool](repeating: false, count: n * n)
        for r in 0..<n { for c in 0..<n {
            let (dy, dx) = (Double(r) - centre, Double(c) - centre)
            tissue[r * n + c] = dy * dy + dx * dx <= radius * radius
        } }
        let glands = Self.smoothField(n, blobs: 10, radius: Double(n) / 9, &g)
        let thickness = Self.smoothField(n, blobs: 6, radius: Double(n) / 4, &g)
        var truth = [Bool](repeating: false, count: n * n)
        if label == .cancer {
            let fraction = tumorFraction.lowerBound + (tumorFraction.upperBound - tumorFraction.lowerBound) * Double(g.nextUniform())
            let field = Self.smoothField(n, blobs: 3, radius: Double(n) / 5, &g)
            let values = (0..<(n * n)).filter { tissue[$0] }.map { field[$0] }.sorted(by: >)
            let cut = values[min(values.count - 1, Int(fraction * Double(values.count)))]
            for p in 0..<(n * n) where tissue[p] && field[p] > cut { truth[p] = true }
        }
        let glandCut = Self.quantile(glands, tissue, 0.55)
        components = (0..<(n * n)).map { p in
            !tissue[p] ? .background : truth[p] ? .tumor : glands[p] > glandCut ? .epithelium : .stroma
        }
        let (tMin, tMax) = (thickness.min() ?? 0, thickness.max() ?? 1)
        self.thickness = thickness.map { Float(0.6 + 0.8 * ($0 - tMin) / max(1e-9, tMax - tMin)) }
    }

    /// A smooth random field on n×n: a sum of Gaussian blobs of random centre and sign.
    static func smoothField(_ n: Int, blobs: Int, radius: Double, _ g: inout SeededGenerator) -> [Double] {
        var field = [Double](repeating: 0, count: n * n)
        for _ in 0..<blobs {
            let (cy, cx) = (Double(g.nextUniform()) * Double(n), Double(g.nextUniform()) * Double(n))
            let amplitude = Double(g.nextUniform()) + 0.5
            let r = radius * (0.6 + 0.8 * Double(g.nextUniform()))
            for y in 0..<n { for x in 0..<n {
                let d2 = (Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)
                field[y * n + x] += amplitude * Foundation.exp(-0.5 * d2 / (r * r))
            } }
        }
        return field
    }

    static func quantile(_ field: [Double], _ mask: [Bool], _ q: Double) -> Double {
        let values = field.indices.filter { mask[$0] }.map { field[$0] }.sorted()
        return values.isEmpty ? 0 : values[min(values.count - 1, Int(q * Double(values.count)))]
    }
}
