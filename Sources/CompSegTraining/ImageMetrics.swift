import Foundation

/// AUC with its 95% confidence interval by DeLong's method: the variance of the Mann–Whitney
/// statistic from the placement values of positives and negatives (ties count ½); the interval
/// AUC ± 1.96·sd, clipped to [0, 1]. With `clusters` (a group per sample, such as its patient),
/// samples of one group are not independent: the variance is Obuchowski's (1997), from the
/// placement values summed per group, which is DeLong's where every group holds one sample.
/// nil when either class is absent; the interval nil when either class comes from one group (its
/// placement variance is undefined) and when the variance is 0 (classes separated without
/// overlap, or every score tied): a 0-wide interval would claim a certainty that a few samples
/// cannot give.
public func rocAUCWithInterval<Score: BinaryFloatingPoint>(scores: [Score], positives: [Bool], clusters: [Int]? = nil)
    -> (auc: Double, interval: (low: Double, high: Double)?)? {
    guard let p = placements(scores, positives) else { return nil }
    let auc = mean(p.v10)
    guard let variance = clusteredVariance(p, auc: auc, positives: positives, clusters: clusters), variance > 0 else { return (auc, nil) }
    let sd = variance.squareRoot()
    return (auc, (max(0, auc - 1.96 * sd), min(1, auc + 1.96 * sd)))
}

/// DeLong's test of two AUCs on the same samples (two networks scoring one test split): the
/// difference A − B and its two-sided p-value, from the covariance of the two sets of placement
/// values (the samples' shared difficulty cancels, which comparing two separate intervals
/// ignores); with `clusters`, summed per group as `rocAUCWithInterval`'s. nil where a class is
/// absent or comes from one group, or the difference has no variance.
public func pairedAUCTest<Score: BinaryFloatingPoint>(_ a: [Score], _ b: [Score], positives: [Bool], clusters: [Int]? = nil)
    -> (difference: Double, p: Double)? {
    guard let pa = placements(a, positives), let pb = placements(b, positives) else { return nil }
    // The difference's placement values: its variance is var(A) + var(B) − 2 cov(A, B).
    let d = (v10: zip(pa.v10, pb.v10).map(-), v01: zip(pa.v01, pb.v01).map(-))
    let difference = mean(d.v10)
    guard let variance = clusteredVariance(d, auc: difference, positives: positives, clusters: clusters), variance > 1e-15 else { return nil }
    return (difference, erfc(Swift.abs(difference) / variance.squareRoot() / 2.0.squareRoot()))
}

/// The variance of an AUC (or of a difference of two) from its placement values, the samples
/// grouped by `clusters` (each its own group where nil), by Obuchowski (1997): with group i's
/// summed placements V10ᵢ, V01ᵢ of its mᵢ positives and nᵢ negatives, M and N in all,
///   S10 = I10/((I10−1)·M)·Σ(V10ᵢ − mᵢθ)², S01 likewise, S11 = I/(I−1)·Σ(V10ᵢ − mᵢθ)(V01ᵢ − nᵢθ),
///   var = S10/M + S01/N + 2·S11/(M·N),
/// I10 and I01 counting the groups holding positives and negatives, I all groups. nil where
/// either class comes from a single group.
func clusteredVariance(_ p: (v10: [Double], v01: [Double]), auc θ: Double, positives: [Bool], clusters: [Int]?) -> Double? {
    let groups = clusters ?? Array(positives.indices)
    precondition(groups.count == positives.count, "clusteredVariance: \(groups.count) groups for \(positives.count) samples")
    // Each group's deviations, the samples taken in the order `placements` lists them.
    var ten: [Int: Double] = [:], one: [Int: Double] = [:]
    var (i10, i01) = (0, 0)
    for (i, v) in zip(positives.indices.filter { positives[$0] }, p.v10) {
        if ten[groups[i]] == nil { i10 += 1 }
        ten[groups[i], default: 0] += v - θ
    }
    for (i, v) in zip(positives.indices.filter { !positives[$0] }, p.v01) {
        if one[groups[i]] == nil { i01 += 1 }
        one[groups[i], default: 0] += v - θ
    }
    guard i10 > 1, i01 > 1 else { return nil }
    let (m, n) = (Double(p.v10.count), Double(p.v01.count))
    let all = Set(ten.keys).union(one.keys)
    let s10 = Double(i10) / (Double(i10 - 1) * m) * ten.values.reduce(0) { $0 + $1 * $1 }
    let s01 = Double(i01) / (Double(i01 - 1) * n) * one.values.reduce(0) { $0 + $1 * $1 }
    let s11 = Double(all.count) / Double(all.count - 1) * all.reduce(0) { $0 + (ten[$1] ?? 0) * (one[$1] ?? 0) }
    return s10 / m + s01 / n + 2 * s11 / (m * n)
}

/// DeLong's placement values: for each positive, the share of negatives it outscores; for each
/// negative, the share of positives that outscore it (a tie counts ½). nil when a class is absent.
func placements<Score: BinaryFloatingPoint>(_ scores: [Score], _ positives: [Bool]) -> (v10: [Double], v01: [Double])? {
    let pos = scores.indices.filter { positives[$0] }.map { scores[$0] }
    let neg = scores.indices.filter { !positives[$0] }.map { scores[$0] }
    guard !pos.isEmpty, !neg.isEmpty else { return nil }
    func psi(_ x: Score, _ y: Score) -> Double { x > y ? 1 : (x == y ? 0.5 : 0) }
    return (pos.map { x in neg.reduce(0.0) { $0 + psi(x, $1) } / Double(neg.count) },
            neg.map { y in pos.reduce(0.0) { $0 + psi($1, y) } / Double(pos.count) })
}

private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

/// The cut on `scores` that maximizes Youden's J = sensitivity + specificity − 1 (a sample is
/// called positive when its score ≥ the cut), with the sensitivity and specificity there.
public func youdenPoint<Score: BinaryFloatingPoint>(scores: [Score], positives: [Bool]) -> (cut: Score, sensitivity: Double, specificity: Double)? {
    let nPos = positives.filter { $0 }.count, nNeg = positives.count - nPos
    guard nPos > 0, nNeg > 0 else { return nil }
    var best: (Score, Double, Double)?
    for cut in Set(scores).sorted() {
        let tp = scores.indices.filter { positives[$0] && scores[$0] >= cut }.count
        let tn = scores.indices.filter { !positives[$0] && scores[$0] < cut }.count
        let (sens, spec) = (Double(tp) / Double(nPos), Double(tn) / Double(nNeg))
        if best == nil || sens + spec > best!.1 + best!.2 { best = (cut, sens, spec) }
    }
    return best
}

/// Pixel-level agreement of a predicted mask with the truth, over the pixels of `region` (tissue).
/// Empty-mask rule: when prediction and truth are both empty, Dice and IoU are 1 (and the
/// sample is counted as "both empty"); sensitivity is nil without true positives to find.
public struct PixelAgreement: Codable, Sendable, Equatable {
    public var dice: Double, iou: Double
    public var sensitivity: Double?, specificity: Double?
    public var bothEmpty: Bool

    public init(predicted: [Bool], truth: [Bool], region: [Bool]) {
        var tp = 0, fp = 0, fn = 0, tn = 0
        for i in predicted.indices where region[i] {
            switch (predicted[i], truth[i]) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            case (false, false): tn += 1
            }
        }
        self.init(tp: tp, fp: fp, fn: fn, tn: tn)
    }

    /// From the counts of true and false positives and negatives.
    public init(tp: Int, fp: Int, fn: Int, tn: Int) {
        bothEmpty = tp + fp + fn == 0
        dice = bothEmpty ? 1 : 2 * Double(tp) / Double(2 * tp + fp + fn)
        iou = bothEmpty ? 1 : Double(tp) / Double(tp + fp + fn)
        sensitivity = tp + fn > 0 ? Double(tp) / Double(tp + fn) : nil
        specificity = tn + fp > 0 ? Double(tn) / Double(tn + fp) : nil
    }
}

/// Mean and sample standard deviation (nil for one value; both nil when empty).
public func meanAndSD(_ values: [Double]) -> (mean: Double, sd: Double?)? {
    guard !values.isEmpty else { return nil }
    let m = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (m, nil) }
    return (m, (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot())
}

/// How strongly `map` (H×W, row-major) carries a period-2 pattern, the checkerboard of 2×2
/// transposed convolutions: the map minus its 3×3 mean (edges repeated), averaged over each of
/// the four pixel parities (row mod 2, column mod 2); the largest of those means minus the
/// smallest, in activation units. 0 for a map smaller than 2×2.
public func parityPatternSpread(_ map: [Float], height h: Int, width w: Int) -> Double {
    parityPatternSpread(map, height: h, width: w, over: nil)
}

/// `parityPatternSpread`, the four means taken over the pixels `counted` marks (all where nil).
func parityPatternSpread(_ map: [Float], height h: Int, width w: Int, over counted: [Bool]?) -> Double {
    guard h >= 2, w >= 2, map.count == h * w else { return 0 }
    var sums = ParitySums()
    sums.add(map, rows: h, width: w, firstRow: 0, over: counted)
    return sums.spread
}

/// The sums behind `parityPatternSpread`, gathered a band of rows at a time, as an image streamed
/// region by region finishes them: each band's 3×3 means repeat its own edge rows, so a streamed
/// image differs from one measured whole only along the bands' borders.
public struct ParitySums: Sendable {
    private var sums = [Double](repeating: 0, count: 4), counts = [Int](repeating: 0, count: 4)
    public init() {}

    /// Adds rows `firstRow ..< firstRow + h` of the image (`map`, h×`w`), at the pixels `counted` marks (all where nil).
    public mutating func add(_ map: [Float], rows h: Int, width w: Int, firstRow y0: Int, over counted: [Bool]?) {
        guard h > 0, w > 0, map.count == h * w else { return }
        for y in 0..<h {
            for x in 0..<w where counted?[y * w + x] ?? true {
                var mean = 0.0
                for dy in -1...1 { for dx in -1...1 { mean += Double(map[min(h - 1, max(0, y + dy)) * w + min(w - 1, max(0, x + dx))]) } }
                let k = ((y0 + y) & 1) * 2 + (x & 1)
                sums[k] += Double(map[y * w + x]) - mean / 9
                counts[k] += 1
            }
        }
    }

    /// The largest of the four parity means minus the smallest; 0 while a parity has no pixel.
    public var spread: Double {
        guard !counts.contains(0) else { return 0 }
        let means = (0..<4).map { sums[$0] / Double(counts[$0]) }
        return means.max()! - means.min()!
    }
}

/// How strongly the mask `map` gives at `threshold` within `tissue` carries a period-2 pattern:
/// `parityPatternSpread` of that mask as 0 and 1, its means over the tissue pixels alone (so a
/// small core in a large frame counts as much as one that fills it). A map whose faint
/// checkerboard straddles the threshold makes a dotted mask (about 0.5 and more) though its own
/// spread is a few thousandths; masks of regions stay near 0.
public func maskParitySpread(_ map: [Float], tissue: [Bool], threshold: Float, height h: Int, width w: Int) -> Double {
    guard map.count == h * w, tissue.count == h * w else { return 0 }
    return parityPatternSpread((0..<(h * w)).map { tissue[$0] && map[$0] > threshold ? 1 : 0 }, height: h, width: w, over: tissue)
}
