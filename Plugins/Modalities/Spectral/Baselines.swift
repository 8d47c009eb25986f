import Foundation

/// The band indices in ascending wavenumber order (the identity for an ascending axis, reversed
/// for a descending one).
/// - Throws: `SpectralError` naming `step` when the axis holds a non-finite value or is not
///   strictly ascending or descending.
func ascendingOrder(_ wavenumbers: [Double], named name: String? = nil) throws -> [Int] {
    let prefix = name.map { "\($0): " } ?? ""
    if let bad = wavenumbers.firstIndex(where: { !$0.isFinite }) {
        throw SpectralError("\(prefix)wavenumber \(bad) is \(wavenumbers[bad]); expected finite values")
    }
    let n = wavenumbers.count
    guard n > 1 else { return Array(0..<n) }
    let descending = wavenumbers[1] < wavenumbers[0]
    for i in 1..<n where descending ? !(wavenumbers[i] < wavenumbers[i - 1]) : !(wavenumbers[i] > wavenumbers[i - 1]) {
        throw SpectralError("\(prefix)expected a strictly \(descending ? "descending" : "ascending") wavenumber axis; "
                            + "band \(i - 1) is \(wavenumbers[i - 1]), band \(i) is \(wavenumbers[i])")
    }
    return descending ? Array((0..<n).reversed()) : Array(0..<n)
}

/// Rubber-band baseline: subtracts the lower convex hull of the points (wavenumber, value) — a
/// band stretched below the spectrum — interpolated linearly between its vertices. The result is
/// ≥ 0 up to rounding and exactly 0 at the hull's vertices, both ends included; it does not
/// depend on the axis's order.
public struct RubberBandBaseline: SpectralTransform, Equatable {
    public init() {}

    /// The hull under `spectrum`, one value per band, in the axis's order.
    /// - Throws: `SpectralError` when the lengths differ or the axis is not strictly monotonic.
    public func baseline(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Double] {
        try requireMatching(spectrum, wavenumbers)
        let order = try ascendingOrder(wavenumbers)
        let x = order.map { wavenumbers[$0] }, y = order.map { Double(spectrum[$0]) }
        // Andrew's monotone chain, lower half: drop the last vertex while it is not strictly
        // below the chord (collinear points are dropped too; the interpolation passes through them).
        var hull: [Int] = []
        for i in x.indices {
            while hull.count >= 2 {
                let (a, b) = (hull[hull.count - 2], hull[hull.count - 1])
                guard (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) <= 0 else { break }
                hull.removeLast()
            }
            hull.append(i)
        }
        var base = [Double](repeating: 0, count: x.count)
        for (a, b) in zip(hull, hull.dropFirst()) {
            for i in a..<b { base[i] = y[a] + (y[b] - y[a]) * ((x[i] - x[a]) / (x[b] - x[a])) }
        }
        base[hull.last!] = y[hull.last!]
        var out = [Double](repeating: 0, count: x.count)
        for (k, i) in order.enumerated() { out[i] = base[k] }
        return out
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        let base = try baseline(spectrum, wavenumbers: wavenumbers)
        return spectrum.indices.map { Float(Double(spectrum[$0]) - base[$0]) }
    }
}

/// Asymmetric least squares baseline (Eilers & Boelens 2005): the z minimizing
/// Σ wᵢ(yᵢ − zᵢ)² + λ Σ (Δ²z)ᵢ², with wᵢ = p where yᵢ > zᵢ and 1 − p elsewhere, re-weighted
/// `iterations` times from w = 1; `apply` subtracts it. Each step solves the pentadiagonal
/// system (W + λDᵀD) z = W y (D: second differences, per band — the wavenumber spacing is not
/// used) by a banded LDLᵀ factorization in Double, O(B). Reversing the axis reverses the result.
public struct AsymmetricLeastSquaresBaseline: SpectralTransform, Equatable {
    /// Smoothness: larger is stiffer.
    public var lambda: Double
    /// Asymmetry: the weight of points above the baseline (peaks).
    public var p: Double
    public var iterations: Int

    /// - Throws: `SpectralError` unless lambda > 0, 0 < p < 1 and iterations ≥ 1.
    public init(lambda: Double = 1e6, p: Double = 0.01, iterations: Int = 10) throws {
        self.lambda = lambda; self.p = p; self.iterations = iterations
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(lambda: try c.decodeIfPresent(Double.self, forKey: .lambda) ?? 1e6,
                      p: try c.decodeIfPresent(Double.self, forKey: .p) ?? 0.01,
                      iterations: try c.decodeIfPresent(Int.self, forKey: .iterations) ?? 10)
    }

    private func validate() throws {
        guard lambda > 0, lambda.isFinite else {
            throw SpectralError("lambda must be positive and finite, got \(lambda)")
        }
        guard p > 0, p < 1 else { throw SpectralError("p must lie in (0, 1), got \(p)") }
        guard (1...10_000).contains(iterations) else {
            throw SpectralError("iterations must lie in 1…10000, got \(iterations)")
        }
    }

    /// The baseline z, one value per band.
    public func baseline(_ spectrum: [Float]) -> [Double] {
        let y = spectrum.map(Double.init), n = y.count
        // The bands of λDᵀD: diagonal, first and second super-diagonals, from the rows
        // (1, −2, 1) of D at bands k, k+1, k+2.
        var d0 = [Double](repeating: 0, count: n), d1 = d0, d2 = d0
        let row = [1.0, -2.0, 1.0]
        for k in stride(from: 0, to: n - 2, by: 1) {
            for a in 0..<3 {
                d0[k + a] += lambda * row[a] * row[a]
                if a < 2 { d1[k + a] += lambda * row[a] * row[a + 1] }
                if a < 1 { d2[k + a] += lambda * row[a] * row[a + 2] }
            }
        }
        var w = [Double](repeating: 1, count: n)
        var z = y
        for _ in 0..<iterations {
            z = Self.solvePentadiagonal(diagonal: zip(d0, w).map(+), first: d1, second: d2,
                                        rhs: zip(w, y).map(*))
            for i in 0..<n { w[i] = y[i] > z[i] ? p : 1 - p }
        }
        return z
    }

    /// Solves A z = b for symmetric positive-definite pentadiagonal A, given its diagonal and its
    /// first and second super-diagonals (entries A[i][i+1], A[i][i+2]; the last 1 or 2 unused),
    /// by A = L·diag(d)·Lᵀ with L unit lower-triangular of bandwidth 2.
    static func solvePentadiagonal(diagonal a0: [Double], first a1: [Double], second a2: [Double],
                                   rhs b: [Double]) -> [Double] {
        let n = a0.count
        var d = [Double](repeating: 0, count: n)
        var l1 = d, l2 = d  // L[i+1][i], L[i+2][i]
        for i in 0..<n {
            var di = a0[i]
            if i >= 1 { di -= l1[i - 1] * l1[i - 1] * d[i - 1] }
            if i >= 2 { di -= l2[i - 2] * l2[i - 2] * d[i - 2] }
            d[i] = di
            if i + 1 < n { l1[i] = (a1[i] - (i >= 1 ? l2[i - 1] * d[i - 1] * l1[i - 1] : 0)) / di }
            if i + 2 < n { l2[i] = a2[i] / di }
        }
        var z = b
        for i in 0..<n {
            if i >= 1 { z[i] -= l1[i - 1] * z[i - 1] }
            if i >= 2 { z[i] -= l2[i - 2] * z[i - 2] }
        }
        for i in 0..<n { z[i] /= d[i] }
        for i in stride(from: n - 1, through: 0, by: -1) {
            if i + 1 < n { z[i] -= l1[i] * z[i + 1] }
            if i + 2 < n { z[i] -= l2[i] * z[i + 2] }
        }
        return z
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let base = baseline(spectrum)
        return spectrum.indices.map { Float(Double(spectrum[$0]) - base[$0]) }
    }
}
