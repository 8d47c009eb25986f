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
    /// The spectral axis the fit was made on (its unit the samples'), recorded by fitting: spectra
    /// on it reversed are reversed back; on another axis, refused. nil in runs from before it was recorded.
    public var axis: [Double]?

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
        axis = try c.decodeIfPresent([Double].self, forKey: .axis)
    }

    private func validate() throws {
        guard components >= 1 else { throw SpectralError("components must be at least 1, got \(components)") }
        guard fitPixels >= 2 else { throw SpectralError("fitPixels must be at least 2, got \(fitPixels)") }
        if let fit, fit.count != components {
            throw SpectralError("'fit' holds \(fit.count) components but 'components' is \(components)")
        }
        if let fit {  // a model.json edited or cut short must not be read past its arrays
            guard fit.bands >= 1, fit.components.count == fit.count * fit.bands else {
                throw SpectralError("'fit' holds \(fit.components.count) component values for \(fit.count) components "
                                    + "of \(fit.bands) bands (the length of 'mean'); expected \(fit.count * fit.bands)")
            }
            guard (fit.mean + fit.components + fit.variances).allSatisfy(\.isFinite), fit.variances.allSatisfy({ $0 >= 0 }),
                  fit.varianceFloor.map({ $0.isFinite && $0 > 0 }) ?? true else {
                throw SpectralError("'fit' holds values that are not finite, or a negative variance (or a varianceFloor not above 0)")
            }
            if let axis, axis.count != fit.bands {
                throw SpectralError("'axis' holds \(axis.count) positions for a fit of \(fit.bands) bands")
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
        var axis: [Double]?, firstID = ""
        for outcome in shares {
            let share = try outcome.get()
            guard let first = axis else { (axis, firstID) = (share.axis, share.id); pixels += share.pixels; continue }
            if ChannelAxis.matches(share.axis, first) {
                pixels += share.pixels
            } else if ChannelAxis.matches(share.axis.reversed(), first) {  // stored the other way: each spectrum reversed
                let b = first.count
                for start in Swift.stride(from: 0, to: share.pixels.count, by: b) { pixels += share.pixels[start..<start + b].reversed() }
            } else {
                // The band farthest off (the first of them), which is surely beyond the matching tolerance.
                let gaps = zip(first, share.axis).map { Swift.abs($0 - $1) }
                func spanned(_ a: [Double]) -> String {
                    "\(a.count) bands" + (a.isEmpty ? "" : String(format: ", %g–%g", a[0], a[a.count - 1]))
                }
                let how = first.count != share.axis.count ? "\(spanned(share.axis)); \(firstID)'s \(spanned(first))"
                    : gaps.firstIndex(of: gaps.max() ?? 0).map { "band \($0) is at \(share.axis[$0]) here, \(first[$0]) in \(firstID)" } ?? ""
                throw SampleError(share.id, "step 'pca': its spectral axis differs from the first training sample's, \(firstID)'s "
                                  + "(\(how)); one of the two is not as the others are, or add a 'resample' step before 'pca'")
            }
        }
        let bands = axis?.count ?? 0
        guard components <= bands else {
            throw StepSettingError("components is \(components), and the spectra have \(bands) bands; expected \(bands) or fewer")
        }
        var step = self
        step.fit = try PCA(fitting: pixels, bands: bands, components: components)
        step.axis = axis
        return step
    }

    /// Components whose variance is below `PCA.negligibleVariance` of the first's: whitened, they
    /// magnify whatever later samples hold in those directions (noise the training tissue lacked).
    public var fitWarnings: [String] {
        guard let fit, let first = fit.variances.first else { return [] }
        guard first > 0 else {
            return ["the training tissue's spectra are all alike (no variance after centring): the components hold nothing; "
                    + "check that the training files hold measured spectra"]
        }
        let negligible = fit.variances.indices.filter { fit.variances[$0] < first * PCA.negligibleVariance }
        guard let from = negligible.first, whiten else { return [] }
        let which = negligible.count == 1 ? "component \(from + 1)" : "components \(from + 1)–\(negligible.last! + 1)"
        return ["\(which) of \(fit.count) hold almost no variance on the training tissue (below \(PCA.negligibleVariance) of the first's): "
                + "the training spectra span about \(from) dimensions, and whitening magnifies what later samples hold in the "
                + "others (up to 1000 times as much as the first); give components: \(max(1, from))"]
    }

    public func apply(_ sample: Sample) throws -> Sample {
        guard let fit else { throw SampleError(sample.id, "step 'pca' has not been fitted") }
        var sample = sample
        let (values, unit) = try spectralAxis(sample, step: "pca")
        if let axis {
            sample = try sample.aligned(to: .spectral(values: axis, unit: unit), by: "'pca' was fitted on",
                                        remedy: "a model trained with a 'resample' step before 'pca' (in its modality manifest) "
                                            + "brings every file onto one axis")
        }
        guard values.count == fit.bands else {
            throw SampleError(sample.id, "step 'pca': the spectra have \(values.count) bands; the fit has \(fit.bands)")
        }
        let plane = sample.height * sample.width
        let scales = whiten ? fit.whiteningScales : nil
        let image = try sample.image.withPlainBuffer { try fit.transform(bandMajor: $0, pixels: plane, scales: scales) }
        let k = fit.count
        var s = sample
        s.image = try Tensor(shape: [k, sample.height, sample.width], scalars: image)
        s.channels = .bands((1...k).map { "PC\($0)" })
        return s
    }
}
