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
/// - Parameter ignoringOutliers: whether a class of a few extreme values (a hot pixel, a cosmic
///   ray: `outlierClassSize`) that the cut sets apart is taken as outliers rather than as a
///   class: the bins then span the other values, the outliers clamped into the end bin, and the
///   cut is chosen again (up to four times). False by default.
public func otsuThreshold(_ values: [Float], ignoringOutliers: Bool = false) -> Float {
    otsuSplit(values, ignoringOutliers: ignoringOutliers).threshold
}

/// The most values a class may hold to be taken for outliers by `otsuSplit(_:ignoringOutliers:)`
/// among `count`: 16, or 1 in 2000 of a large image, but never 1% (a small image's real class).
public func outlierClassSize(among count: Int) -> Int { min(max(16, count / 2000), count / 100) }

/// Otsu's threshold of `values` over 256 bins, its separability (the between-class variance as a
/// share of the whole, 0 for values all alike: two well-apart classes give nearly 1, one normal
/// class 2/π ≈ 0.64 whatever its spread, one even spread 0.75), and the distance between the two
/// classes' means, in the values' units. `ignoringOutliers` as for `otsuThreshold`.
public func otsuSplit(_ values: [Float], ignoringOutliers: Bool = false) -> (threshold: Float, separability: Double, meanGap: Double) {
    var (lo, hi, count) = (Double.infinity, -Double.infinity, 0)
    for v in values where v.isFinite { (lo, hi, count) = (min(lo, Double(v)), max(hi, Double(v)), count + 1) }
    guard hi > lo else { return (count > 0 ? Float(lo) : 0, 0, 0) }
    var split = otsuSplit(values, from: lo, to: hi)
    guard ignoringOutliers else { return split }
    let outliers = outlierClassSize(among: count)
    for _ in 0..<4 {
        var (above, below, lowestAbove, highestBelow) = (0, 0, Double.infinity, -Double.infinity)
        for v in values where v.isFinite {
            let d = Double(v)
            if d > Double(split.threshold) { (above, lowestAbove) = (above + 1, min(lowestAbove, d)) }
            else { (below, highestBelow) = (below + 1, max(highestBelow, d)) }
        }
        if above <= outliers, highestBelow > lo { hi = highestBelow }
        else if below <= outliers, lowestAbove < hi { lo = lowestAbove }
        else { break }
        split = otsuSplit(values, from: lo, to: hi)
    }
    return split
}

/// `otsuSplit` with the bins spanning `lo`…`hi` (lo < hi); values beyond are counted in the end bins.
private func otsuSplit(_ values: [Float], from lo: Double, to hi: Double) -> (threshold: Float, separability: Double, meanGap: Double) {
    var histogram = [Double](repeating: 0, count: 256)
    for v in values where v.isFinite { histogram[Int(max(0, min(255, (Double(v) - lo) / (hi - lo) * 255)))] += 1 }
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
