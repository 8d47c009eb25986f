import CompSegCore
import CompSegIO
import Foundation

/// What the evaluation needs of one sample's activation map, without the map: its tissue pixels'
/// activations counted between fixed thresholds, true tumor apart from the rest, and its true
/// tumor outside the tissue. The tumor fraction and the pixel agreement at any of those
/// thresholds follow exactly, as does the choice of a threshold (`bestThreshold`): so an image
/// segmented region by region is scored as one held whole, and a few hundred counts stand for
/// its map.
public struct ActivationCounts: Sendable {
    public let id: String
    public let label: SampleLabel?
    /// Whether the sample has ground truth (its pixel agreement is measured).
    public let hasTruth: Bool
    /// The thresholds, ascending: bin 0 counts activations up to `edges[0]`, bin k those in
    /// (`edges[k-1]`, `edges[k]`], the last those above every edge.
    public let edges: [Float]
    /// Per bin, the tissue pixels that are true tumor, and the other tissue pixels.
    private(set) var tumor: [Int], other: [Int]
    /// Tissue pixels whose activation is NaN (a diverged network's): above no threshold, and not faint.
    private var unorderedTumor = 0, unorderedOther = 0
    /// For each of `lookupSteps` equal steps of [0, 1] (and one for 1 and above), the first edge at or
    /// above the step's start: `add` walks from there (exact, as a step of 1/4096 is).
    private let lookup: [UInt16]
    static let lookupSteps = 4096
    /// True tumor pixels outside the tissue (never marked), and every pixel of the image.
    public private(set) var truthOutsideTissue = 0, pixels = 0
    /// The physical size of the image's pixels, where known: its results' areas follow.
    public var pixelSize: PixelSize? = nil

    /// Empty counts over `edges(adding: thresholds)`.
    public init(id: String, label: SampleLabel?, hasTruth: Bool, thresholds: [Float] = []) {
        (self.id, self.label, self.hasTruth) = (id, label, hasTruth)
        let edges = Self.edges(adding: thresholds)
        self.edges = edges
        (tumor, other) = ([Int](repeating: 0, count: edges.count + 1), [Int](repeating: 0, count: edges.count + 1))
        var k = 0
        lookup = (0...Self.lookupSteps).map { i in
            while k < edges.count && edges[k] < Float(i) / Float(Self.lookupSteps) { k += 1 }
            return UInt16(k)
        }
    }

    /// The counts of a whole map (H×W, row-major) on `sample`'s tissue.
    public init(_ sample: Sample, map: [Float], truth: [Bool]?, thresholds: [Float] = []) {
        self.init(id: sample.id, label: sample.label, hasTruth: truth != nil, thresholds: thresholds)
        pixelSize = sample.pixelSize
        let tissue = sample.tissue.pixels
        for i in map.indices { add(map[i], tissue: tissue[i], truth: truth?[i] ?? false) }
    }

    /// Counts one pixel.
    public mutating func add(_ activation: Float, tissue: Bool, truth: Bool) {
        pixels += 1
        guard tissue else { if truth { truthOutsideTissue += 1 }; return }
        guard !activation.isNaN else { if truth { unorderedTumor += 1 } else { unorderedOther += 1 }; return }
        // The first edge at or above the activation, from its step's first edge.
        let steps = Self.lookupSteps
        let step = activation <= 0 ? 0 : activation >= 1 ? steps : Int(activation * Float(steps))
        var k = Int(lookup[step])
        while k < edges.count && edges[k] < activation { k += 1 }
        if truth { tumor[k] += 1 } else { other[k] += 1 }
    }

    public var tissuePixels: Int { tumor.reduce(0, +) + other.reduce(0, +) + unorderedTumor + unorderedOther }
    /// True tumor pixels, in the tissue or not.
    public var truthPixels: Int { tumor.reduce(0, +) + unorderedTumor + truthOutsideTissue }

    /// The sample's result at `threshold`, one of `edges` (or not finite: NaN and +∞ mark nothing,
    /// −∞ every tissue pixel but NaN's): a pixel is predicted tumor where its activation exceeds it
    /// in tissue; the agreement is scored on the tissue and on the true tumor outside it, which the
    /// mask cannot mark (a tissue mask that leaves out part of an annotation costs Dice as a miss does).
    public func result(at threshold: Float) -> SegmentationEvaluation.SampleResult {
        // The bins above the threshold: those after its edge.
        let first: Int
        if threshold.isNaN || threshold == .infinity { first = tumor.count }
        else if threshold == -.infinity { first = 0 }
        else if let k = edges.firstIndex(of: threshold) { first = k + 1 }
        else { preconditionFailure("threshold \(threshold) is not among the counts' edges") }
        let tp = tumor[first...].reduce(0, +), fp = other[first...].reduce(0, +)
        let tissue = tissuePixels, fn = truthPixels - tp
        return .init(id: id, label: label, tissuePixels: tissue, tumorPixels: tp + fp,
                     tumorFraction: Double(tp + fp) / Double(max(1, tissue)),
                     pixel: hasTruth ? PixelAgreement(tp: tp, fp: fp, fn: fn, tn: tissue + truthOutsideTissue - tp - fp - fn) : nil,
                     pixelSize: pixelSize)
    }

    /// The activations below the sweep (under 0.05) on the tissue, per bin.
    var faint: [Int] { (0..<Self.faintBins(edges)).map { tumor[$0] + other[$0] } }

    // MARK: The thresholds counted

    /// The thresholds `bestThreshold` may choose: the sweep (0.05 … 0.95) and, below it, every
    /// number of two significant digits from 0.0010 to 0.049 (the faint maps' own thresholds are
    /// their activations rounded so).
    static let candidates: [Float] = (10...99).map { Float("\($0)e-4")! } + (10...49).map { Float("\($0)e-3")! }
        + EvaluationReport.sweptThresholds

    /// `candidates`, the bounds between the faint ones (where rounding to two digits turns from one
    /// to the next), the largest activation below 0.05, and `thresholds`, ascending.
    static func edges(adding thresholds: [Float]) -> [Float] {
        Set(candidates + roundingBounds + [EvaluationReport.sweptThresholds[0].nextDown] + thresholds.filter(\.isFinite)).sorted()
    }

    /// For 0.00099 and each faint candidate, the largest activation that rounds to it (to two
    /// significant digits, as `SegmentationEvaluation.rounded`): found from the midpoint to the
    /// next, float by float, so that every bin lies within one rounding step exactly.
    static let roundingBounds: [Float] = {
        let faint = candidates.filter { $0 < EvaluationReport.sweptThresholds[0] }
        return zip([Float(0.00099)] + faint, faint + [EvaluationReport.sweptThresholds[0]]).map { low, high in
            var bound = (low + high) / 2
            while SegmentationEvaluation.rounded(bound) != low { bound = bound.nextDown }
            while SegmentationEvaluation.rounded(bound.nextUp) == low { bound = bound.nextUp }
            return bound
        }
    }()

    /// The number of bins whose activations lie below 0.05.
    static func faintBins(_ edges: [Float]) -> Int { edges.firstIndex(of: EvaluationReport.sweptThresholds[0].nextDown)! + 1 }

    /// A bin's activations rounded to two significant digits, as `bestThreshold` takes its faint
    /// thresholds (every bin lies within one rounding step: `roundingBounds`); nil for the lowest bin.
    static func rounded(bin k: Int, of edges: [Float]) -> Float? {
        guard k > 0, k < edges.count else { return nil }
        return SegmentationEvaluation.rounded((edges[k - 1] + edges[k]) / 2)
    }
}
