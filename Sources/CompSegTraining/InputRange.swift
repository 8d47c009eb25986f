import CompSegCore
import Foundation

/// The inputs a network was trained on, channel by channel: the 0.1% and 99.9% quantiles of the
/// training samples' tissue pixels after preprocessing, measured on up to `pixelBudget` pixels
/// spread evenly over the samples, and the range of the samples' tissue means. A run records it
/// in `model.json` (`inputRange`), so that `segment`, `evaluate` and `overlay` can say when a
/// sample lies outside it: its map is then the network's answer to inputs it never saw (another
/// instrument, other units, a stain or preparation unlike the training samples').
public struct InputRange: Codable, Sendable, Equatable {
    /// Per channel, the 0.1% and 99.9% quantiles.
    public var low: [Float], high: [Float]
    /// The pixels they were measured on.
    public var pixels: Int
    /// Per channel, the least and the greatest of the training samples' tissue means, and the
    /// samples measured; nil in ranges recorded before them.
    public var meanLow: [Float]?, meanHigh: [Float]?
    public var samples: Int?
    /// Per channel, the least and the greatest of the training samples' tissue balance: the sum
    /// of a sample's tissue pixels' values divided by the sum of their lengths, the make-up of its
    /// tissue whatever its strength (an H&E scan's hue: its share of hematoxylin and eosin), each
    /// pixel weighed by its strength (a near-white pixel, whose direction is noise, hardly
    /// counts). Recorded where the training values are 0 or more (their 0.1% quantile: optical
    /// densities; not PCA scores, whose signs say nothing of a make-up), in two channels or more,
    /// and every training sample had one; nil otherwise, and in ranges recorded before it.
    public var balanceLow: [Float]?, balanceHigh: [Float]?

    /// The pixels measured, at most: 20,000 (72 MB held for 450 channels).
    public static let pixelBudget = 20_000
    /// The share of the training range's width added on either side before a pixel counts as outside.
    public static let margin: Float = 0.1
    /// A sample is named where, in some channel, at least this share of its tissue pixels lies
    /// outside the widened range. Measured with runs of one epoch: the samples of the run's own
    /// data reach at most 0.005 (30-spot infrared, Raman and H&E phantoms) and 0.01 (the
    /// independent phantom's test split); a spot stored as transmittance 1.0.
    public static let warningShare = 0.5

    /// A sample is also named where, in some channel, its tissue's mean lies outside the training
    /// samples' means by more than their spread (`meanBounds`). Measured with runs of 3 epochs on
    /// 40-spot phantoms: samples of another seed, and files scaled, zoomed or 1% noisier, stay a
    /// third of the bounds' half-width or more inside them (docs/method.md, Limits); with half
    /// the spread, a Raman sample of another seed came within a seventh of a false warning.
    public static let meanMargin: Float = 1
    /// The training samples the means' bounds need: fewer tell their spread too poorly (with 4,
    /// a test spot of the project's phantom lay twice their spread beyond them).
    public static let meanSamples = 10
    /// The least widening of the balance's bounds either side (of a value between −1 and 1).
    /// Measured on the H&E phantom (24 training spots, 40 spots of another seed; docs/method.md,
    /// Limits): with the bounds widened by their spread, no new spot was named, and 34 of the 40
    /// with their hematoxylin weakened to 0.4 were.
    public static let balanceFloor: Float = 0.01

    public init(low: [Float], high: [Float], pixels: Int, meanLow: [Float]? = nil, meanHigh: [Float]? = nil, samples: Int? = nil,
                balanceLow: [Float]? = nil, balanceHigh: [Float]? = nil) {
        self.low = low; self.high = high; self.pixels = pixels
        self.meanLow = meanLow; self.meanHigh = meanHigh; self.samples = samples
        self.balanceLow = balanceLow; self.balanceHigh = balanceHigh
    }

    /// Measured on every sample of `store` (each read once; `InputRangeSampler`); nil where no tissue pixel was met.
    public init?(measuring store: SampleStore) throws {
        guard let channels = store.channels, store.count > 0 else { return nil }
        var sampler = InputRangeSampler(channels: channels, samples: store.count)
        for i in 0..<store.count { sampler.add(try store.sample(i)) }
        guard let range = sampler.range() else { return nil }
        self = range
    }

    /// Per channel, the bounds beyond which a pixel counts as outside: the range widened by
    /// `margin` of its width either side, and by at least a hundredth of the channels' median
    /// width (a channel constant in training, such as a band at 0, still allows rounding).
    public var bounds: (low: [Float], high: [Float]) {
        let widths = zip(low, high).map { $1 - $0 }, median = widths.isEmpty ? 0 : widths.sorted()[widths.count / 2]
        let pads = widths.map { max(Self.margin * $0, 0.01 * median) }
        return (zip(low, pads).map { $0 - $1 }, zip(high, pads).map { $0 + $1 })
    }

    /// Per channel, the bounds a sample's tissue mean must lie within: the training samples'
    /// means widened by `meanMargin` of their spread either side, and by at least a tenth of
    /// the channel's pixel range (`low`…`high`: where the training samples' means were alike);
    /// nil for a range recorded without means, or from fewer than `meanSamples` samples.
    public var meanBounds: (low: [Float], high: [Float])? {
        guard let meanLow, let meanHigh, (samples ?? 0) >= Self.meanSamples else { return nil }
        let pads = meanLow.indices.map { c in max(Self.meanMargin * (meanHigh[c] - meanLow[c]), 0.1 * (high[c] - low[c])) }
        return (zip(meanLow, pads).map { $0 - $1 }, zip(meanHigh, pads).map { $0 + $1 })
    }

    /// Per channel, the bounds a sample's tissue balance must lie within: the training samples'
    /// balances widened by `meanMargin` of their spread either side, and by at least
    /// `balanceFloor`; nil where no balance was recorded, or from fewer than `meanSamples` samples.
    public var balanceBounds: (low: [Float], high: [Float])? {
        guard let balanceLow, let balanceHigh, (samples ?? 0) >= Self.meanSamples else { return nil }
        let pads = zip(balanceLow, balanceHigh).map { max(Self.meanMargin * ($1 - $0), Self.balanceFloor) }
        return (zip(balanceLow, pads).map { $0 - $1 }, zip(balanceHigh, pads).map { $0 + $1 })
    }

    /// Why this range cannot be one a run recorded for `channels` input channels (a hand-edited
    /// `model.json`): nil where it can.
    public func problem(channels: Int) -> String? {
        guard low.count == channels, high.count == channels else {
            return "holds \(low.count) low and \(high.count) high values; expected one of each for the \(channels) input channels"
        }
        if let c = low.indices.first(where: { !(low[$0].isFinite && high[$0].isFinite && low[$0] <= high[$0]) }) {
            return "channel \(c + 1): low \(low[c]), high \(high[c]); expected finite values, low ≤ high"
        }
        for (name, lows, highs) in [("mean", meanLow, meanHigh), ("balance", balanceLow, balanceHigh)] where lows != nil || highs != nil {
            guard let lows, let highs, lows.count == channels, highs.count == channels else {
                return "holds \(lows?.count ?? 0) \(name)Low and \(highs?.count ?? 0) \(name)High values; expected one of each for the \(channels) input channels"
            }
            if let c = lows.indices.first(where: { !(lows[$0].isFinite && highs[$0].isFinite && lows[$0] <= highs[$0]) }) {
                return "channel \(c + 1): \(name)Low \(lows[c]), \(name)High \(highs[c]); expected finite values, \(name)Low ≤ \(name)High"
            }
        }
        return nil
    }
}

/// Collects an even spread of tissue pixels from samples as they are read, for `InputRange`:
/// each of `samples` samples gives at most its share of `InputRange.pixelBudget`, taken evenly
/// spread over its tissue pixels (the same pixels for the same data).
public struct InputRangeSampler: Sendable {
    let channels: Int, perSample: Int
    /// Channel-major: values[c] holds channel c of every pixel taken.
    private var values: [[Float]]
    /// Per channel, the least and greatest sample mean over tissue so far, and the samples measured.
    private var meanLow: [Float], meanHigh: [Float], samples = 0
    /// The same of the samples' tissue balance (`InputRange.balanceLow`), and the samples that had one.
    private var balanceLow: [Float], balanceHigh: [Float], balanced = 0

    public init(channels: Int, samples: Int) {
        self.channels = channels
        perSample = max(1, InputRange.pixelBudget / max(samples, 1))
        values = Array(repeating: [], count: channels)
        meanLow = Array(repeating: .infinity, count: channels); meanHigh = Array(repeating: -.infinity, count: channels)
        (balanceLow, balanceHigh) = (meanLow, meanHigh)
    }

    /// Takes `sample`'s pixels (a sample with other channels than the first's is skipped: the run refuses it anyway).
    public mutating func add(_ sample: Sample) {
        guard sample.image.shape[0] == channels else { return }
        let mask = sample.tissue.pixels, total = sample.tissue.count
        guard total > 0 else { return }
        let taken = min(perSample, total), plane = sample.height * sample.width
        sample.image.withPlainBuffer { x in
            // The k-th pixel taken is tissue pixel k·total/taken, counted in row order.
            var seen = 0, k = 0
            for p in 0..<plane where mask[p] {
                defer { seen += 1 }
                guard k < taken, seen == k * total / taken else { continue }
                k += 1
                // A pixel with a value that is not finite is left out whole (the run's nonFinite policy decides about those).
                guard (0..<channels).allSatisfy({ x[$0 * plane + p].isFinite }) else { continue }
                for c in 0..<channels { values[c].append(x[c * plane + p]) }
            }
            var means = InputRangeCounts.Means(channels: channels), balance = InputRangeCounts.Balance(channels: channels)
            means.add(x, tissue: mask)
            balance.add(x, tissue: mask)
            guard let mean = means.values else { return }
            samples += 1
            for c in 0..<channels { meanLow[c] = min(meanLow[c], mean[c]); meanHigh[c] = max(meanHigh[c], mean[c]) }
            guard let share = balance.values else { return }
            balanced += 1
            for c in 0..<channels { balanceLow[c] = min(balanceLow[c], share[c]); balanceHigh[c] = max(balanceHigh[c], share[c]) }
        }
    }

    /// The quantiles of the pixels taken; nil where none was.
    public func range() -> InputRange? {
        guard let n = values.first?.count, n > 0 else { return nil }
        var low: [Float] = [], high: [Float] = []
        for column in values {
            let sorted = column.sorted()
            func quantile(_ q: Double) -> Float {
                let position = q * Double(n - 1), i = Int(position), t = Float(position - Double(i))
                return i + 1 < n ? sorted[i] + t * (sorted[i + 1] - sorted[i]) : sorted[i]
            }
            low.append(quantile(0.001)); high.append(quantile(0.999))
        }
        // A balance where the values are make-ups (none below 0), of two channels or more, from every sample.
        let balanced = samples > 0 && self.balanced == samples && channels >= 2 && low.allSatisfy { $0 >= 0 }
        return InputRange(low: low, high: high, pixels: n, meanLow: samples > 0 ? meanLow : nil, meanHigh: samples > 0 ? meanHigh : nil,
                          samples: samples > 0 ? samples : nil, balanceLow: balanced ? balanceLow : nil, balanceHigh: balanced ? balanceHigh : nil)
    }
}

/// How far one sample's tissue lies outside an `InputRange`: per channel, the tissue pixels
/// below and above its widened bounds, and the tissue's mean. Counted a region at a time for an
/// image too large to hold.
public struct InputRangeCounts: Sendable {
    public let id: String
    private let low: [Float], high: [Float], meanBounds: (low: [Float], high: [Float])?, balanceBounds: (low: [Float], high: [Float])?
    private var below: [Int], above: [Int], means: Means, balance: Balance
    public private(set) var tissue = 0

    public init(id: String, range: InputRange) {
        self.id = id
        (low, high) = range.bounds
        meanBounds = range.meanBounds
        balanceBounds = range.balanceBounds
        below = Array(repeating: 0, count: low.count); above = below
        means = Means(channels: low.count)
        balance = Balance(channels: low.count)
    }

    /// Per channel, the sum and count of the finite tissue values.
    struct Means: Sendable {
        var sums: [Double], counts: [Int]
        init(channels: Int) { sums = Array(repeating: 0, count: channels); counts = Array(repeating: 0, count: channels) }

        /// Adds the tissue pixels of `values` (C×N channel-major, N the mask's pixels).
        mutating func add(_ values: UnsafeBufferPointer<Float>, tissue mask: [Bool]) {
            let n = mask.count
            for c in sums.indices {
                var sum = 0.0, count = 0
                for p in 0..<n where mask[p] {
                    let v = values[c * n + p]
                    if v.isFinite { sum += Double(v); count += 1 }
                }
                sums[c] += sum; counts[c] += count
            }
        }

        /// The means; nil where a channel has no finite tissue value.
        var values: [Float]? {
            counts.contains(0) ? nil : zip(sums, counts).map { Float($0 / Double($1)) }
        }
    }

    /// Per channel, the sum of the tissue pixels' values, and the sum of their lengths (of the
    /// pixels whose values are finite): the balance is the one over the other.
    struct Balance: Sendable {
        var sums: [Double], lengths = 0.0
        init(channels: Int) { sums = Array(repeating: 0, count: channels) }

        /// Adds the tissue pixels of `values` (C×N channel-major, N the mask's pixels).
        mutating func add(_ values: UnsafeBufferPointer<Float>, tissue mask: [Bool]) {
            let n = mask.count, channels = sums.count
            for p in 0..<n where mask[p] {
                var squares = 0.0
                for c in 0..<channels { let v = Double(values[c * n + p]); squares += v * v }
                guard squares.isFinite else { continue }
                for c in 0..<channels { sums[c] += Double(values[c * n + p]) }
                lengths += squares.squareRoot()
            }
        }

        /// The balance; nil where no pixel had a length.
        var values: [Float]? { lengths > 0 ? sums.map { Float($0 / lengths) } : nil }
    }

    /// Counts the tissue pixels of `values` (C×N channel-major, C the range's channels).
    public mutating func add(_ values: UnsafeBufferPointer<Float>, tissue mask: [Bool]) {
        let n = mask.count, channels = low.count
        guard values.count == channels * n else { return }  // another channel count: refused elsewhere, by name
        tissue += mask.lazy.filter { $0 }.count
        for c in 0..<channels {  // one pass over each channel's tissue: outside counts and the mean's sum
            let (lo, hi) = (low[c], high[c])
            var b = 0, a = 0, sum = 0.0, count = 0
            for p in 0..<n where mask[p] {
                let v = values[c * n + p]
                if v < lo { b += 1 } else if v > hi { a += 1 }
                if v.isFinite { sum += Double(v); count += 1 }
            }
            below[c] += b; above[c] += a
            means.sums[c] += sum; means.counts[c] += count
        }
        if balanceBounds != nil { balance.add(values, tissue: mask) }
    }

    /// Counts `sample`'s tissue pixels.
    public mutating func add(_ sample: Sample) {
        sample.image.withPlainBuffer { add($0, tissue: sample.tissue.pixels) }
    }

    /// The channel with the largest share of tissue outside (below and above together), that
    /// share, and whether more of it lies above; nil without tissue.
    public var worst: (channel: Int, share: Double, above: Bool)? {
        guard tissue > 0 else { return nil }
        var best: (channel: Int, share: Double, above: Bool)?
        for c in below.indices {
            let share = Double(below[c] + above[c]) / Double(tissue)
            if best == nil || share > best!.share { best = (c, share, above[c] >= below[c]) }
        }
        return best
    }

    /// The channel whose tissue mean lies farthest outside the range's `meanBounds`, its mean,
    /// and how far beyond them, in half their width (above 0: outside); nil without tissue or
    /// where the range recorded no means.
    public var farthestMean: (channel: Int, mean: Float, beyond: Double)? {
        guard tissue > 0, let bounds = meanBounds, let mean = means.values else { return nil }
        return Self.farthest(mean, from: bounds).map { ($0.channel, mean[$0.channel], $0.beyond) }
    }

    /// As `farthestMean`, of the tissue's balance and the range's `balanceBounds`.
    public var farthestBalance: (channel: Int, balance: Float, beyond: Double)? {
        guard tissue > 0, let bounds = balanceBounds, let balance = balance.values else { return nil }
        return Self.farthest(balance, from: bounds).map { ($0.channel, balance[$0.channel], $0.beyond) }
    }

    /// The channel whose value lies farthest outside `bounds`, in half their width (above 0: outside).
    static func farthest(_ values: [Float], from bounds: (low: [Float], high: [Float])) -> (channel: Int, beyond: Double)? {
        var best: (channel: Int, beyond: Double)?
        for c in values.indices {
            let pad = Double(bounds.high[c] - bounds.low[c]) / 2, centre = Double(bounds.high[c] + bounds.low[c]) / 2
            let beyond = (abs(Double(values[c]) - centre) - pad) / max(pad, .leastNormalMagnitude)
            if best == nil || beyond > best!.beyond { best = (c, beyond) }
        }
        return best
    }

    /// Whether the sample lies outside enough to be named: at least `InputRange.warningShare` of
    /// its tissue outside a channel's range, or its tissue's mean or balance outside a channel's
    /// `meanBounds` or `balanceBounds`.
    public var departs: Bool {
        (worst?.share ?? 0) >= InputRange.warningShare || (farthestMean?.beyond ?? 0) > 0 || (farthestBalance?.beyond ?? 0) > 0
    }
}
