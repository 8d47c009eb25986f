import CompSegCore
import CompSegNN
import Foundation

/// The spectral preprocessing steps, registered by name for modality manifests:
/// `crop`, `resample`, `despike`, `rubberBand`, `als`, `arpls`, `airpls`, `imodpoly`, `normalize`,
/// `savitzkyGolay` (per spectrum), and `pca` and `standardize` (fitted on training tissue pixels).
public enum SpectralSteps {
    public static func register(in registry: inout Registry) throws {
        try add(SpectralCrop.self, "crop", "keep the bands within a wavenumber range {lower, upper}", &registry)
        try add(SpectralResample.self, "resample", "interpolate onto an axis {values} or {from, to, count}", &registry)
        try add(WhitakerHayesDespike.self, "despike",
                "replace cosmic-ray spikes (Whitaker–Hayes) {threshold, kernel, maxWidth, maxPasses}", &registry)
        try add(RubberBandBaseline.self, "rubberBand", "subtract the rubber-band (lower convex hull) baseline", &registry)
        try add(AsymmetricLeastSquaresBaseline.self, "als",
                "subtract the asymmetric least squares baseline {lambda, p, iterations}", &registry)
        try add(ArPLSBaseline.self, "arpls", "subtract the arPLS baseline {lambda, tolerance, maxIterations}", &registry)
        try add(AirPLSBaseline.self, "airpls", "subtract the airPLS baseline {lambda, tolerance, maxIterations}", &registry)
        try add(IModPolyBaseline.self, "imodpoly",
                "subtract the I-ModPoly polynomial baseline {order, tolerance, maxIterations, useOriginal, maskInitialPeaks}",
                &registry)
        try add(SpectralNormalization.self, "normalize",
                "normalize each spectrum {method: vector, area, snv, minmax or band; wavenumber for band}", &registry)
        try add(SavitzkyGolay.self, "savitzkyGolay", "Savitzky–Golay smoothing or derivative {window, order, derivative}",
                &registry)
        try registry.registerTransform(PluginInfo("pca", summary: "project onto principal components fitted on training "
                                                  + "tissue pixels {components, whiten, fitPixels}")) {
            try PCAStep($0.decode(PCAStep.self))
        }
        try registry.registerTransform(PluginInfo("standardize", aliases: ["zscore"], summary: "each channel less its mean, divided by "
                                                  + "its standard deviation, both fitted on training tissue pixels")) {
            try $0.decode(StandardizeStep.self)
        }
    }

    private static func add<T: SpectralTransform & Equatable>(_ type: T.Type, _ name: String, _ summary: String,
                                                              _ registry: inout Registry) throws {
        try registry.registerTransform(PluginInfo(name, summary: summary)) { SpectrumStep(name: name, transform: try $0.decode(T.self)) }
    }
}

/// A per-spectrum transform applied to every pixel of a sample with a spectral axis.
struct SpectrumStep<T: SpectralTransform>: SampleTransform {
    let name: String
    let transform: T
    var isPixelwise: Bool { true }

    func configuration() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(transform)
    }

    func apply(_ sample: Sample) throws -> Sample {
        let (axis, unit) = try spectralAxis(sample, step: name)
        let newAxis: [Double]
        do { newAxis = try transform.axis(axis) } catch { throw SampleError(sample.id, "step '\(name)': \(error)") }
        let (nb, plane) = (newAxis.count, sample.height * sample.width)
        do {  // the new cube
            try requireMemory(Double(nb) * Double(plane) * 4, for: "\(sample.height)×\(sample.width) pixels × \(nb) bands",
                              "ask for fewer bands")
        } catch { throw SampleError(sample.id, "step '\(name)': \(error)") }
        var s = sample
        s.channels = .spectral(values: newAxis, unit: unit)
        // Written straight into the new tensor's memory: a cube of gigabytes is not made twice.
        let image = Tensor(uninitialized: [nb, sample.height, sample.width])
        try image.withMutablePlainBuffer { out in
            let whole: Bool
            do { whole = try sample.image.withPlainBuffer { try transform.apply(cube: $0, pixels: plane, wavenumbers: axis, into: out) } } catch {
                throw SampleError(sample.id, "step '\(name)': \(error)")
            }
            if !whole { try applyPerSpectrum(sample, axis: axis, bands: nb, into: out) }
        }
        s.image = image
        return s
    }

    /// The step spectrum by spectrum, written into `out` (band-major, `bands` planes).
    private func applyPerSpectrum(_ sample: Sample, axis: [Double], bands nb: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        let (b, plane) = (axis.count, sample.height * sample.width)
        try sample.image.withPlainBuffer { cube in
            // The cube is band-major (B×H×W): gather a tile of pixels' spectra at a time, so that each
            // band is read and written in runs of `tile` values rather than one value per band.
            let tile = 64
            var spectra = [Float](repeating: 0, count: tile * b), results = [Float](repeating: 0, count: tile * nb)
            for start in stride(from: 0, to: plane, by: tile) {
                let n = min(tile, plane - start)
                for k in 0..<b {
                    for j in 0..<n { spectra[j * b + k] = cube[k * plane + start + j] }
                }
                for j in 0..<n {
                    let result: [Float]
                    do { result = try transform.apply(Array(spectra[(j * b)..<((j + 1) * b)]), wavenumbers: axis) } catch {
                        let p = start + j
                        throw SampleError(sample.id, "step '\(name)' at row \(p / sample.width), column \(p % sample.width) (from 0, top left): \(error)")
                    }
                    results.replaceSubrange((j * nb)..<((j + 1) * nb), with: result)
                }
                for k in 0..<nb {
                    for j in 0..<n { out[k * plane + start + j] = results[j * nb + k] }
                }
            }
        }
    }
}

/// The sample's spectral axis, or an error naming the step that needs one.
func spectralAxis(_ sample: Sample, step: String) throws -> ([Double], String) {
    guard case .spectral(let values, let unit) = sample.channels else {
        // Named bands: a PCA's components (a step put after 'pca'), or a reader's colours (RGB).
        let fromPCA = if case .bands(let names) = sample.channels { names.first?.hasPrefix("PC") == true } else { false }
        throw SampleError(sample.id, "step '\(step)' needs spectral channels; this sample's are \(sample.channels.summary): "
                          + (fromPCA ? "put spectral steps before 'pca'" : "spectral steps are for the infrared and raman readers"))
    }
    return (values, unit)
}

/// `normalize`: one of the per-spectrum normalizations, by `method`.
public struct SpectralNormalization: SpectralTransform, Equatable {
    public enum Method: String, ConfigurationChoice, Sendable { case vector, area, snv, minmax, band }
    public var method: Method
    /// `band` only: the wavenumber whose value becomes 1 (e.g. amide I, 1655 cm⁻¹).
    public var wavenumber: Double?

    public init(method: Method, wavenumber: Double? = nil) throws {
        self.method = method; self.wavenumber = wavenumber
        try validate()
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(Method.self, forKey: .method)
        wavenumber = try c.decodeIfPresent(Double.self, forKey: .wavenumber)
        try validate()
    }

    private func validate() throws {
        if method == .band, wavenumber == nil {
            throw SpectralError("method 'band' needs 'wavenumber' (e.g. 1655 for amide I)")
        }
        if method != .band, wavenumber != nil {
            throw SpectralError("'wavenumber' applies only to method 'band', not '\(method.rawValue)'")
        }
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        switch method {
        case .vector: try VectorNormalization().apply(spectrum, wavenumbers: wavenumbers)
        case .area: try AreaNormalization().apply(spectrum, wavenumbers: wavenumbers)
        case .snv: try StandardNormalVariate().apply(spectrum, wavenumbers: wavenumbers)
        case .minmax: try MinMaxNormalization().apply(spectrum, wavenumbers: wavenumbers)
        case .band: try BandNormalization(wavenumber: wavenumber!).apply(spectrum, wavenumbers: wavenumbers)
        }
    }
}

// The keys of the steps that need some given (`compseg plugins` lists them, and a key none of
// them takes is named before a missing one). PCA's fitted `fit` and `axis` are model.json's, not a user's.
extension PCAStep: ListsConfigurationKeys { public static var configurationKeys: [String] { ["components", "whiten", "fitPixels"] } }
extension SpectralCrop: ListsConfigurationKeys { public static var configurationKeys: [String] { ["lower", "upper"] } }
extension SpectralResample: ListsConfigurationKeys { public static var configurationKeys: [String] { ["values", "from", "to", "count"] } }
extension SpectralNormalization: ListsConfigurationKeys { public static var configurationKeys: [String] { ["method", "wavenumber"] } }
extension SavitzkyGolay: ListsConfigurationKeys { public static var configurationKeys: [String] { ["window", "order", "derivative"] } }
