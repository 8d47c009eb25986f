import Foundation

// Baselines for Raman spectra beside `als`, each matching the same method of pybaselines 1.2
// (`Baseline().arpls`, `.airpls`, `.imodpoly` with their defaults): the same weighting, the same
// stopping rule and the same iteration count, so a chain fitted in Python reproduces here.

/// The penalized least-squares (Whittaker) system of `arpls` and `airpls`: z = (W + λDᵀD)⁻¹ W y,
/// D the (B − 2)×B second-difference matrix (per band; the wavenumber spacing is not used).
struct WhittakerSystem {
    /// The bands of λDᵀD: diagonal, first and second super-diagonals.
    let diagonal: [Double], first: [Double], second: [Double]

    init(count n: Int, lambda: Double) {
        // DᵀD summed from the rows (1, −2, 1) of D at bands k…k+2 — (1, 5, 6, …, 6, 5, 1),
        // (−2, −4, …, −4, −2), (1, …, 1) once n ≥ 4 — in small integers (exact), then scaled by λ
        // once, as pybaselines does.
        var d0 = [Double](repeating: 0, count: n), d1 = d0, d2 = d0
        for k in stride(from: 0, to: n - 2, by: 1) {
            d0[k] += 1; d0[k + 1] += 4; d0[k + 2] += 1
            d1[k] -= 2; d1[k + 1] -= 2
            d2[k] += 1
        }
        diagonal = d0.map { lambda * $0 }; first = d1.map { lambda * $0 }; second = d2.map { lambda * $0 }
    }

    /// z for the weights `w` (SPD whenever two or more weights are positive).
    func solve(weights w: [Double], _ y: [Double]) -> [Double] {
        AsymmetricLeastSquaresBaseline.solvePentadiagonal(diagonal: zip(diagonal, w).map(+), first: first,
                                                          second: second, rhs: zip(w, y).map(*))
    }
}

/// ‖new − old‖₂ / max(‖old‖₂, ε): pybaselines' `relative_difference`, its stopping measure.
func relativeDifference(_ old: [Double], _ new: [Double]) -> Double {
    let num = zip(new, old).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    return num / max(old.reduce(0.0) { $0 + $1 * $1 }.squareRoot(), Double.ulpOfOne)
}

/// The Whittaker methods' shared parameters, validated for `step`.
private func validateWhittaker(lambda: Double, tolerance: Double, maxIterations: Int) throws {
    guard lambda > 0, lambda.isFinite else { throw SpectralError("key 'lambda' must be positive and finite, got \(lambda)") }
    guard tolerance >= 0, tolerance.isFinite else {
        throw SpectralError("key 'tolerance' must be finite and ≥ 0, got \(tolerance)")
    }
    guard (0...10_000).contains(maxIterations) else {
        throw SpectralError("key 'maxIterations' must lie in 0…10000, got \(maxIterations)")
    }
}

/// Asymmetrically reweighted penalized least squares, arPLS (Baek et al. 2015, Analyst 140:250):
/// z = (W + λDᵀD)⁻¹ W y from w = 1, then wᵢ = 1 / (1 + exp(2(rᵢ − (2σ − m))/σ)) with r = y − z and
/// m, σ the mean and sample standard deviation (n − 1) of the negative rᵢ; stops once
/// ‖w′ − w‖/‖w‖ < `tolerance`, after `maxIterations` + 1 solves, or when fewer than two rᵢ are
/// negative (pybaselines' `arpls`, whose defaults these are). `apply` subtracts z.
public struct ArPLSBaseline: SpectralTransform, Equatable {
    /// Smoothness: larger is stiffer.
    public var lambda: Double
    public var tolerance: Double
    public var maxIterations: Int

    /// - Throws: `SpectralError` unless lambda > 0, tolerance ≥ 0 and maxIterations ≥ 0.
    public init(lambda: Double = 1e5, tolerance: Double = 1e-3, maxIterations: Int = 50) throws {
        self.lambda = lambda; self.tolerance = tolerance; self.maxIterations = maxIterations
        try validateWhittaker(lambda: lambda, tolerance: tolerance, maxIterations: maxIterations)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(lambda: try c.decodeIfPresent(Double.self, forKey: .lambda) ?? 1e5,
                      tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 1e-3,
                      maxIterations: try c.decodeIfPresent(Int.self, forKey: .maxIterations) ?? 50)
    }

    /// The baseline z, one value per band.
    public func baseline(_ spectrum: [Float]) -> [Double] {
        let y = spectrum.map(Double.init)
        let system = WhittakerSystem(count: y.count, lambda: lambda)
        var w = [Double](repeating: 1, count: y.count), z = y
        for _ in 0...maxIterations {
            z = system.solve(weights: w, y)
            let r = zip(y, z).map(-)
            let negative = r.filter { $0 < 0 }
            guard negative.count >= 2 else { break }
            let m = negative.reduce(0, +) / Double(negative.count)
            var sd = (negative.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(negative.count - 1)).squareRoot()
            if sd == 0 { sd = Double.ulpOfOne }
            let next = r.map { 1 / (1 + exp((2 / sd) * ($0 - (2 * sd - m)))) }
            if relativeDifference(w, next) < tolerance { break }
            w = next
        }
        return z
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let base = baseline(spectrum)
        return spectrum.indices.map { Float(Double(spectrum[$0]) - base[$0]) }
    }
}

/// Adaptive iteratively reweighted penalized least squares, airPLS (Zhang et al. 2010, Analyst
/// 135:1138): z = (W + λDᵀD)⁻¹ W y from w = 1; at iteration t = 1, 2, … with r = y − z and
/// |r⁻| = Σ over the negative rᵢ of |rᵢ|, stops once |r⁻| / Σ|yᵢ| < `tolerance` (or after
/// `maxIterations` + 1 solves, or when fewer than two rᵢ are negative), else sets
/// wᵢ = exp(min(t, 50)·|rᵢ| / |r⁻|) where rᵢ < 0 and 0 elsewhere (the author's corrected eq. 9;
/// pybaselines' `airpls`, whose defaults these are). `apply` subtracts z.
public struct AirPLSBaseline: SpectralTransform, Equatable {
    /// Smoothness: larger is stiffer.
    public var lambda: Double
    public var tolerance: Double
    public var maxIterations: Int

    /// - Throws: `SpectralError` unless lambda > 0, tolerance ≥ 0 and maxIterations ≥ 0.
    public init(lambda: Double = 1e6, tolerance: Double = 1e-3, maxIterations: Int = 50) throws {
        self.lambda = lambda; self.tolerance = tolerance; self.maxIterations = maxIterations
        try validateWhittaker(lambda: lambda, tolerance: tolerance, maxIterations: maxIterations)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(lambda: try c.decodeIfPresent(Double.self, forKey: .lambda) ?? 1e6,
                      tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 1e-3,
                      maxIterations: try c.decodeIfPresent(Int.self, forKey: .maxIterations) ?? 50)
    }

    /// The baseline z, one value per band.
    public func baseline(_ spectrum: [Float]) -> [Double] {
        let y = spectrum.map(Double.init)
        let system = WhittakerSystem(count: y.count, lambda: lambda)
        let yNorm = y.reduce(0) { $0 + Swift.abs($1) }
        // The exponent is capped just below log(Double.max), so a weight never overflows.
        let logMax = log(Double.greatestFiniteMagnitude), cap = logMax - logMax.ulp
        var w = [Double](repeating: 1, count: y.count), z = y
        for t in 1...(maxIterations + 1) {
            z = system.solve(weights: w, y)
            let r = zip(y, z).map(-)
            guard r.lazy.filter({ $0 < 0 }).count >= 2 else { break }
            let negativeSum = r.reduce(0) { $1 < 0 ? $0 + $1 : $0 }
            if Swift.abs(negativeSum) / yNorm < tolerance { break }
            let factor = Double(min(t, 50)) / negativeSum
            w = r.map { $0 < 0 ? exp(min(max(factor * $0, 0), cap)) : 0 }
        }
        return z
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let base = baseline(spectrum)
        return spectrum.indices.map { Float(Double(spectrum[$0]) - base[$0]) }
    }
}

/// Improved modified polynomial baseline, I-ModPoly (Zhao et al. 2007, Appl. Spectrosc.
/// 61:1225), as pybaselines' `imodpoly` with its defaults: a least-squares polynomial of degree
/// `order` in the wavenumber mapped linearly onto [−1, 1]; with s the (population) standard
/// deviation of y − p, bands where p + s < y are left out of every later fit
/// (`maskInitialPeaks`); then repeatedly y ← min(y, p + s) (min(y₀, p + s) with `useOriginal`),
/// refit, and stop once |s − s′| / s′ < `tolerance` or after `maxIterations` refits.
/// `apply` subtracts the last p. The axis's order does not matter.
public struct IModPolyBaseline: SpectralTransform, Equatable {
    /// The polynomial's degree.
    public var order: Int
    public var tolerance: Double
    public var maxIterations: Int
    /// Clip the original spectrum each iteration (Lieber & Mahadevan-Jansen 2003) instead of
    /// the previous iteration's (Gan et al. 2006).
    public var useOriginal: Bool
    public var maskInitialPeaks: Bool

    /// - Throws: `SpectralError` unless order ≥ 0, tolerance ≥ 0 and maxIterations ≥ 1.
    public init(order: Int = 2, tolerance: Double = 1e-3, maxIterations: Int = 250, useOriginal: Bool = false,
                maskInitialPeaks: Bool = true) throws {
        self.order = order; self.tolerance = tolerance; self.maxIterations = maxIterations
        self.useOriginal = useOriginal; self.maskInitialPeaks = maskInitialPeaks
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(order: try c.decodeIfPresent(Int.self, forKey: .order) ?? 2,
                      tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 1e-3,
                      maxIterations: try c.decodeIfPresent(Int.self, forKey: .maxIterations) ?? 250,
                      useOriginal: try c.decodeIfPresent(Bool.self, forKey: .useOriginal) ?? false,
                      maskInitialPeaks: try c.decodeIfPresent(Bool.self, forKey: .maskInitialPeaks) ?? true)
    }

    private func validate() throws {
        guard order >= 0 else { throw SpectralError("order must be ≥ 0, got \(order)") }
        guard tolerance >= 0, tolerance.isFinite else {
            throw SpectralError("tolerance must be finite and ≥ 0, got \(tolerance)")
        }
        guard (1...10_000).contains(maxIterations) else { throw SpectralError("maxIterations must lie in 1…10000, got \(maxIterations)") }
    }

    /// The baseline p, one value per band, in the axis's order.
    /// - Throws: `SpectralError` when the lengths differ, the axis is not strictly monotonic, or
    ///   there are fewer than 2(order + 1) bands (with that many, the masked fit keeps at least
    ///   half of them and so always has a unique solution).
    public func baseline(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Double] {
        try requireMatching(spectrum, wavenumbers)
        _ = try ascendingOrder(wavenumbers)
        let n = spectrum.count
        guard n >= 2 * (order + 1) else {
            throw SpectralError("order \(order) needs at least \(2 * (order + 1)) bands, got \(n)")
        }
        // NumPy's mapdomain([lo, hi] → [−1, 1]): off + scale·x.
        let (lo, hi) = (wavenumbers.min()!, wavenumbers.max()!)
        let off = (hi * -1 - lo * 1) / (hi - lo), scale = 2 / (hi - lo)
        let x = wavenumbers.map { off + scale * $0 }
        let y0 = spectrum.map(Double.init)
        var y = y0
        var fit = PolynomialLeastSquares(x: x, order: order, rows: Array(0..<n))
        var p = fit.evaluate(y)
        var s = populationStandardDeviation(zip(y, p).map(-))
        if maskInitialPeaks {
            fit = PolynomialLeastSquares(x: x, order: order, rows: (0..<n).filter { !(p[$0] + s < y[$0]) })
        }
        for _ in 0..<maxIterations {
            y = (0..<n).map { min(useOriginal ? y0[$0] : y[$0], p[$0] + s) }
            p = fit.evaluate(y)
            let next = populationStandardDeviation(zip(y, p).map(-))
            if Swift.abs(s - next) / max(Swift.abs(next), Double.ulpOfOne) < tolerance { break }
            s = next
        }
        return p
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        let base = try baseline(spectrum, wavenumbers: wavenumbers)
        return spectrum.indices.map { Float(Double(spectrum[$0]) - base[$0]) }
    }
}

private func populationStandardDeviation(_ v: [Double]) -> Double {
    let mean = v.reduce(0, +) / Double(v.count)
    return (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot()
}

/// The least-squares polynomial Σⱼ cⱼ xʲ (j ≤ order) through the values at `rows`, evaluated at
/// every x: a Householder QR of those rows of the Vandermonde matrix, factored once and reused
/// for each right-hand side. At full rank it gives the coefficients of pybaselines'
/// pseudo-inverse (pinv of the 0/1-weighted Vandermonde matrix).
struct PolynomialLeastSquares {
    let rows: [Int]
    /// Vandermonde columns xʲ at every band.
    let powers: [[Double]]
    /// The Householder vectors (over rows j…m−1 of the kept rows) with their 2/vᵀv, and R.
    private var reflectors: [(v: [Double], beta: Double)] = []
    private var r: [[Double]]

    init(x: [Double], order: Int, rows: [Int]) {
        let k = order + 1
        var powers = [[Double](repeating: 1, count: x.count)]
        for j in stride(from: 1, to: k, by: 1) { powers.append(zip(powers[j - 1], x).map(*)) }
        self.rows = rows; self.powers = powers
        var a = powers.map { col in rows.map { col[$0] } }  // m×k, by column
        let m = rows.count
        r = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for j in 0..<min(k, m) {
            let norm = a[j][j...].reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            let alpha = a[j][j] >= 0 ? -norm : norm
            var v = Array(a[j][j...]); v[0] -= alpha
            let vv = v.reduce(0.0) { $0 + $1 * $1 }
            let beta = vv > 0 ? 2 / vv : 0
            for c in j..<k {
                let dot = (0..<v.count).reduce(0.0) { $0 + v[$1] * a[c][j + $1] }
                for i in v.indices { a[c][j + i] -= beta * dot * v[i] }
                r[j][c] = a[c][j]
            }
            reflectors.append((v, beta))
        }
    }

    /// The fitted polynomial at every band, for values `y` (all bands; only `rows` are fitted).
    func evaluate(_ y: [Double]) -> [Double] {
        var q = rows.map { y[$0] }
        for (j, (v, beta)) in reflectors.enumerated() {
            let dot = (0..<v.count).reduce(0.0) { $0 + v[$1] * q[j + $1] }
            for i in v.indices { q[j + i] -= beta * dot * v[i] }
        }
        let k = powers.count
        var c = [Double](repeating: 0, count: k)
        for j in stride(from: k - 1, through: 0, by: -1) where j < reflectors.count && r[j][j] != 0 {
            c[j] = (q[j] - (j + 1..<k).reduce(0.0) { $0 + r[j][$1] * c[$1] }) / r[j][j]
        }
        return (0..<powers[0].count).map { i in (0..<k).reduce(0.0) { $0 + powers[$1][i] * c[$1] } }
    }
}
