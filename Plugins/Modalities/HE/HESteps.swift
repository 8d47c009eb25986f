import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// The H&E preprocessing steps, registered by name for modality manifests: `macenko` and
/// `reinhard` stain normalisation and `opticalDensity`. They take the `he` reader's RGB samples
/// (channels red, green, blue in [0, 1]).
public enum HESteps {
    public static let rgb = ["red", "green", "blue"]

    public static func register(in registry: inout Registry) throws {
        try registry.registerTransform(PluginInfo("macenko", summary: "Macenko stain normalisation as torchstain does it "
                                                  + "{referenceImage, io, alpha, beta, fallback, …}")) { try MacenkoStep($0) }
        try registry.registerTransform(PluginInfo("reinhard", summary: "Reinhard LAB normalisation to a reference image, "
                                                  + "given targets or the training images {referenceImage, targetMeans, targetStds, method}")) { try ReinhardStep($0) }
        try registry.registerTransform(PluginInfo("opticalDensity", summary: "RGB to optical density −log₁₀((I+1)/256)")) { _ in
            OpticalDensityStep()
        }
    }

    /// A sample's RGB image as 8-bit intensities, H×W×3 with a pixel's channels together. Pixels
    /// outside the tissue mask are white, the empty slide they show, whatever `outside: zero` made
    /// of them: stains are measured on tissue, never on blacked-out background.
    /// - Throws: `SampleError` naming the sample and `step` unless it holds the `he` reader's RGB.
    static func interleaved(_ sample: Sample, step: String) throws -> [Float] {
        guard sample.channels == .bands(rgb), sample.image.shape[0] == 3 else {
            throw SampleError(sample.id, "step '\(step)' needs the he reader's RGB (channels red, green, blue), got \(sample.channels.summary)")
        }
        let plane = sample.height * sample.width, v = sample.image.scalars, tissue = sample.tissue.pixels
        var out = [Float](repeating: 255, count: plane * 3)
        for p in 0..<plane where tissue[p] { for c in 0..<3 { out[p * 3 + c] = (v[c * plane + p] * 255).rounded() } }
        return out
    }

    /// `sample` with `pixels` (H×W×3, 0…255) as its RGB image in [0, 1].
    static func replacing(_ sample: Sample, with pixels: [Float]) throws -> Sample {
        let plane = sample.height * sample.width
        var planar = [Float](repeating: 0, count: plane * 3)
        for p in 0..<plane { for c in 0..<3 { planar[c * plane + p] = pixels[p * 3 + c] / 255 } }
        var s = sample
        s.image = try Tensor(shape: [3, sample.height, sample.width], scalars: planar)
        return s
    }

    /// The 8-bit RGB pixels of an image file (PNG or TIFF, as the he reader reads them), H×W×3.
    /// - Throws: `ConfigurationError` naming the step's source and the key when it cannot be read.
    static func referencePixels(_ url: URL, source: String) throws -> (pixels: [Float], height: Int, width: Int) {
        let image: RasterImage
        do { image = try HESource.readRGB(url) } catch {
            throw ConfigurationError(source: source, message: "referenceImage: \(error)")
        }
        return (image.values.map { ($0 * 255).rounded() }, image.height, image.width)
    }

    /// The configuration object without `key`, and `key`'s string value.
    static func extracting(_ key: String, from configuration: PluginConfiguration) throws -> (String?, PluginConfiguration) {
        guard var object = (try? JSONDecoder().decode(JSONValue.self, from: configuration.json))?.objectValue else {
            return (nil, configuration)
        }
        var value: String?
        if let v = object.removeValue(forKey: key), v != .null {
            guard case .string(let text) = v else {
                throw ConfigurationError(source: configuration.source, message: "key '\(key)' must be a file path")
            }
            value = text
        }
        return (value, PluginConfiguration(json: JSONValue.object(object).data, source: configuration.source))
    }
}

/// Macenko stain normalisation of each sample to the reference stains: torchstain's default, or
/// those fitted to `referenceImage` when the step is built (the fitted stains, not the path, are
/// what `model.json` keeps).
struct MacenkoStep: SampleTransform {
    let normalizer: MacenkoNormalizer

    init(_ configuration: PluginConfiguration) throws {
        let (reference, rest) = try HESteps.extracting("referenceImage", from: configuration)
        var normalizer: MacenkoNormalizer
        do { normalizer = try rest.decode(MacenkoNormalizer.self) } catch let e as StainError {
            throw ConfigurationError(source: configuration.source, message: e.description)
        }
        if let reference {
            let image = try HESteps.referencePixels(configuration.url(ofPath: reference), source: configuration.source)
            do { try normalizer.fit(image.pixels, height: image.height, width: image.width) } catch let e as StainError {
                throw ConfigurationError(source: configuration.source, message: "referenceImage \(reference): \(e.description)")
            }
        }
        self.normalizer = normalizer
    }

    func configuration() throws -> Data { try JSONEncoder().encode(normalizer) }

    func apply(_ sample: Sample) throws -> Sample {
        let pixels = try HESteps.interleaved(sample, step: "macenko")
        do {
            return try HESteps.replacing(sample, with: normalizer.normalize(pixels, height: sample.height, width: sample.width))
        } catch let e as StainError {
            throw SampleError(sample.id, "step 'macenko': \(e.description) (option fallback: identity leaves such images as they are)")
        }
    }
}

/// A macenko step's keys beyond the normaliser's own, which its defaults name: `referenceImage`,
/// the file the reference stains are fitted to, taken out before the rest is read.
extension MacenkoNormalizer: ListsConfigurationKeys {
    public static var configurationKeys: [String] { ["referenceImage"] }
}

/// Reinhard normalisation of each sample's LAB means and deviations to a target: given
/// (`targetMeans`, `targetStds`), fitted to `referenceImage`, or else fitted to the training
/// images (the mean of their statistics).
struct ReinhardStep: SampleTransform {
    let normalizer: ReinhardNormalizer?
    let method: ReinhardNormalizer.Method

    private struct Options: Codable, ListsConfigurationKeys {
        var method: ReinhardNormalizer.Method?; var targetMeans, targetStds: [Float]?
        /// With `referenceImage`, which the step takes out before these are read.
        static var configurationKeys: [String] { ["method", "referenceImage", "targetMeans", "targetStds"] }
    }

    init(_ configuration: PluginConfiguration) throws {
        let (reference, rest) = try HESteps.extracting("referenceImage", from: configuration)
        let options = try rest.decode(Options.self)
        method = options.method ?? .standard
        do {
            if let means = options.targetMeans, let stds = options.targetStds {
                normalizer = try ReinhardNormalizer(method: method, targetMeans: means, targetStds: stds)
            } else if let reference {
                let image = try HESteps.referencePixels(configuration.url(ofPath: reference), source: configuration.source)
                normalizer = try ReinhardNormalizer.fitted(to: image.pixels, height: image.height, width: image.width, method: method)
            } else {
                guard options.targetMeans == nil, options.targetStds == nil else {
                    throw StainError("give both targetMeans and targetStds, or neither")
                }
                normalizer = nil
            }
        } catch let e as StainError { throw ConfigurationError(source: configuration.source, message: e.description) }
    }

    private init(normalizer: ReinhardNormalizer) { self.normalizer = normalizer; method = normalizer.method }

    func fitted(to training: SampleSequence) throws -> any SampleTransform {
        if normalizer != nil { return self }
        var means = [Float](repeating: 0, count: 3), stds = means, count = 0
        for i in 0..<training.count {  // in order: the same sums every run
            let sample = try training.sample(i)
            let s = try ReinhardNormalizer.statistics(HESteps.interleaved(sample, step: "reinhard"),
                                                      height: sample.height, width: sample.width)
            for k in 0..<3 { means[k] += s.means[k]; stds[k] += s.stds[k] }
            count += 1
        }
        guard count > 0 else { throw StainError("reinhard: no training images to fit the targets to") }
        return ReinhardStep(normalizer: try ReinhardNormalizer(method: method, targetMeans: means.map { $0 / Float(count) },
                                                               targetStds: stds.map { $0 / Float(count) }))
    }

    func configuration() throws -> Data {
        guard let normalizer else { return try JSONEncoder().encode(["method": method.rawValue]) }
        return try JSONEncoder().encode(normalizer)
    }

    func apply(_ sample: Sample) throws -> Sample {
        guard let normalizer else { throw SampleError(sample.id, "step 'reinhard' is applied before it was fitted") }
        let pixels = try HESteps.interleaved(sample, step: "reinhard")
        return try HESteps.replacing(sample, with: normalizer.normalize(pixels, height: sample.height, width: sample.width))
    }
}

/// RGB to optical density, −log₁₀((I + 1)/256) per channel of 8-bit intensity I: 0 for white,
/// about 2.4 for black; stains add up linearly in it (Beer–Lambert).
struct OpticalDensityStep: SampleTransform, Codable {
    var isPixelwise: Bool { true }
    func apply(_ sample: Sample) throws -> Sample {
        guard sample.channels == .bands(HESteps.rgb) else {
            throw SampleError(sample.id, "step 'opticalDensity' needs the he reader's RGB, got \(sample.channels.summary)")
        }
        var s = sample
        s.image = try Tensor(shape: sample.image.shape, scalars: sample.image.scalars.map {
            -Foundation.log10(((($0 * 255).rounded()) + 1) / 256)
        })
        s.channels = .bands(HESteps.rgb.map { "OD \($0)" })
        return s
    }
}
