import Foundation

/// Cosmic-ray removal after Whitaker & Hayes (2018, Chemom. Intell. Lab. Syst. 179:82): spikes
/// are found in the first differences Δᵢ = yᵢ₊₁ − yᵢ (i = 0…B−2) by their modified z-score
/// zᵢ = 0.6745 (Δᵢ − median Δ) / MAD(Δ) (Iglewicz & Hoaglin 1993; with MAD = 0,
/// (Δᵢ − median Δ) / (1.253314 · mean |Δ − median Δ|)); a step is *large* where |zᵢ| > t, t = `threshold`.
///
/// The paper replaces band i wherever |zᵢ| > t, which takes a spike's left neighbour too and cuts
/// the flanks of any tall, narrow band. Here a spike is a run of 1…`maxWidth` bands j…k that
/// 1. is entered by a large step up and left by a large step down, z_{j−1} > t and z_k < −t (a dip:
///    the reverse; at an end of the spectrum, the one step there);
/// 2. has quiet steps outside those: z_{j−2} ≤ t/2 and −z_{k+1} ≤ t/2 (the reverse for a dip) — the
///    flanks of a real band keep climbing towards its top, so a band a few bands wide is left alone
///    however tall;
/// 3. stands out from its surroundings: each of its bands lies beyond the median of the `kernel`
///    bands on either side of the run by more than half a large step (t · MAD / 0.6745 / 2).
///
/// Each spike band takes the mean of the non-spike bands within ±`kernel` (unchanged when there is
/// none); then the differences are scored again, up to `maxPasses` passes or until a pass changes
/// nothing. Bands that are not spikes keep their values bit for bit. Not found: spikes on the steep
/// flank of a tall band (the flank's own steps are large) and runs wider than `maxWidth`.
public struct WhitakerHayesDespike: SpectralTransform, Equatable {
    /// The modified z-score above which a step is large.
    public var threshold: Double
    /// Half-width of the window of neighbours a spike band is replaced by the mean of.
    public var kernel: Int
    /// The widest run of bands taken for one spike.
    public var maxWidth: Int
    public var maxPasses: Int

    /// - Throws: `SpectralError` unless threshold > 0, kernel ≥ 1, maxWidth ≥ 1 and maxPasses ≥ 1.
    public init(threshold: Double = 8, kernel: Int = 3, maxWidth: Int = 2, maxPasses: Int = 10) throws {
        self.threshold = threshold; self.kernel = kernel; self.maxWidth = maxWidth; self.maxPasses = maxPasses
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(threshold: try c.decodeIfPresent(Double.self, forKey: .threshold) ?? 8,
                      kernel: try c.decodeIfPresent(Int.self, forKey: .kernel) ?? 3,
                      maxWidth: try c.decodeIfPresent(Int.self, forKey: .maxWidth) ?? 2,
                      maxPasses: try c.decodeIfPresent(Int.self, forKey: .maxPasses) ?? 10)
    }

    private func validate() throws {
        guard threshold > 0, threshold.isFinite else {
            throw SpectralError("threshold must be positive and finite, got \(threshold)")
        }
        guard (1...1000).contains(kernel) else { throw SpectralError("kernel must lie in 1…1000, got \(kernel)") }
        guard (1...1000).contains(maxWidth) else { throw SpectralError("maxWidth must lie in 1…1000, got \(maxWidth)") }
        guard (1...1000).contains(maxPasses) else { throw SpectralError("maxPasses must lie in 1…1000, got \(maxPasses)") }
    }

    /// The modified z-scores of `d` (all zero when every value is the same), and the |d − median|
    /// that scores `threshold`: a large step's size.
    func scores(_ d: [Double]) -> (z: [Double], large: Double) {
        guard !d.isEmpty else { return ([], .infinity) }
        let med = Self.median(d)
        let deviations = d.map { Swift.abs($0 - med) }
        let mad = Self.median(deviations)
        if mad > 0 { return (d.map { 0.6745 * ($0 - med) / mad }, threshold * mad / 0.6745) }
        let meanDeviation = deviations.reduce(0, +) / Double(d.count)
        guard meanDeviation > 0 else { return ([Double](repeating: 0, count: d.count), .infinity) }
        return (d.map { ($0 - med) / (1.253314 * meanDeviation) }, threshold * 1.253314 * meanDeviation)
    }

    /// The middle value, or the mean of the middle two.
    private static func median(_ v: [Double]) -> Double {
        let s = v.sorted(), h = s.count / 2
        return s.count % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2
    }

    /// The bands one pass takes for spikes.
    public func spikes(_ spectrum: [Float]) -> [Bool] {
        let n = spectrum.count
        var spike = [Bool](repeating: false, count: n)
        guard n >= 2 else { return spike }
        let y = spectrum.map(Double.init)
        let (z, large) = scores((0..<(n - 1)).map { y[$0 + 1] - y[$0] })
        // The step from band i to i + 1, scored in the direction `up` (+1 or −1); 0 beyond the ends.
        func step(_ i: Int, _ up: Int) -> Double { i < 0 || i >= n - 1 ? 0 : Double(up) * z[i] }
        for j in 0..<n {
            for k in j..<min(n, j + maxWidth) where j > 0 || k < n - 1 {
                // The run's direction: +1 above its surroundings, −1 below.
                let up = j > 0 ? (z[j - 1] > 0 ? 1 : -1) : (z[k] < 0 ? 1 : -1)
                guard j == 0 || step(j - 1, up) > threshold, k == n - 1 || step(k, -up) > threshold,
                      step(j - 2, up) <= threshold / 2, step(k + 1, -up) <= threshold / 2 else { continue }
                let around = Array(y[max(0, j - kernel)..<j]) + Array(y[(k + 1)..<min(n, k + 1 + kernel)])
                let level = Self.median(around)
                guard (j...k).allSatisfy({ Double(up) * (y[$0] - level) > large / 2 }) else { continue }
                for i in j...k { spike[i] = true }
            }
        }
        return spike
    }

    /// The spectrum with its spikes replaced.
    public func despiked(_ spectrum: [Float]) -> [Float] {
        var out = spectrum
        for _ in 0..<maxPasses {
            let spike = spikes(out)
            var changed = false
            var next = out
            for i in out.indices where spike[i] {
                let window = max(0, i - kernel)...min(out.count - 1, i + kernel)
                let kept = window.filter { !spike[$0] }
                guard !kept.isEmpty else { continue }
                next[i] = Float(kept.reduce(0.0) { $0 + Double(out[$1]) } / Double(kept.count))
                changed = changed || next[i] != out[i]
            }
            out = next
            if !changed { break }
        }
        return out
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        return despiked(spectrum)
    }
}
