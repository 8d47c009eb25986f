import COpenBLAS
import CompSegCore
import Foundation

/// Principal component analysis of spectra: fitted on tissue pixels of the training data, saved
/// with the model, and re-applied to new data so the network sees the same k components.
public struct PCA: Codable, Sendable, Equatable {
    /// B band means.
    public let mean: [Float]
    /// k×B, row-major: orthonormal components by decreasing variance; each signed so its
    /// largest-magnitude entry is positive (a fixed choice, so fits repeat exactly).
    public let components: [Float]
    /// The variance along each component.
    public let variances: [Float]
    /// The least variance whitening divides by (`whiteningScales`): `negligibleVariance` of the
    /// first's, recorded by the fit; nil in runs fitted before it was (they whiten with 1e-12).
    public private(set) var varianceFloor: Float?

    public var bands: Int { mean.count }
    public var count: Int { variances.count }

    /// Fits `k` components to `pixels` (P×B row-major) through the covariance matrix and LAPACK's
    /// symmetric eigensolver (ssyevd).
    /// - Throws: `SpectralError` when there are fewer than two pixels, k is out of 1…B, or LAPACK fails.
    public init(fitting pixels: [Float], bands b: Int, components k: Int) throws {
        guard b > 0, pixels.count % b == 0 else {
            throw SpectralError("PCA: \(pixels.count) values are not whole spectra of \(b) bands")
        }
        let p = pixels.count / b
        guard p >= 2 else { throw SpectralError("PCA: needs at least 2 pixels to fit, got \(p)") }
        guard (1...b).contains(k) else { throw SpectralError("PCA: components must lie in 1…\(b), got \(k)") }
        // LAPACK counts its workspace (1 + 6B + 2B² floats) in 32-bit integers.
        guard b <= 32_000 else {
            throw SpectralError("PCA: at most 32000 bands, got \(b); resample or crop the spectra to fewer bands first")
        }
        // The covariance matrix and the eigensolver's copy and workspace: about 3 B² floats.
        try requireMemory(Double(b) * Double(b) * 12, for: "PCA of spectra with \(b) bands",
                          "resample or crop the spectra to fewer bands first")
        var mean = [Double](repeating: 0, count: b)
        for i in 0..<p { for j in 0..<b { mean[j] += Double(pixels[i * b + j]) } }
        mean = mean.map { $0 / Double(p) }
        var centred = pixels
        for i in 0..<p { for j in 0..<b { centred[i * b + j] -= Float(mean[j]) } }
        // Upper triangle of Xcᵀ·Xc / (P − 1), column-major for LAPACK (symmetric, so either order).
        var covariance = [Float](repeating: 0, count: b * b)
        cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, Int32(b), Int32(p), 1 / Float(p - 1),
                    centred, Int32(b), 0, &covariance, Int32(b))
        var eigenvalues = [Float](repeating: 0, count: b)
        var n = Int32(b), lda = Int32(b), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize: Float = 0, iworkSize: Int32 = 0
        ssyevd_("V", "U", &n, &covariance, &lda, &eigenvalues, &workSize, &lwork, &iworkSize, &liwork, &info)
        lwork = Int32(workSize); liwork = iworkSize
        var work = [Float](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        ssyevd_("V", "U", &n, &covariance, &lda, &eigenvalues, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw SpectralError("PCA: LAPACK ssyevd failed (info \(info))") }
        // Eigenvalues ascend; eigenvector j is column j (contiguous in column-major order).
        var components: [Float] = []
        var variances: [Float] = []
        for j in stride(from: b - 1, through: b - k, by: -1) {
            var v = Array(covariance[(j * b)..<((j + 1) * b)])
            if let peak = v.max(by: { Swift.abs($0) < Swift.abs($1) }), peak < 0 { v = v.map { -$0 } }
            components += v
            variances.append(max(0, eigenvalues[j]))
        }
        self.mean = mean.map(Float.init)
        self.components = components
        self.variances = variances
        varianceFloor = max((variances.first ?? 0) * Self.negligibleVariance, 1e-12)
    }

    /// The share of the first component's variance below which a component counts as holding none
    /// (rounding and quantisation noise of spectra that span fewer dimensions).
    public static let negligibleVariance: Float = 1e-6

    /// What whitening multiplies each component's scores by: 1 / its standard deviation, a
    /// variance below `varianceFloor` taken as that floor, so that a direction the training
    /// tissue did not vary in is magnified at most 1000 times as much as the first.
    public var whiteningScales: [Float] {
        let floor = varianceFloor ?? 1e-12
        return variances.map { 1 / max($0, floor).squareRoot() }
    }

    /// Projects `pixels` (P×B row-major) onto the components: P×k, row-major.
    public func transform(_ pixels: [Float]) throws -> [Float] {
        let b = bands, k = count
        guard pixels.count % b == 0 else {
            throw SpectralError("PCA: \(pixels.count) values are not whole spectra of \(b) bands (the fit's)")
        }
        let p = pixels.count / b
        var centred = pixels
        for i in 0..<p { for j in 0..<b { centred[i * b + j] -= mean[j] } }
        var out = [Float](repeating: 0, count: p * k)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(p), Int32(k), Int32(b), 1, centred, Int32(b),
                    components, Int32(b), 0, &out, Int32(k))
        return out
    }

    /// Projects a band-major cube (B planes of `pixels` values) onto the components, one sgemm:
    /// k planes of `pixels` scores, each multiplied by `scales[c]` when given.
    public func transform(bandMajor cube: UnsafeBufferPointer<Float>, pixels p: Int, scales: [Float]? = nil) throws -> [Float] {
        let b = bands, k = count
        guard cube.count == b * p else {
            throw SpectralError("PCA: \(cube.count) values are not \(p) pixels of \(b) bands (the fit's)")
        }
        var centred = [Float](cube)
        centred.withUnsafeMutableBufferPointer { c in
            for j in 0..<b { let m = mean[j]; for i in (j * p)..<((j + 1) * p) { c[i] -= m } }
        }
        var out = [Float](repeating: 0, count: k * p)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(k), Int32(p), Int32(b), 1, components, Int32(b),
                    centred, Int32(p), 0, &out, Int32(p))
        if let scales {
            out.withUnsafeMutableBufferPointer { o in
                for c in 0..<k { let f = scales[c]; for i in (c * p)..<((c + 1) * p) { o[i] *= f } }
            }
        }
        return out
    }
}

public struct SpectralError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
