import CompSegCore
import CompSegNN
import Foundation

/// `pca`: projects every pixel's spectrum onto `components` principal components fitted on the
/// training samples' tissue pixels (at most `fitPixels` of them, the same share from each
/// sample, evenly spaced), so the first layer sees k channels instead of B bands. With `whiten`
/// each component is divided by its standard deviation, so all channels have unit variance on
/// training tissue. The fitted mean, components and variances are saved in `fit`.
public struct PCAStep: SampleTransform, Codable, Equatable {
    public var components: Int
    public var whiten = true
    public var fitPixels = 20_000
    /// nil until fitted.
    public var fit: PCA?

    public init(components: Int, whiten: Bool = true, fitPixels: Int = 20_000, fit: PCA? = nil) throws {
        self.components = components; self.whiten = whiten; self.fitPixels = fitPixels; self.fit = fit
        try validate()
    }

    public init(_ other: PCAStep) throws { self = other; try validate() }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        components = try c.decode(Int.self, forKey: .components)
        whiten = try c.decodeIfPresent(Bool.self, forKey: .whiten) ?? true
        fitPixels = try c.decodeIfPresent(Int.self, forKey: .fitPixels) ?? 20_000
        fit = try c.decodeIfPresent(PCA.self, forKey: .fit)
    }

    private func validate() throws {
        guard components >= 1 else { throw SpectralError("pca: components must be at least 1, got \(components)") }
        guard fitPixels >= 2 else { throw SpectralError("pca: fitPixels must be at least 2, got \(fitPixels)") }
        if let fit, fit.count != components {
            throw SpectralError("pca: 'fit' holds \(fit.count) components but 'components' is \(components)")
        }
    }

    public func fitted(to training: SampleSequence) throws -> any SampleTransform {
        guard training.count > 0 else { throw SpectralError("pca: no training samples to fit on") }
        let share = max(1, fitPixels / training.count)
        var pixels: [Float] = []
        var axis: [Double]?
        for i in 0..<training.count {
            let sample = try training.sample(i)
            let (values, _) = try spectralAxis(sample, step: "pca")
            if let axis, axis != values {
                throw SampleError(sample.id, "step 'pca': its spectral axis (\(values.count) bands) differs from the "
                                  + "first training sample's (\(axis.count) bands); add a 'resample' step before 'pca'")
            }
            axis = values
            let tissue = sample.tissue.pixels.indices.filter { sample.tissue.pixels[$0] }
            let stride = max(1, tissue.count / share)
            let (b, plane, cube) = (values.count, sample.height * sample.width, sample.image.scalars)
            for p in Swift.stride(from: 0, to: tissue.count, by: stride).map({ tissue[$0] }) {
                for k in 0..<b { pixels.append(cube[k * plane + p]) }
            }
        }
        let bands = axis?.count ?? 0
        guard components <= bands else {
            throw SpectralError("pca: \(components) components asked of spectra with \(bands) bands")
        }
        var step = self
        step.fit = try PCA(fitting: pixels, bands: bands, components: components)
        return step
    }

    public func apply(_ sample: Sample) throws -> Sample {
        guard let fit else { throw SampleError(sample.id, "step 'pca' has not been fitted") }
        let (axis, _) = try spectralAxis(sample, step: "pca")
        guard axis.count == fit.bands else {
            throw SampleError(sample.id, "step 'pca': the spectra have \(axis.count) bands; the fit has \(fit.bands)")
        }
        let (b, k, plane, cube) = (fit.bands, fit.count, sample.height * sample.width, sample.image.scalars)
        var pixels = [Float](repeating: 0, count: plane * b)
        for c in 0..<b { for p in 0..<plane { pixels[p * b + c] = cube[c * plane + p] } }
        let scores = try fit.transform(pixels)
        let scale = fit.variances.map { whiten ? 1 / max($0, 1e-12).squareRoot() : 1 }
        var image = [Float](repeating: 0, count: k * plane)
        for p in 0..<plane { for c in 0..<k { image[c * plane + p] = scores[p * k + c] * scale[c] } }
        var s = sample
        s.image = try Tensor(shape: [k, sample.height, sample.width], scalars: image)
        s.channels = .bands((1...k).map { "PC\($0)" })
        return s
    }
}
