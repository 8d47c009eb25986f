import CompSegCore
import Foundation

// Stain normalisation for RGB H&E images, as torchstain's numpy backend (torchstain 1.4.1,
// `torchstain.numpy.normalizers`) computes it: Macenko (Macenko et al., ISBI 2009) and Reinhard
// (Reinhard et al. 2001, in torchstain's LAB). Images are H×W×3 `[Float]`, row-major with the
// three channels of a pixel together (`pixels[(y * width + x) * 3 + c]`), in 8-bit intensities
// 0…255 like torchstain's uint8 input; outputs are whole numbers 0…255, exactly the uint8 values
// torchstain returns (C's float → uint8 conversion truncates toward zero). CompSeg samples are
// channel-planar (3×H×W): interleave before and de-interleave after.

/// A stain normalisation failure: a bad parameter or image, or an image from which the stains
/// cannot be estimated.
public struct StainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What `MacenkoNormalizer.normalize` does with an image whose stains cannot be estimated (too
/// little tissue, one colour, a stain concentration whose 99th percentile is not positive).
public enum StainFallback: String, ConfigurationChoice, Sendable, Equatable {
    /// Throw `StainError`, naming the tissue pixel count or the degeneracy.
    case error
    /// Return the image unchanged (and report it in `MacenkoResult.fellBack`).
    case identity
}

/// Checks an H×W×3 image: at least one pixel, the right count, every value finite in 0…255.
/// - Throws: `StainError` naming `step`.
func validateRGB(_ pixels: [Float], height: Int, width: Int, step: String) throws {
    guard height >= 1, width >= 1 else { throw StainError("\(step): the image is \(height)×\(width); expected at least 1×1") }
    guard pixels.count == height * width * 3 else {
        throw StainError("\(step): a \(height)×\(width) RGB image needs \(height * width * 3) values, got \(pixels.count)")
    }
    if let bad = pixels.firstIndex(where: { !($0 >= 0 && $0 <= 255) }) {
        throw StainError("\(step): value \(bad) (pixel \(bad / 3), channel \(bad % 3)) is \(pixels[bad]); "
                         + "expected 8-bit intensities in 0…255")
    }
}

/// numpy's `percentile(values, q)` with its default linear interpolation (Hyndman & Fan type 7):
/// index (n − 1)·q/100 into the sorted values, between neighbours a and b at fraction g it returns
/// a + (b − a)·g for g < 0.5 and b − (b − a)·(1 − g) otherwise, as numpy's `_lerp` does. `sorted`
/// must be ascending and non-empty.
func numpyPercentile(sorted: [Double], _ q: Double) -> Double {
    let n = sorted.count
    let index = Double(n - 1) * (q / 100)
    if index >= Double(n - 1) { return sorted[n - 1] }
    if index < 0 { return sorted[0] }
    let previous = index.rounded(.down)
    let (a, b) = (sorted[Int(previous)], sorted[Int(previous) + 1])
    let gamma = index - previous, difference = b - a
    return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
}

/// Eigenvalues (ascending) and unit eigenvectors of a symmetric 3×3 matrix by cyclic Jacobi
/// rotations, in Double. `vectors[k]` belongs to `values[k]`; each is signed so that its component
/// of largest magnitude (the first of equals) is positive. (numpy's `eigh`, LAPACK dsyevd, picks
/// signs by its own arithmetic; Macenko's stain vectors do not depend on them: see
/// `MacenkoNormalizer.stainVectors`.)
func symmetricEigen3(_ m: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
    var a = m
    var v: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]  // columns are the eigenvectors
    for sweep in 0..<60 {
        let off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2]
        if off == 0 { break }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            let apq = a[p][q]
            if apq == 0 { continue }
            // Once the off-diagonal entry no longer changes the diagonal ones, it is zero.
            let g = 100 * abs(apq)
            if sweep > 3, abs(a[p][p]) + g == abs(a[p][p]), abs(a[q][q]) + g == abs(a[q][q]) {
                a[p][q] = 0; a[q][p] = 0; continue
            }
            let theta = (a[q][q] - a[p][p]) / (2 * apq)
            let t = theta.isFinite && abs(theta) < 1e150
                ? (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                : 1 / (2 * theta)
            let c = 1 / (t * t + 1).squareRoot(), s = t * c
            // A ← JᵀAJ, V ← VJ with J the rotation in the (p, q) plane.
            for k in 0..<3 {
                let (akp, akq) = (a[k][p], a[k][q])
                a[k][p] = c * akp - s * akq
                a[k][q] = s * akp + c * akq
            }
            for k in 0..<3 {
                let (apk, aqk) = (a[p][k], a[q][k])
                a[p][k] = c * apk - s * aqk
                a[q][k] = s * apk + c * aqk
            }
            a[p][q] = 0; a[q][p] = 0
            for k in 0..<3 {
                let (vkp, vkq) = (v[k][p], v[k][q])
                v[k][p] = c * vkp - s * vkq
                v[k][q] = s * vkp + c * vkq
            }
        }
    }
    let order = [0, 1, 2].sorted { (a[$0][$0], $0) < (a[$1][$1], $1) }
    let vectors = order.map { j -> [Double] in
        let column = [v[0][j], v[1][j], v[2][j]]
        var largest = 0
        for i in 1..<3 where abs(column[i]) > abs(column[largest]) { largest = i }
        return column[largest] < 0 ? column.map { -$0 } : column
    }
    return (order.map { a[$0][$0] }, vectors)
}

// MARK: - Macenko

/// Two stain colours and their reference concentrations: the hematoxylin and eosin columns of
/// torchstain's `HERef` (unit optical-density vectors over R, G, B) and its `maxCRef` (the 99th
/// percentile of each stain's concentration).
public struct StainReference: Codable, Sendable, Equatable {
    public var hematoxylin: [Double]
    public var eosin: [Double]
    /// [hematoxylin, eosin].
    public var maxConcentrations: [Double]

    /// torchstain's defaults: HERef [[.5626, .2159], [.7201, .8012], [.4062, .5581]], maxCRef [1.9705, 1.0308].
    public static let torchstainDefault = StainReference(unchecked: [0.5626, 0.7201, 0.4062], [0.2159, 0.8012, 0.5581],
                                                         [1.9705, 1.0308])

    /// - Throws: `StainError` unless both stains are 3 finite values, not all zero and not parallel,
    ///   and both concentrations are finite and positive.
    public init(hematoxylin: [Double], eosin: [Double], maxConcentrations: [Double]) throws {
        self.init(unchecked: hematoxylin, eosin, maxConcentrations)
        try validate()
    }

    init(unchecked hematoxylin: [Double], _ eosin: [Double], _ maxConcentrations: [Double]) {
        (self.hematoxylin, self.eosin, self.maxConcentrations) = (hematoxylin, eosin, maxConcentrations)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(hematoxylin: try c.decode([Double].self, forKey: .hematoxylin),
                      eosin: try c.decode([Double].self, forKey: .eosin),
                      maxConcentrations: try c.decode([Double].self, forKey: .maxConcentrations))
    }

    /// The 3×2 matrix HERef, row-major: [R·H, R·E, G·H, G·E, B·H, B·E].
    public var matrix: [Double] { (0..<3).flatMap { [hematoxylin[$0], eosin[$0]] } }

    private func validate() throws {
        for (name, v) in [("hematoxylin", hematoxylin), ("eosin", eosin)] {
            guard v.count == 3, v.allSatisfy(\.isFinite), v.contains(where: { $0 != 0 }) else {
                throw StainError("key 'reference': \(name) must be 3 finite values, not all zero; got \(v)")
            }
        }
        guard maxConcentrations.count == 2, maxConcentrations.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw StainError("key 'reference': maxConcentrations must be 2 finite positive values; got \(maxConcentrations)")
        }
        let (h, e) = (hematoxylin, eosin)
        let hh = dot3(h, h), ee = dot3(e, e), he = dot3(h, e)
        guard hh * ee - he * he > 1e-12 * hh * ee else {
            throw StainError("key 'reference': the hematoxylin and eosin vectors are parallel; got \(h) and \(e)")
        }
    }
}

@inline(__always) func dot3(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }

/// What Macenko's method estimates from one image.
public struct MacenkoEstimate: Sendable, Equatable {
    /// The image's stains (torchstain's HE columns) and the 99th percentiles of their
    /// concentrations (its maxC): `fit` stores exactly this as the reference.
    public var stains: StainReference
    /// Hematoxylin and eosin concentrations, one per pixel (torchstain's C, rows 0 and 1).
    public var hematoxylin: [Double]
    public var eosin: [Double]
    /// Pixels with optical density ≥ beta in every channel (the rows of torchstain's ODhat).
    public var tissuePixels: Int
    /// The angle between the two stain vectors, in degrees.
    public var stainAngleDegrees: Double
}

/// A normalised image, with the hematoxylin-only and eosin-only images when asked for.
public struct MacenkoResult: Sendable, Equatable {
    /// H×W×3, whole numbers 0…255 (torchstain's Inorm); the input itself when `fellBack`.
    public var normalized: [Float]
    /// Io·exp(−HERef[:, 0]·C2[0]) per pixel, H×W×3, 0…255 (torchstain's H); nil unless asked or when `fellBack`.
    public var hematoxylin: [Float]?
    /// Io·exp(−HERef[:, 1]·C2[1]) per pixel (torchstain's E); nil unless asked or when `fellBack`.
    public var eosin: [Float]?
    /// True when the stains could not be estimated and `fallback` was `.identity`.
    public var fellBack: Bool
    /// Why it fell back (the error `.error` would have thrown); nil otherwise.
    public var reason: String?
}

/// Macenko stain normalisation, as torchstain's `NumpyMacenkoNormalizer` computes it (in Double):
///
/// 1. optical density OD = −ln((I + 1)/Io) per pixel and channel;
/// 2. tissue: the pixels whose OD is ≥ beta in every channel (ODhat);
/// 3. the eigenvectors of ODhat's covariance (np.cov: centred, divided by n − 1) with the two
///    largest eigenvalues, v₂ (second) and v₁ (largest);
/// 4. per tissue pixel φ = atan2(od·v₁, od·v₂); φ_min, φ_max = numpy percentiles alpha and
///    100 − alpha; vMin = v₂cos φ_min + v₁sin φ_min, vMax likewise;
/// 5. HE = [vMin, vMax] if vMin's red component is larger, else [vMax, vMin] (hematoxylin first);
/// 6. concentrations C: least squares HE·C = OD for every pixel (all of them, not only tissue);
///    maxC = the 99th percentiles of C's two rows;
/// 7. C2 = C / (maxC / maxCRef); Inorm = Io·exp(−HERef·C2), values above 255 set to 255, then
///    truncated to whole numbers.
///
/// `fit` replaces the reference (HERef, maxCRef) by an image's HE and maxC.
///
/// Where torchstain would crash or return garbage, this throws `StainError` (or, in `normalize`,
/// falls back with `fallback: .identity`): fewer tissue pixels than
/// max(`minimumTissuePixels`, ⌈`minimumTissueFraction`·pixels⌉) (torchstain raises numpy's
/// LinAlgError "Eigenvalues did not converge" on an all-white image or a 1×1 one); two stain
/// vectors less than `minimumStainAngleDegrees` apart (one colour: torchstain returns a flat
/// colour); a 99th-percentile concentration that is not positive (it would divide by zero). No
/// output is ever NaN.
public struct MacenkoNormalizer: Codable, Sendable, Equatable {
    /// Transmitted (white) light intensity Io.
    public var io: Double
    /// Percentile (0 ≤ alpha < 50) of the stain angles taken as the extreme stains.
    public var alpha: Double
    /// Optical density below which a channel counts as transparent.
    public var beta: Double
    /// The fewest tissue pixels (OD ≥ beta in every channel) to estimate stains from (≥ 2).
    public var minimumTissuePixels: Int
    /// The smallest tissue fraction of the image's pixels (0…1) to estimate stains from.
    public var minimumTissueFraction: Double
    /// The smallest angle between the two estimated stain vectors, in degrees (torchstain's
    /// default reference stains lie 22° apart).
    public var minimumStainAngleDegrees: Double
    /// What `normalize` does when the stains cannot be estimated.
    public var fallback: StainFallback
    /// The target stains: torchstain's default until `fit`.
    public var reference: StainReference

    /// - Throws: `StainError` unless io > 0, 0 ≤ alpha < 50, beta ≥ 0 (all finite),
    ///   minimumTissuePixels ≥ 2, minimumTissueFraction in 0…1 and minimumStainAngleDegrees in 0…90.
    public init(io: Double = 240, alpha: Double = 1, beta: Double = 0.15, minimumTissuePixels: Int = 100,
                minimumTissueFraction: Double = 0.01, minimumStainAngleDegrees: Double = 1,
                fallback: StainFallback = .error, reference: StainReference = .torchstainDefault) throws {
        (self.io, self.alpha, self.beta) = (io, alpha, beta)
        (self.minimumTissuePixels, self.minimumTissueFraction) = (minimumTissuePixels, minimumTissueFraction)
        (self.minimumStainAngleDegrees, self.fallback, self.reference) = (minimumStainAngleDegrees, fallback, reference)
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(io: try c.decodeIfPresent(Double.self, forKey: .io) ?? 240,
                      alpha: try c.decodeIfPresent(Double.self, forKey: .alpha) ?? 1,
                      beta: try c.decodeIfPresent(Double.self, forKey: .beta) ?? 0.15,
                      minimumTissuePixels: try c.decodeIfPresent(Int.self, forKey: .minimumTissuePixels) ?? 100,
                      minimumTissueFraction: try c.decodeIfPresent(Double.self, forKey: .minimumTissueFraction) ?? 0.01,
                      minimumStainAngleDegrees: try c.decodeIfPresent(Double.self, forKey: .minimumStainAngleDegrees) ?? 1,
                      fallback: try c.decodeIfPresent(StainFallback.self, forKey: .fallback) ?? .error,
                      reference: try c.decodeIfPresent(StainReference.self, forKey: .reference) ?? .torchstainDefault)
    }

    private func validate() throws {
        guard io > 0, io.isFinite else { throw StainError("key 'io' must be positive and finite, got \(io)") }
        guard alpha >= 0, alpha < 50 else { throw StainError("key 'alpha' must lie in [0, 50), got \(alpha)") }
        guard beta >= 0, beta.isFinite else { throw StainError("key 'beta' must be finite and ≥ 0, got \(beta)") }
        guard minimumTissuePixels >= 2 else {
            throw StainError("key 'minimumTissuePixels' must be at least 2, got \(minimumTissuePixels)")
        }
        guard minimumTissueFraction >= 0, minimumTissueFraction <= 1 else {
            throw StainError("key 'minimumTissueFraction' must lie in [0, 1], got \(minimumTissueFraction)")
        }
        guard minimumStainAngleDegrees >= 0, minimumStainAngleDegrees <= 90 else {
            throw StainError("key 'minimumStainAngleDegrees' must lie in [0, 90], got \(minimumStainAngleDegrees)")
        }
    }

    /// The image's stains, concentrations and tissue count (steps 1–6).
    /// - Throws: `StainError` for a bad image or when the stains cannot be estimated.
    public func estimate(_ pixels: [Float], height: Int, width: Int) throws -> MacenkoEstimate {
        try validateRGB(pixels, height: height, width: width, step: "MacenkoNormalizer")
        return try estimateValidated(pixels).get()
    }

    /// Replaces the reference by `pixels`' stains (torchstain's `fit`). Never falls back.
    /// - Throws: `StainError` for a bad image or when the stains cannot be estimated.
    public mutating func fit(_ pixels: [Float], height: Int, width: Int) throws {
        reference = try estimate(pixels, height: height, width: width).stains
    }

    /// A copy with the reference fitted to `pixels`.
    public func fitted(to pixels: [Float], height: Int, width: Int) throws -> MacenkoNormalizer {
        var copy = self
        try copy.fit(pixels, height: height, width: width)
        return copy
    }

    /// The image with the reference's stains (torchstain's Inorm), H×W×3 whole numbers 0…255, or
    /// the image unchanged under `fallback: .identity` when its stains cannot be estimated.
    /// - Throws: `StainError` for a bad image, or when the stains cannot be estimated and
    ///   `fallback` is `.error`.
    public func normalize(_ pixels: [Float], height: Int, width: Int) throws -> [Float] {
        try normalize(pixels, height: height, width: width, stains: false).normalized
    }

    /// As `normalize(_:height:width:)`, with the hematoxylin and eosin images when `stains`.
    public func normalize(_ pixels: [Float], height: Int, width: Int, stains: Bool) throws -> MacenkoResult {
        try validateRGB(pixels, height: height, width: width, step: "MacenkoNormalizer")
        let estimate: MacenkoEstimate
        switch estimateValidated(pixels) {
        case .success(let e): estimate = e
        case .failure(let error):
            guard fallback == .identity else { throw error }
            return MacenkoResult(normalized: pixels, hematoxylin: nil, eosin: nil, fellBack: true, reason: error.description)
        }
        let n = height * width
        let scale = (0..<2).map { estimate.stains.maxConcentrations[$0] / reference.maxConcentrations[$0] }
        let (h, e) = (reference.hematoxylin, reference.eosin)
        var out = [Float](repeating: 0, count: 3 * n)
        var outH = stains ? out : [], outE = stains ? out : []
        for p in 0..<n {
            let c0 = estimate.hematoxylin[p] / scale[0], c1 = estimate.eosin[p] / scale[1]
            for k in 0..<3 {
                out[3 * p + k] = Self.toByte(io * exp(-(h[k] * c0 + e[k] * c1)))
                if stains {
                    outH[3 * p + k] = Self.toByte(io * exp(-h[k] * c0))
                    outE[3 * p + k] = Self.toByte(io * exp(-e[k] * c1))
                }
            }
        }
        return MacenkoResult(normalized: out, hematoxylin: stains ? outH : nil, eosin: stains ? outE : nil,
                             fellBack: false, reason: nil)
    }

    /// torchstain's `x[x > 255] = 255; x.astype(np.uint8)` for x ≥ 0 (+∞ included): truncation.
    @inline(__always) static func toByte(_ x: Double) -> Float { Float(x > 255 ? 255 : x.rounded(.towardZero)) }

    /// Steps 1–6 on a validated image; failure: the stains cannot be estimated.
    func estimateValidated(_ pixels: [Float]) -> Result<MacenkoEstimate, StainError> {
        let n = pixels.count / 3
        var od = [Double](repeating: 0, count: 3 * n)
        for i in 0..<(3 * n) { od[i] = -log((Double(pixels[i]) + 1) / io) }
        var tissue: [Int] = []
        for p in 0..<n where !(od[3 * p] < beta || od[3 * p + 1] < beta || od[3 * p + 2] < beta) { tissue.append(p) }
        let needed = max(minimumTissuePixels, Int((minimumTissueFraction * Double(n)).rounded(.up)))
        guard tissue.count >= needed else {
            return .failure(StainError("MacenkoNormalizer: only \(tissue.count) of \(n) pixels are tissue (optical density "
                                       + "≥ beta = \(beta) in every channel); estimating the stains needs at least \(needed) "
                                       + "(minimumTissuePixels \(minimumTissuePixels), minimumTissueFraction "
                                       + "\(minimumTissueFraction))" + Self.rangeHint(pixels)))
        }
        // np.cov(ODhat.T): centre each channel, sum the products, multiply by 1/(m − 1).
        let m = Double(tissue.count)
        var mean = [0.0, 0.0, 0.0]
        for p in tissue { for k in 0..<3 { mean[k] += od[3 * p + k] } }
        mean = mean.map { $0 / m }
        var s = [Double](repeating: 0, count: 6)  // 00, 01, 02, 11, 12, 22
        for p in tissue {
            let (d0, d1, d2) = (od[3 * p] - mean[0], od[3 * p + 1] - mean[1], od[3 * p + 2] - mean[2])
            s[0] += d0 * d0; s[1] += d0 * d1; s[2] += d0 * d2; s[3] += d1 * d1; s[4] += d1 * d2; s[5] += d2 * d2
        }
        let factor = 1 / (m - 1)
        s = s.map { $0 * factor }
        let cov = [[s[0], s[1], s[2]], [s[1], s[3], s[4]], [s[2], s[4], s[5]]]
        let (_, vectors) = symmetricEigen3(cov)
        let tissueOD = tissue.map { [od[3 * $0], od[3 * $0 + 1], od[3 * $0 + 2]] }
        let (hv, ev) = Self.stainVectors(tissueOD, second: vectors[1], largest: vectors[2], alpha: alpha)
        let angle = acos(min(1, max(-1, dot3(hv, ev)))) * 180 / Double.pi
        guard angle >= minimumStainAngleDegrees, angle.isFinite else {
            return .failure(StainError("MacenkoNormalizer: the two stain vectors estimated from \(tissue.count) tissue pixels "
                                       + "are \(angle)° apart (minimumStainAngleDegrees \(minimumStainAngleDegrees)): "
                                       + "the image has too few colours to separate hematoxylin from eosin" + Self.rangeHint(pixels)))
        }
        // Least squares HE·c = od per pixel: c = (HEᵀHE)⁻¹HEᵀ·od (HE has full rank: the angle check).
        let hh = dot3(hv, hv), ee = dot3(ev, ev), he = dot3(hv, ev)
        let det = hh * ee - he * he
        let rowH = (0..<3).map { (ee * hv[$0] - he * ev[$0]) / det }
        let rowE = (0..<3).map { (hh * ev[$0] - he * hv[$0]) / det }
        var cH = [Double](repeating: 0, count: n), cE = cH
        for p in 0..<n {
            let o = (od[3 * p], od[3 * p + 1], od[3 * p + 2])
            cH[p] = rowH[0] * o.0 + rowH[1] * o.1 + rowH[2] * o.2
            cE[p] = rowE[0] * o.0 + rowE[1] * o.1 + rowE[2] * o.2
        }
        let maxC = [numpyPercentile(sorted: cH.sorted(), 99), numpyPercentile(sorted: cE.sorted(), 99)]
        for (k, name) in ["hematoxylin", "eosin"].enumerated() where !(maxC[k] > 0 && maxC[k].isFinite) {
            return .failure(StainError("MacenkoNormalizer: the 99th percentile of the \(name) concentration is \(maxC[k]); "
                                       + "it must be positive to scale the image (too little \(name) in \(tissue.count) "
                                       + "tissue pixels)" + Self.rangeHint(pixels)))
        }
        let reference = StainReference(unchecked: hv, ev, maxC)
        return .success(MacenkoEstimate(stains: reference, hematoxylin: cH, eosin: cE, tissuePixels: tissue.count,
                                        stainAngleDegrees: angle))
    }

    /// A note for failure messages when every value is ≤ 1 (an image scaled to 0…1 reads as black).
    static func rangeHint(_ pixels: [Float]) -> String {
        (pixels.max() ?? 0) <= 1 ? "; every value is ≤ 1: expected 8-bit intensities 0…255, not 0…1" : ""
    }

    /// Steps 4–5: the hematoxylin and eosin unit vectors from tissue optical densities and the
    /// plane of the covariance's two leading eigenvectors (`second`, `largest`).
    ///
    /// Eigenvector signs do not matter (numpy's LAPACK and this file's Jacobi solver may differ)
    /// as long as every tissue pixel lies strictly on one side of the line along `second`
    /// (od·largest of one sign, true whenever the covariance's entries are all positive, the
    /// H&E case: `largest` then has components of one sign and every od is ≥ beta > 0):
    /// - negating `largest` maps φ → −φ, so the alpha and 100 − alpha percentiles swap and change
    ///   sign (numpy's index (n − 1)q/100 is symmetric up to rounding), and vMin, vMax swap;
    /// - negating `second` maps φ → ±π − φ, which (the points not crossing the ±π cut) reverses
    ///   the order again, and vMin, vMax swap;
    /// - step 5 orders the pair by its red component, so HE is the same. A rotation of the basis
    ///   within the plane (equal eigenvalues) shifts every φ by one angle and changes nothing either.
    /// Only tissue pixels on both sides of that line near the ±π cut (covariance entries of mixed
    /// sign, not an H&E image) make the result depend on the signs, as in torchstain itself.
    static func stainVectors(_ tissueOD: [[Double]], second: [Double], largest: [Double],
                             alpha: Double) -> (hematoxylin: [Double], eosin: [Double]) {
        let phi = tissueOD.map { od in atan2(dot3(od, largest), dot3(od, second)) }.sorted()
        let minPhi = numpyPercentile(sorted: phi, alpha), maxPhi = numpyPercentile(sorted: phi, 100 - alpha)
        let vMin = (0..<3).map { second[$0] * cos(minPhi) + largest[$0] * sin(minPhi) }
        let vMax = (0..<3).map { second[$0] * cos(maxPhi) + largest[$0] * sin(maxPhi) }
        return vMin[0] > vMax[0] ? (vMin, vMax) : (vMax, vMin)
    }
}

// MARK: - Reinhard

/// Reinhard colour transfer, as torchstain's `NumpyReinhardNormalizer` computes it, in Float
/// (numpy float32) like torchstain:
///
/// 1. RGB/255 → LAB by torchstain's own conversion (sRGB companding, the OpenCV/bikz05 RGB→XYZ
///    matrix, D65 white (0.95047, 1, 1.08883), CIE f with 0.008856 and 7.787, then its OpenCV
///    scaling L·2.55, a + 128, b + 128 and back: L·2.55/2.55, a, b);
/// 2. per LAB channel, the mean and (population) standard deviation over every pixel (background
///    included), summed pairwise as numpy does for float32;
/// 3. `.standard`: (x − μ)/σ·σ_target + μ_target per channel; `.modified` (torchstain's
///    "modified"): L ← μ_L + (L − μ_L)(1 + q), q = (σ_target,L − σ_L)/σ_target,L or 0.05 when
///    q ≤ 0; a, b ← μ_target + (x − μ);
/// 4. LAB → RGB by torchstain's inverse (XYZ → RGB by the matrix inverse in Double), clipped to
///    0…1, times 255, truncated to whole numbers.
///
/// Unlike torchstain, a channel with σ = 0 (a one-colour image; torchstain divides by zero and
/// returns black) becomes μ_target; a target σ_L = 0 in `.modified` gives q = 0.05.
public struct ReinhardNormalizer: Codable, Sendable, Equatable {
    public enum Method: String, ConfigurationChoice, Sendable {
        /// torchstain's `method=None`.
        case standard
        /// torchstain's `method="modified"`.
        case modified
    }

    public var method: Method
    /// The target's LAB means: L (0…100), a, b (torchstain's `target_means`, float32).
    public var targetMeans: [Float]
    /// The target's LAB standard deviations (torchstain's `target_stds`).
    public var targetStds: [Float]

    /// - Throws: `StainError` unless both targets are 3 finite values and the deviations ≥ 0.
    public init(method: Method = .standard, targetMeans: [Float], targetStds: [Float]) throws {
        (self.method, self.targetMeans, self.targetStds) = (method, targetMeans, targetStds)
        guard targetMeans.count == 3, targetMeans.allSatisfy(\.isFinite) else {
            throw StainError("key 'targetMeans' must be 3 finite values (L, a, b); got \(targetMeans)")
        }
        guard targetStds.count == 3, targetStds.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw StainError("key 'targetStds' must be 3 finite values ≥ 0 (L, a, b); got \(targetStds)")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(method: try c.decodeIfPresent(Method.self, forKey: .method) ?? .standard,
                      targetMeans: try c.decode([Float].self, forKey: .targetMeans),
                      targetStds: try c.decode([Float].self, forKey: .targetStds))
    }

    /// A normalizer whose targets are `pixels`' LAB statistics (torchstain's `fit`).
    /// - Throws: `StainError` for a bad image.
    public static func fitted(to pixels: [Float], height: Int, width: Int,
                              method: Method = .standard) throws -> ReinhardNormalizer {
        try validateRGB(pixels, height: height, width: width, step: "ReinhardNormalizer")
        let s = labStatistics(labChannels(pixels))
        return try ReinhardNormalizer(method: method, targetMeans: s.means, targetStds: s.stds)
    }

    /// Replaces the targets by `pixels`' LAB statistics.
    public mutating func fit(_ pixels: [Float], height: Int, width: Int) throws {
        self = try Self.fitted(to: pixels, height: height, width: width, method: method)
    }

    /// The LAB means and standard deviations (L, a, b) of an image, as `fit` takes them.
    public static func statistics(_ pixels: [Float], height: Int, width: Int) throws -> (means: [Float], stds: [Float]) {
        try validateRGB(pixels, height: height, width: width, step: "ReinhardNormalizer")
        return labStatistics(labChannels(pixels))
    }

    /// The image with the target's LAB statistics, H×W×3 whole numbers 0…255.
    /// - Throws: `StainError` for a bad image.
    public func normalize(_ pixels: [Float], height: Int, width: Int) throws -> [Float] {
        try validateRGB(pixels, height: height, width: width, step: "ReinhardNormalizer")
        var lab = Self.labChannels(pixels)
        let (mus, stds) = Self.labStatistics(lab)
        switch method {
        case .standard:
            for k in 0..<3 {
                let (mu, sd, muT, sdT) = (mus[k], stds[k], targetMeans[k], targetStds[k])
                if sd > 0 {
                    for i in lab[k].indices { lab[k][i] = (lab[k][i] - mu) / sd * sdT + muT }
                } else {
                    for i in lab[k].indices { lab[k][i] = muT }
                }
            }
        case .modified:
            let q: Float = targetStds[0] > 0 ? (targetStds[0] - stds[0]) / targetStds[0] : 0
            // numpy: when q becomes the Python float 0.05, 1 + q is the double 1.05, rounded to float32.
            let gain = q <= 0 ? Self.f32(1.05) : 1 + q
            for i in lab[0].indices { lab[0][i] = mus[0] + (lab[0][i] - mus[0]) * gain }
            for k in 1..<3 { for i in lab[k].indices { lab[k][i] = targetMeans[k] + (lab[k][i] - mus[k]) } }
        }
        return Self.rgb(fromLAB: lab)
    }

    /// A Python float constant as numpy float32 arithmetic sees it (double rounded to float).
    @inline(__always) static func f32(_ x: Double) -> Float { Float(x) }

    static let rgbToXYZ: [[Float]] = [[0.412453, 0.357580, 0.180423],
                                      [0.212671, 0.715160, 0.072169],
                                      [0.019334, 0.119193, 0.950227]].map { $0.map { Float($0 as Double) } }
    /// numpy.linalg.inv(rgbToXYZ in float64), as torchstain's `_xyz2rgb` (printed with repr).
    static let xyzToRGB: [[Double]] = [[3.240481343200526, -1.5371515162713185, -0.4985363261688878],
                                       [-0.9692549499965682, 1.8759900014898907, 0.04155592655829284],
                                       [0.05564663913517716, -0.20404133836651123, 1.0573110696453443]]
    static let white: [Double] = [0.95047, 1, 1.08883]

    /// torchstain's `lab_split(rgb2lab(I / 255))`: three planes L, a, b in float32.
    static func labChannels(_ pixels: [Float]) -> [[Float]] {
        let n = pixels.count / 3
        var lab = [[Float]](repeating: [Float](repeating: 0, count: n), count: 3)
        let m = rgbToXYZ, w = white.map { Float($0) }
        let (c1, c2, c3) = (f32(0.04045), f32(0.055), f32(1.055))
        let (gamma, lin) = (f32(2.4), f32(12.92))
        let (eps, kappa, offset) = (f32(0.008856), f32(7.787), f32(16.0 / 116.0))
        let (twoFiftyFive, scaleL) = (Float(255), f32(2.55))
        @inline(__always) func linear(_ v: Float) -> Float { v > c1 ? powf((v + c2) / c3, gamma) : v / lin }
        @inline(__always) func cie(_ t: Float) -> Float { t > eps ? cbrtf(t) : kappa * t + offset }
        for p in 0..<n {
            let r = linear(pixels[3 * p] / twoFiftyFive), g = linear(pixels[3 * p + 1] / twoFiftyFive)
            let bl = linear(pixels[3 * p + 2] / twoFiftyFive)
            let fx = cie((r * m[0][0] + g * m[0][1] + bl * m[0][2]) / w[0])
            let fy = cie((r * m[1][0] + g * m[1][1] + bl * m[1][2]) / w[1])
            let fz = cie((r * m[2][0] + g * m[2][1] + bl * m[2][2]) / w[2])
            var l = f32(116) * fy - f32(16)
            var a = f32(500) * (fx - fy)
            var b = f32(200) * (fy - fz)
            l *= scaleL; a += 128; b += 128  // torchstain's OpenCV scaling …
            lab[0][p] = l / scaleL; lab[1][p] = a - 128; lab[2][p] = b - 128  // … and lab_split's undoing it
        }
        return lab
    }

    /// numpy's float32 `mean` and `std` of each plane (pairwise sums, float32 throughout).
    static func labStatistics(_ lab: [[Float]]) -> (means: [Float], stds: [Float]) {
        var means: [Float] = [], stds: [Float] = []
        for plane in lab {
            let count = Float(plane.count)
            let mean = pairwiseSum(plane[...]) / count
            let squares = plane.map { ($0 - mean) * ($0 - mean) }
            means.append(mean)
            stds.append((pairwiseSum(squares[...]) / count).squareRoot())
        }
        return (means, stds)
    }

    /// numpy's `pairwise_sum` for float32 (blocks of 128, eight accumulators): what `np.sum`,
    /// `np.mean` and `np.std` use on a contiguous float32 array.
    static func pairwiseSum(_ a: ArraySlice<Float>) -> Float {
        let n = a.count, s = a.startIndex
        if n < 8 {
            var r: Float = 0
            for i in 0..<n { r += a[s + i] }
            return r
        } else if n <= 128 {
            var r = (0..<8).map { a[s + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += a[s + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { res += a[s + i]; i += 1 }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return pairwiseSum(a[s..<(s + n2)]) + pairwiseSum(a[(s + n2)...])
        }
    }

    /// torchstain's `lab2rgb(lab_merge(L, a, b))` · 255, truncated: H×W×3.
    static func rgb(fromLAB lab: [[Float]]) -> [Float] {
        let n = lab[0].count
        var out = [Float](repeating: 0, count: 3 * n)
        let w = white.map { Float($0) }, inv = xyzToRGB
        let (scaleL, knee, kappa, offset) = (f32(2.55), f32(0.2068966), f32(7.787), f32(16.0 / 116.0))
        for p in 0..<n {
            // lab_merge, then lab2rgb's own undoing of the OpenCV scaling.
            let l = (lab[0][p] * scaleL) / scaleL
            let a = (lab[1][p] + 128) - 128
            let b = (lab[2][p] + 128) - 128
            let y = (l + f32(16)) / f32(116)
            let x = a / f32(500) + y
            let z = y - b / f32(200)
            @inline(__always) func cube(_ t: Float) -> Float { t > knee ? powf(t, 3) : (t - offset) / kappa }
            let (X, Y, Z) = (Double(cube(x) * w[0]), Double(cube(y) * w[1]), Double(cube(z) * w[2]))
            for i in 0..<3 {
                var v = X * inv[i][0] + Y * inv[i][1] + Z * inv[i][2]
                v = v > 0.0031308 ? 1.055 * pow(v, 1 / 2.4) - 0.055 : v * 12.92
                v = min(max(v, 0), 1)
                out[3 * p + i] = Float((v * 255).rounded(.towardZero))
            }
        }
        return out
    }
}
