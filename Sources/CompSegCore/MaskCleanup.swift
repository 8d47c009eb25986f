import Foundation

/// Clean-up of tissue masks. Foreground (true) pixels connect to their 8 neighbours, background
/// (false) pixels to their 4 edge neighbours — dual connectivities, so a diagonal chain of tissue
/// pixels is one region and closes off the background it encloses. Both run in O(H·W) time,
/// without recursion.
extension Mask {
    /// The mask with every 8-connected foreground component of fewer than `pixels` pixels set to
    /// background (nothing changes for `pixels` ≤ 1).
    public func removingSpecks(smallerThan pixels: Int) -> Mask {
        var out = self
        guard pixels > 1 else { return out }
        forEachComponent(of: true, eightConnected: true) { members, _ in
            if members.count < pixels { for p in members { out.pixels[p] = false } }
        }
        return out
    }

    /// The mask with every 4-connected background component that does not touch the image border
    /// and has fewer than `pixels` pixels set to foreground (nothing changes for `pixels` ≤ 1).
    public func fillingHoles(smallerThan pixels: Int) -> Mask {
        var out = self
        guard pixels > 1 else { return out }
        forEachComponent(of: false, eightConnected: false) { members, touchesBorder in
            if !touchesBorder, members.count < pixels { for p in members { out.pixels[p] = true } }
        }
        return out
    }

    /// Calls `body` once per connected component of the pixels equal to `value`, with the
    /// component's pixel indices (row-major) and whether any of them lies on the image border.
    /// An explicit stack, not recursion, so a component may span the whole image.
    private func forEachComponent(of value: Bool, eightConnected: Bool, _ body: ([Int], Bool) -> Void) {
        let (h, w) = (height, width)
        var seen = [Bool](repeating: false, count: pixels.count)
        var stack: [Int] = [], members: [Int] = []
        for start in pixels.indices where pixels[start] == value && !seen[start] {
            seen[start] = true
            stack.append(start)
            members.removeAll(keepingCapacity: true)
            var touchesBorder = false
            while let p = stack.popLast() {
                members.append(p)
                let (r, c) = (p / w, p % w)
                if r == 0 || r == h - 1 || c == 0 || c == w - 1 { touchesBorder = true }
                for dr in -1...1 {
                    for dc in -1...1 where (dr != 0 || dc != 0) && (eightConnected || dr == 0 || dc == 0) {
                        let (nr, nc) = (r + dr, c + dc)
                        guard nr >= 0, nr < h, nc >= 0, nc < w else { continue }
                        let q = nr * w + nc
                        if pixels[q] == value && !seen[q] { seen[q] = true; stack.append(q) }
                    }
                }
            }
            body(members, touchesBorder)
        }
    }
}

extension Mask {
    /// Morphological closing by a (2·radius+1)² square: dilation then erosion, which joins tissue
    /// separated by gaps up to 2·radius pixels wide and keeps the outline elsewhere (nothing
    /// changes for radius 0). It is computed on the mask widened by `radius` background pixels on
    /// every side, then cut back: tissue at the border is not eaten, and slide between tissue and
    /// the border stays slide, however narrow.
    public func closing(radius r: Int) -> Mask {
        guard r > 0 else { return self }
        let (h, w) = (height + 2 * r, width + 2 * r)
        var padded = [Bool](repeating: false, count: h * w)
        for y in 0..<height { for x in 0..<width { padded[(y + r) * w + x + r] = pixels[y * width + x] } }
        // Outside the widened mask nothing matters: no window of a pixel that is kept reaches it.
        // (The masks below are sized by construction: `try!` cannot fail.)
        let closed = try! Mask(height: h, width: w, pixels: padded).filtered(r, keepIfAny: true, outside: false)
            .filtered(r, keepIfAny: false, outside: true)
        var out = [Bool](repeating: false, count: height * width)
        for y in 0..<height { for x in 0..<width { out[y * width + x] = closed.pixels[(y + r) * w + x + r] } }
        return try! Mask(height: height, width: width, pixels: out)
    }

    /// Max (`keepIfAny`) or min filter over a (2r+1)² square, row pass then column pass.
    private func filtered(_ r: Int, keepIfAny: Bool, outside: Bool) -> Mask {
        let (h, w) = (height, width)
        func pass(_ source: [Bool], along rows: Bool) -> [Bool] {
            var out = source
            let (lines, length) = rows ? (h, w) : (w, h)
            for line in 0..<lines {
                let index = { (i: Int) in rows ? line * w + i : i * w + line }
                for i in 0..<length {
                    var hit = !keepIfAny
                    for j in (i - r)...(i + r) {
                        let v = j < 0 || j >= length ? outside : source[index(j)]
                        if v == keepIfAny { hit = keepIfAny; break }
                    }
                    out[index(i)] = hit
                }
            }
            return out
        }
        return try! Mask(height: h, width: w, pixels: pass(pass(pixels, along: true), along: false))
    }
}

/// Otsu's threshold of `values` over 256 bins: the cut that maximizes the between-class variance.
/// Non-finite values are left out; the arithmetic is in Double, so a range wider than Float's is fine.
/// - Parameter trimmed: the share of the values at each end that is clamped into the end bins
///   rather than setting the bins' range, so that a few outliers (a hot pixel, a cosmic ray) do not
///   squeeze every other value into one bin; 0 by default.
public func otsuThreshold(_ values: [Float], trimmed: Double = 0) -> Float { otsuSplit(values, trimmed: trimmed).threshold }

/// Otsu's threshold of `values` over 256 bins, its separability (the between-class variance as a
/// share of the whole, 0 for values all alike: two well-apart classes give nearly 1, one normal
/// class 2/π ≈ 0.64 whatever its spread, one even spread 0.75), and the distance between the two
/// classes' means, in the values' units. `trimmed` as for `otsuThreshold`.
public func otsuSplit(_ values: [Float], trimmed: Double = 0) -> (threshold: Float, separability: Double, meanGap: Double) {
    var finite = Array(values.lazy.filter(\.isFinite).map(Double.init))
    guard var lo = finite.min(), var hi = finite.max(), hi > lo else { return (Float(finite.first ?? 0), 0, 0) }
    if trimmed > 0 {
        let n = finite.count, top = Int((Double(n - 1) * (1 - trimmed)).rounded(.down))
        let bottom = min(top, Int((Double(n - 1) * trimmed).rounded(.up)))
        let (low, high) = (selectRank(bottom, in: &finite), selectRank(top, in: &finite))
        if high > low { (lo, hi) = (low, high) }  // else most values are alike: the whole range
    }
    var histogram = [Double](repeating: 0, count: 256)
    for v in finite { histogram[Int(max(0, min(255, (v - lo) / (hi - lo) * 255)))] += 1 }  // trimmed ends clamped
    let total = histogram.reduce(0, +)
    let weightedSum = histogram.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
    var (below, belowSum, best, cut, gap) = (0.0, 0.0, -1.0, 0, 0.0)
    for i in 0..<256 {
        below += histogram[i]; belowSum += Double(i) * histogram[i]
        let above = total - below
        guard below > 0, above > 0 else { continue }
        let difference = (weightedSum - belowSum) / above - belowSum / below
        let between = below * above * difference * difference
        if between > best { (best, cut, gap) = (between, i, difference) }
    }
    let mean = weightedSum / total
    let variance = histogram.enumerated().reduce(0) { $0 + $1.element * pow(Double($1.offset) - mean, 2) } / total
    return (Float(lo + (hi - lo) * (Double(cut) + 1) / 255), variance > 0 ? best / (total * total) / variance : 0,
            gap * (hi - lo) / 255)
}

/// The value of rank `k` (0 the smallest) among `values`, found by selection: `values` is
/// reordered, never sorted whole. Three-way partitions keep runs of equal values (a background of
/// zeros) linear.
func selectRank(_ k: Int, in values: inout [Double]) -> Double {
    var (first, last) = (0, values.count - 1)
    while first < last {
        let a = values[first], b = values[(first + last) / 2], c = values[last]
        let pivot = max(min(a, b), min(max(a, b), c))  // the median of three
        var (lt, i, gt) = (first, first, last)
        while i <= gt {
            if values[i] < pivot { values.swapAt(lt, i); lt += 1; i += 1 }
            else if values[i] > pivot { values.swapAt(i, gt); gt -= 1 }
            else { i += 1 }
        }
        if k < lt { last = lt - 1 } else if k > gt { first = gt + 1 } else { return pivot }
    }
    return values[k]
}
