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
    /// Projection of each spectrum with the fitted components.
    public var isPixelwise: Bool { true }
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
        if let fit {  // a model.json edited or cut short must not be read past its arrays
            guard fit.bands >= 1, fit.components.count == fit.count * fit.bands else {
                throw SpectralError("pca: 'fit' holds \(fit.components.count) component values for \(fit.count) components "
                                    + "of \(fit.bands) bands (the length of 'mean'); expected \(fit.count * fit.bands)")
            }
            guard (fit.mean + fit.components + fit.variances).allSatisfy(\.isFinite), fit.variances.allSatisfy({ $0 >= 0 }) else {
                throw SpectralError("pca: 'fit' holds values that are not finite, or a negative variance")
            }
        }
    }

    public func fitted(to training: SampleSequence) throws -> any SampleTransform {
        guard training.count > 0 else { throw SpectralError("pca: no training samples to fit on") }
        let share = max(1, fitPixels / training.count)
        // Each sample's share of tissue pixels (evenly spaced), gathered on all cores, kept in order.
        let shares = try training.map { sample -> (id: String, axis: [Double], pixels: [Float]) in
            let (values, _) = try spectralAxis(sample, step: "pca")
            let tissue = sample.tissue.pixels.indices.filter { sample.tissue.pixels[$0] }
            let stride = max(1, tissue.count / share)
            let (b, plane) = (values.count, sample.height * sample.width)
            var pixels: [Float] = []
            sample.image.withPlainBuffer { cube in
                for p in Swift.stride(from: 0, to: tissue.count, by: stride).map({ tissue[$0] }) {
                    for k in 0..<b { pixels.append(cube[k * plane + p]) }
                }
            }
            return (sample.id, values, pixels)
        }
        var pixels: [Float] = []
        var axis: [Double]?
        for outcome in shares {
            let share = try outcome.get()
            if let axis, axis != share.axis {
                let how = axis.count != share.axis.count ? "\(share.axis.count) bands, the first training sample's \(axis.count)"
                    : zip(axis, share.axis).enumerated().first { $0.element.0 != $0.element.1 }.map {
                        "band \($0.offset) is at \($0.element.1) here, \($0.element.0) in the first training sample"
                    } ?? ""
                throw SampleError(share.id, "step 'pca': its spectral axis differs from the first training sample's (\(how)); "
                                  + "add a 'resample' step before 'pca'")
            }
            axis = share.axis
            pixels += share.pixels
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
        let plane = sample.height * sample.width
        let scales = whiten ? fit.variances.map { 1 / max($0, 1e-12).squareRoot() } : nil
        let image = try sample.image.withPlainBuffer { try fit.transform(bandMajor: $0, pixels: plane, scales: scales) }
        let k = fit.count
        var s = sample
        s.image = try Tensor(shape: [k, sample.height, sample.width], scalars: image)
        s.channels = .bands((1...k).map { "PC\($0)" })
        return s
    }
}
