import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// Hyperspectral infrared images from HDF5, one sample per file, in the default layout:
/// `/spectra` H×W×B (float32 or float64), `/wavenumbers` of length B in cm⁻¹ (either order),
/// optional `/mask` H×W (non-zero = tissue). Dataset names are configurable. Without a mask,
/// tissue is where the integrated absorbance exceeds Otsu's threshold. The preview is that
/// integrated absorbance in grey.
public struct InfraredSource: ImageSource {
    public struct Configuration: Codable, Sendable, Equatable {
        public var spectra = "/spectra"
        public var wavenumbers = "/wavenumbers"
        /// nil: compute the tissue mask.
        public var mask: String? = "/mask"
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Configuration()
            spectra = try c.decodeIfPresent(String.self, forKey: .spectra) ?? d.spectra
            wavenumbers = try c.decodeIfPresent(String.self, forKey: .wavenumbers) ?? d.wavenumbers
            mask = c.contains(.mask) ? try c.decodeIfPresent(String.self, forKey: .mask) : d.mask
        }
    }

    public static let info = PluginInfo("infrared", aliases: ["ir", "ftir"],
                                        summary: "hyperspectral infrared images from HDF5 (/spectra H×W×B, /wavenumbers, optional /mask)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerModality(info) { try InfraredSource($0.decode(Configuration.self)) }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .init()) { self.configuration = configuration }

    public var fileExtensions: [String] { ["h5", "hdf5", "hdf", "mat"] }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        let file = try HDF5File(url: url)
        let (shape, spectra) = try file.readFloats(configuration.spectra)
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw IOError(file: url.path, "dataset '\(configuration.spectra)' has shape \(shape); expected H×W×B")
        }
        let (h, w, b) = (shape[0], shape[1], shape[2])
        let wavenumbers = try file.readFloats(configuration.wavenumbers).values.map(Double.init)
        guard wavenumbers.count == b else {
            throw IOError(file: url.path, "dataset '\(configuration.wavenumbers)' has \(wavenumbers.count) values "
                          + "but '\(configuration.spectra)' has \(b) bands")
        }
        if let bad = spectra.firstIndex(where: { !$0.isFinite }) {
            let count = spectra.filter { !$0.isFinite }.count
            throw IOError(file: url.path, "dataset '\(configuration.spectra)' holds \(count) NaN or infinite values; "
                          + "the first at pixel (\(bad / b / w), \(bad / b % w)), band \(bad % b)")
        }
        // Channels first, C×H×W.
        var image = [Float](repeating: 0, count: spectra.count)
        for p in 0..<(h * w) { for k in 0..<b { image[k * h * w + p] = spectra[p * b + k] } }
        let absorbance = (0..<(h * w)).map { p in spectra[(p * b)..<((p + 1) * b)].reduce(0, +) / Float(b) }
        let tissue = try tissueMask(file, url, h, w, absorbance)
        return try Sample(id: url.deletingPathExtension().lastPathComponent, image: Tensor(shape: [b, h, w], scalars: image),
                          channels: .spectral(values: wavenumbers, unit: "cm⁻¹"), tissue: tissue,
                          preview: greyPreview(absorbance, h, w), label: label,
                          metadata: ["file": url.path])
    }

    private func tissueMask(_ file: HDF5File, _ url: URL, _ h: Int, _ w: Int, _ absorbance: [Float]) throws -> Mask {
        if let name = configuration.mask, try file.datasetNames().contains(name) {
            let (shape, values) = try file.readFloats(name)
            guard shape == [h, w] else {
                throw IOError(file: url.path, "dataset '\(name)' has shape \(shape); expected the image's \(h)×\(w)")
            }
            return Mask(height: h, width: w, pixels: values.map { $0 != 0 })
        }
        let threshold = otsuThreshold(absorbance)
        return Mask(height: h, width: w, pixels: absorbance.map { $0 > threshold })
    }

    private func greyPreview(_ absorbance: [Float], _ h: Int, _ w: Int) -> RGBImage {
        let (lo, hi) = (absorbance.min() ?? 0, absorbance.max() ?? 1)
        let grey = absorbance.map { UInt8(max(0, min(255, 255 - 255 * ($0 - lo) / max(hi - lo, 1e-12)))) }
        return RGBImage(height: h, width: w, bytes: grey.flatMap { [$0, $0, $0] })
    }
}

/// Otsu's threshold of `values` over 256 bins: the cut that maximizes the between-class variance.
public func otsuThreshold(_ values: [Float]) -> Float {
    guard let lo = values.min(), let hi = values.max(), hi > lo else { return values.first ?? 0 }
    var histogram = [Double](repeating: 0, count: 256)
    for v in values { histogram[min(255, Int((v - lo) / (hi - lo) * 255))] += 1 }
    let total = Double(values.count)
    let weightedSum = histogram.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
    var (below, belowSum, best, cut) = (0.0, 0.0, -1.0, 0)
    for i in 0..<256 {
        below += histogram[i]; belowSum += Double(i) * histogram[i]
        let above = total - below
        guard below > 0, above > 0 else { continue }
        let between = below * above * pow(belowSum / below - (weightedSum - belowSum) / above, 2)
        if between > best { best = between; cut = i }
    }
    return lo + (hi - lo) * (Float(cut) + 1) / 255
}
