import Foundation

/// A per-spectrum preprocessing step: a pure function of one spectrum of B bands and its
/// wavenumber axis (either order; the order is kept). Codable with its parameters, so a chain
/// can be saved with a model and re-applied.
public protocol SpectralTransform: Codable, Sendable {
    /// The axis after the step (the same axis, except for `SpectralCrop`).
    func axis(_ wavenumbers: [Double]) throws -> [Double]
    /// The transformed spectrum, of `axis(wavenumbers).count` bands.
    /// - Throws: `SpectralError` when `spectrum` and `wavenumbers` differ in length or the
    ///   parameters do not fit the axis.
    func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float]
    /// The step over a whole band-major cube (B planes of `pixels` values each) at once, written
    /// into `out` (B′ planes, every value set), equal to `apply` on each pixel's spectrum; false,
    /// `out` untouched, for steps without such a form (they run per spectrum).
    func apply(cube: UnsafeBufferPointer<Float>, pixels: Int, wavenumbers: [Double], into out: UnsafeMutableBufferPointer<Float>) throws -> Bool
}

extension SpectralTransform {
    public func axis(_ wavenumbers: [Double]) throws -> [Double] { wavenumbers }
    public func apply(cube: UnsafeBufferPointer<Float>, pixels: Int, wavenumbers: [Double],
                      into out: UnsafeMutableBufferPointer<Float>) throws -> Bool { false }

    /// Applies the step to each of P spectra (P×B row-major); returns P×B′ row-major.
    public func apply(pixels: [Float], wavenumbers: [Double]) throws -> [Float] {
        let b = wavenumbers.count
        guard b > 0, pixels.count % b == 0 else {
            throw SpectralError("\(Self.self): \(pixels.count) values are not whole spectra of \(b) bands")
        }
        var out: [Float] = []
        for p in 0..<(pixels.count / b) { out += try apply(Array(pixels[(p * b)..<((p + 1) * b)]), wavenumbers: wavenumbers) }
        return out
    }

    func requireMatching(_ spectrum: [Float], _ wavenumbers: [Double]) throws {
        guard spectrum.count == wavenumbers.count, !spectrum.isEmpty else {
            throw SpectralError("\(Self.self): spectrum has \(spectrum.count) bands, wavenumber axis \(wavenumbers.count)")
        }
    }
}

/// Divides by `divisor`; a zero (or non-finite) divisor gives zeros, so empty background pixels
/// pass through a chain without NaN.
private func scaled(_ x: [Double], by divisor: Double, minus offset: Double = 0) -> [Float] {
    guard divisor != 0, divisor.isFinite else { return [Float](repeating: 0, count: x.count) }
    return x.map { Float(($0 - offset) / divisor) }
}

/// Standard normal variate (Barnes et al. 1989): subtract the spectrum's mean, divide by its
/// sample standard deviation (n − 1). A constant spectrum becomes zeros.
public struct StandardNormalVariate: SpectralTransform, Equatable {
    public init() {}
    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let x = spectrum.map(Double.init), n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let sd = x.count > 1 ? (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot() : 0
        return scaled(x, by: sd, minus: mean)
    }
}

/// Vector normalization: divide by the Euclidean (L2) norm. A zero spectrum stays zero.
public struct VectorNormalization: SpectralTransform, Equatable {
    public init() {}
    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let x = spectrum.map(Double.init)
        return scaled(x, by: x.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }
}

/// Min–max scaling to [0, 1]. A constant spectrum becomes zeros.
public struct MinMaxNormalization: SpectralTransform, Equatable {
    public init() {}
    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let x = spectrum.map(Double.init)
        let (lo, hi) = (x.min()!, x.max()!)
        return scaled(x, by: hi - lo, minus: lo)
    }
}

/// Area normalization: divide by the area under the spectrum, the trapezoidal integral over the
/// wavenumber axis with |Δν| (so the axis order does not change the sign). With one band the area
/// is that band's value. A zero area gives zeros.
public struct AreaNormalization: SpectralTransform, Equatable {
    public init() {}
    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let x = spectrum.map(Double.init)
        guard x.count > 1 else { return scaled(x, by: x[0]) }
        var area = 0.0
        for i in 1..<x.count { area += (x[i] + x[i - 1]) / 2 * Swift.abs(wavenumbers[i] - wavenumbers[i - 1]) }
        return scaled(x, by: area)
    }
}

/// Normalization to one band: divide by the value at the wavenumber nearest `wavenumber`
/// (e.g. amide I at 1655 cm⁻¹), which becomes 1. A zero there gives zeros.
public struct BandNormalization: SpectralTransform, Equatable {
    public var wavenumber: Double
    public init(wavenumber: Double) { self.wavenumber = wavenumber }

    /// The index of the band nearest `wavenumber` (the first of equally near ones).
    /// - Throws: `SpectralError` when the axis is empty, or `wavenumber` lies outside it by more
    ///   than one band's spacing (a typo, or a step placed after a crop that removed it).
    public func index(_ wavenumbers: [Double]) throws -> Int {
        guard let i = wavenumbers.indices.min(by: { Swift.abs(wavenumbers[$0] - wavenumber) < Swift.abs(wavenumbers[$1] - wavenumber) }),
              let lo = wavenumbers.min(), let hi = wavenumbers.max() else {
            throw SpectralError("empty wavenumber axis")
        }
        let spacing = wavenumbers.count > 1 ? (hi - lo) / Double(wavenumbers.count - 1) : 0
        guard wavenumber >= lo - spacing, wavenumber <= hi + spacing else {
            throw SpectralError("wavenumber \(wavenumber) lies outside the spectral axis "
                                + "(\(String(format: "%g", lo))–\(String(format: "%g", hi)), \(wavenumbers.count) bands)")
        }
        return i
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let x = spectrum.map(Double.init)
        return scaled(x, by: x[try index(wavenumbers)])
    }
}

/// Crop to the bands whose wavenumber lies in `lower…upper` (inclusive; bounds in either order),
/// keeping the axis's order.
public struct SpectralCrop: SpectralTransform, Equatable {
    public var lower: Double, upper: Double
    public init(lower: Double, upper: Double) { self.lower = min(lower, upper); self.upper = max(lower, upper) }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(lower: try c.decode(Double.self, forKey: .lower), upper: try c.decode(Double.self, forKey: .upper))
    }

    /// The kept band indices, in the axis's order.
    /// - Throws: `SpectralError` when no band lies in the range.
    public func indices(_ wavenumbers: [Double]) throws -> [Int] {
        let kept = wavenumbers.indices.filter { (lower...upper).contains(wavenumbers[$0]) }
        guard !kept.isEmpty else {
            let range = wavenumbers.isEmpty ? "none" : "\(wavenumbers.min()!)…\(wavenumbers.max()!)"
            throw SpectralError("no band in \(lower)…\(upper) cm⁻¹; the axis spans \(range)")
        }
        return kept
    }

    public func axis(_ wavenumbers: [Double]) throws -> [Double] { try indices(wavenumbers).map { wavenumbers[$0] } }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        return try indices(wavenumbers).map { spectrum[$0] }
    }

    public func apply(cube: UnsafeBufferPointer<Float>, pixels: Int, wavenumbers: [Double],
                      into out: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        let kept = try indices(wavenumbers)
        guard cube.count == wavenumbers.count * pixels, out.count == kept.count * pixels else {
            throw SpectralError("\(cube.count) values are not \(pixels) spectra of \(wavenumbers.count) bands, or \(out.count) not \(kept.count)")
        }
        for (i, k) in kept.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: out[(i * pixels)..<((i + 1) * pixels)])
                .update(fromContentsOf: cube[(k * pixels)..<((k + 1) * pixels)])
        }
        return true
    }
}

/// Savitzky–Golay smoothing or differentiation (Savitzky & Golay 1964): a polynomial of degree
/// `order` fitted by least squares to `window` (odd) consecutive bands, evaluated — or its
/// `derivative`-th derivative — at the centre band. The first and last window/2 bands use the
/// fit to the first or last full window, evaluated at their own positions (SciPy's
/// `savgol_filter(mode="interp")`). Derivatives are per band (unit spacing); divide by the band
/// spacing^derivative for per-cm⁻¹ values (its sign follows the axis's order).
public struct SavitzkyGolay: SpectralTransform, Equatable {
    public var window: Int, order: Int, derivative: Int

    public init(window: Int, order: Int, derivative: Int = 0) throws {
        self.window = window; self.order = order; self.derivative = derivative
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        window = try c.decode(Int.self, forKey: .window)
        order = try c.decode(Int.self, forKey: .order)
        derivative = try c.decodeIfPresent(Int.self, forKey: .derivative) ?? 0
        try validate()
    }

    func validate() throws {
        guard window >= 1, window % 2 == 1 else { throw SpectralError("window must be odd and positive, got \(window)") }
        guard order >= 0, order < window else { throw SpectralError("order must lie in 0…\(window - 1), got \(order)") }
        // A polynomial of order N has no derivative above the N-th but 0: every spectrum would become zeros.
        guard derivative >= 0, derivative <= order else {
            throw SpectralError("derivative must lie in 0…\(order) (the fit's order: a higher derivative of its polynomial is 0), got \(derivative)")
        }
    }

    /// The `window` weights that give the fit's `derivative`-th derivative at offset `t` from the
    /// window's centre (t = 0: the classic convolution coefficients, applied as Σ cᵢ·x[centre − m + i]).
    public func coefficients(at t: Int = 0) -> [Double] {
        let m = window / 2, k = order + 1
        guard derivative <= order else { return [Double](repeating: 0, count: window) }
        // Normal equations AᵀA (k×k), A[i][j] = (i − m)^j; solve AᵀA · P = Aᵀ for P = (AᵀA)⁻¹Aᵀ.
        let a = (0..<window).map { i in (0..<k).map { j in pow(Double(i - m), Double(j)) } }
        var normal = (0..<k).map { r in (0..<k).map { c in (0..<window).reduce(0.0) { $0 + a[$1][r] * a[$1][c] } } }
        var rhs = (0..<k).map { r in (0..<window).map { a[$0][r] } }
        // Gauss–Jordan elimination with partial pivoting (k ≤ window, small).
        for col in 0..<k {
            let pivot = (col..<k).max { Swift.abs(normal[$0][col]) < Swift.abs(normal[$1][col]) }!
            normal.swapAt(col, pivot); rhs.swapAt(col, pivot)
            let p = normal[col][col]
            for c in 0..<k { normal[col][c] /= p }
            for c in 0..<window { rhs[col][c] /= p }
            for r in 0..<k where r != col {
                let f = normal[r][col]
                guard f != 0 else { continue }
                for c in 0..<k { normal[r][c] -= f * normal[col][c] }
                for c in 0..<window { rhs[r][c] -= f * rhs[col][c] }
            }
        }
        // d-th derivative of Σ_j p_j t^j at t: Σ_{j ≥ d} j!/(j − d)! · t^(j − d) · p_j.
        return (0..<window).map { i in
            (derivative..<k).reduce(0.0) { sum, j in
                let factor = stride(from: j - derivative + 1, through: j, by: 1).reduce(1.0) { $0 * Double($1) }
                return sum + factor * pow(Double(t), Double(j - derivative)) * rhs[j][i]
            }
        }
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let n = spectrum.count, m = window / 2
        guard n >= window else {
            throw SpectralError("window \(window) is longer than the spectrum's \(n) bands")
        }
        let x = spectrum.map(Double.init)
        let centre = coefficients()
        var edges: [Int: [Double]] = [:]
        for t in stride(from: 1, through: m, by: 1) { edges[t] = coefficients(at: t); edges[-t] = coefficients(at: -t) }
        return (0..<n).map { i in
            let (start, weights): (Int, [Double])
            if i < m { (start, weights) = (0, edges[i - m]!) }
            else if i >= n - m { (start, weights) = (n - window, edges[i - (n - 1 - m)]!) }
            else { (start, weights) = (i - m, centre) }
            return Float((0..<window).reduce(0.0) { $0 + weights[$1] * x[start + $1] })
        }
    }
}
