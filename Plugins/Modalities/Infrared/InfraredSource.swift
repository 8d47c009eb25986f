import CompSegCore
import CompSegIO
import CompSegNN
import Foundation
import SpectralPreprocessing

/// Hyperspectral infrared images from HDF5 (and MATLAB v7.3 `.mat`, which is HDF5), one sample
/// per file. The default layout: `/spectra` H×W×B (float32 or float64), `/wavenumbers` of length B
/// in cm⁻¹, optional `/mask` H×W (non-zero = tissue). `layout` selects B×H×W (`bhw`), PyIR-style
/// pixels×B (`flat`, with the image size from the datasets or attributes `height` and `width`
/// name) or MATLAB's column-major arrays (`matlab`); see `SpectralLayout`. Dataset names are
/// configurable. Wavenumbers keep the file's order (ascending or descending); the sample's
/// metadata records it. Without a mask, tissue is where the integrated absorbance exceeds Otsu's
/// threshold, with specks removed and holes filled (`tissue`). NaN or infinite values are an
/// error, or (`nonFinite: zero`) zeros outside the tissue. The preview is chosen by `preview`.
public struct InfraredSource: ImageSource {
    public struct Configuration: DefaultedConfiguration, ListsConfigurationKeys, Sendable, Equatable {
        public var spectra = "/spectra"
        public var wavenumbers = "/wavenumbers"
        /// nil: compute the tissue mask. A named mask that the file lacks is computed too.
        public var mask: String? = "/mask"
        /// How `spectra` (and `mask`) are arranged.
        public var layout: SpectralLayout = .hwb
        /// Layout `flat` only: the image height and width, each the path of a dataset holding one
        /// integer (a scalar or 1-element dataset), or the name of an integer attribute on the
        /// root or on the spectra dataset.
        public var height: String? = nil
        public var width: String? = nil
        /// What to do with NaN or infinite values in the spectra.
        public var nonFinite = NonFinitePolicy.error
        /// How the tissue mask is cleaned when it is computed (not when the file holds one).
        public var tissue = TissueRule()
        /// What overlays are drawn on.
        public var preview = SpectralPreview.absorbance
        /// Values read per hyperslab (not a configuration key; tests make it small).
        public var slabValues = 1 << 22

        public init() {}

        /// PyIR's HDF5 files: `data/intensities` (pixels×B), `data/xvalues` (B),
        /// `data/ypixels` and `data/xpixels` (the size), `data/tissue_mask`.
        public static var pyir: Configuration {
            var c = Configuration()
            c.layout = .flat
            c.spectra = "/data/intensities"; c.wavenumbers = "/data/xvalues"; c.mask = "/data/tissue_mask"
            c.height = "/data/ypixels"; c.width = "/data/xpixels"
            return c
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case spectra, wavenumbers, mask, layout, height, width, nonFinite, tissue, preview
        }
        public static var configurationKeys: [String] { keys(of: CodingKeys.self) }
    }

    public static let info = PluginInfo("infrared", aliases: ["ir", "ftir"],
                                        summary: "hyperspectral infrared images from HDF5 or MATLAB v7.3 (layouts hwb, bhw, flat, matlab)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerModality(info) {
            let configuration = try $0.decode(Configuration.self)
            try configuration.tissue.validate(source: $0.source)
            return InfraredSource(configuration)
        }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration = .init()) { self.configuration = configuration }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        let c = configuration, layout = c.layout
        let file = try HDF5File(url: url)
        func fail(_ dataset: String, _ error: LayoutError) -> IOError {
            IOError(file: url.path, "dataset '\(dataset)' \(error.description)")
        }
        if layout != .flat, c.height != nil || c.width != nil {
            throw IOError(file: url.path, "keys 'height' and 'width' apply only to layout 'flat', not '\(layout.rawValue)'")
        }
        let shape = try file.shape(of: c.spectra)
        guard shape.count == layout.rank else {
            throw fail(c.spectra, LayoutError("has shape \(shape) (rank \(shape.count)); layout '\(layout.rawValue)' "
                                              + "expects \(layout.dimensionNames) (rank \(layout.rank))"))
        }
        let size = layout == .flat ? try imageSize(file, url) : nil
        let (b, h, w): (Int, Int, Int)
        do { (b, h, w) = try layout.dimensions(shape: shape, size: size) } catch let e as LayoutError {
            throw fail(c.spectra, e)
        }
        // Read by hyperslabs along the slowest dimension, each at most `slabValues` values, so a
        // large file never needs a second full-size copy besides the image.
        var image = [Float](repeating: 0, count: b * h * w)
        let perEntry = shape.dropFirst().reduce(1, *)
        let entries = max(1, configuration.slabValues / perEntry)
        for first in stride(from: 0, to: shape[0], by: entries) {
            let n = min(entries, shape[0] - first)
            let slab = try file.readHyperslab(c.spectra, start: [first] + shape.dropFirst().map { _ in 0 },
                                              count: [n] + shape.dropFirst())
            layout.place(slab, first: first, size: (b, h, w), into: &image)
        }
        let (wavenumberShape, wavenumberValues) = try file.readFloats(c.wavenumbers)
        let wavenumbers: [Double]
        do { wavenumbers = try layout.vector(shape: wavenumberShape, values: wavenumberValues) } catch let e as LayoutError {
            throw fail(c.wavenumbers, e)
        }
        guard wavenumbers.count == b else {
            throw IOError(file: url.path, "dataset '\(c.wavenumbers)' has \(wavenumbers.count) values "
                          + "but '\(c.spectra)' has \(b) bands (shape \(shape), layout '\(layout.rawValue)')")
        }
        let plane = h * w
        var cube = image
        var invalid = [Bool](repeating: false, count: plane)
        if let bad = cube.firstIndex(where: { !$0.isFinite }) {
            let count = cube.filter { !$0.isFinite }.count
            let place = "the first at pixel (\(bad % plane / w), \(bad % w)), band \(bad / plane)"
            guard c.nonFinite == .zero else {
                throw IOError(file: url.path, "dataset '\(c.spectra)' holds \(count) NaN or infinite values; \(place) "
                              + "(option nonFinite: zero sets them to 0 and leaves their pixels out of the tissue)")
            }
            for i in cube.indices where !cube[i].isFinite { cube[i] = 0; invalid[i % plane] = true }
        }
        var absorbance = [Float](repeating: 0, count: plane)
        for k in 0..<b { for p in 0..<plane { absorbance[p] += cube[k * plane + p] } }
        absorbance = absorbance.map { $0 / Float(b) }
        var tissue = try tissueMask(file, url, h, w, absorbance)
        for p in 0..<plane where invalid[p] { tissue.pixels[p] = false }
        let preview: RGBImage
        do {
            preview = try c.preview.render(cube: cube, bands: b, height: h, width: w, wavenumbers: wavenumbers,
                                           tissue: tissue.pixels)
        } catch { throw IOError(file: url.path, "option 'preview': \(error)") }
        return try Sample(id: url.deletingPathExtension().lastPathComponent, image: Tensor(shape: [b, h, w], scalars: cube),
                          channels: .spectral(values: wavenumbers, unit: "cm⁻¹"), tissue: tissue,
                          preview: preview, label: label,
                          metadata: ["file": url.path, "layout": layout.rawValue,
                                     "wavenumberOrder": SpectralOrder(wavenumbers).rawValue])
    }

    /// Layout `flat`: (H, W) from the datasets or attributes that `height` and `width` name.
    private func imageSize(_ file: HDF5File, _ url: URL) throws -> (height: Int, width: Int) {
        guard let heightName = configuration.height, let widthName = configuration.width else {
            throw IOError(file: url.path, "layout 'flat' needs the keys 'height' and 'width' (datasets or attributes "
                          + "holding the image size, e.g. PyIR's '/data/ypixels' and '/data/xpixels')")
        }
        let datasets = try file.datasetNames()
        func integer(_ key: String, _ name: String) throws -> Int {
            let absolute = name.hasPrefix("/") ? name : "/" + name
            if datasets.contains(absolute) {
                let (shape, values) = try file.readFloats(absolute)
                guard values.count == 1, let v = values.first, v == v.rounded(), v >= 1 else {
                    throw IOError(file: url.path, "'\(key)' names dataset '\(name)' of shape \(shape) holding \(values.prefix(4)); "
                                  + "expected one positive integer")
                }
                return Int(v)
            }
            for owner in ["/", configuration.spectra] {
                if let v = try? file.attributeInt(name, on: owner) {
                    guard v >= 1 else { throw IOError(file: url.path, "'\(key)': attribute '\(name)' on '\(owner)' is \(v)") }
                    return v
                }
            }
            throw IOError(file: url.path, "'\(key)' names '\(name)', which is neither a dataset nor an integer attribute "
                          + "of '/' or '\(configuration.spectra)'; the datasets are \(datasets.joined(separator: ", "))")
        }
        return (try integer("height", heightName), try integer("width", widthName))
    }

    private func tissueMask(_ file: HDF5File, _ url: URL, _ h: Int, _ w: Int, _ absorbance: [Float]) throws -> Mask {
        if let name = configuration.mask, try file.datasetNames().contains(name.hasPrefix("/") ? name : "/" + name) {
            let (shape, values) = try file.readFloats(name)
            do {
                return Mask(height: h, width: w, pixels: try configuration.layout.mask(shape: shape, values: values, height: h, width: w))
            } catch let e as LayoutError {
                throw IOError(file: url.path, "dataset '\(name)' \(e.description)")
            }
        }
        let threshold = otsuThreshold(absorbance)
        return configuration.tissue.clean(Mask(height: h, width: w, pixels: absorbance.map { $0 > threshold }))
    }
}

/// What the reader does with NaN or infinite spectra values.
public enum NonFinitePolicy: String, Codable, Sendable {
    /// Refuse the file, naming the count and the first position.
    case error
    /// Set them to 0 and leave their pixels out of the tissue mask.
    case zero
}

/// The clean-up of a computed tissue mask (Otsu's threshold on integrated absorbance); none by
/// default (`modalities/infrared.yaml` turns it on).
public struct TissueRule: Codable, Sendable, Equatable {
    /// Background regions enclosed by tissue with fewer pixels than this become tissue (0: none).
    public var fillHolesSmallerThan = 0
    /// Tissue regions with fewer pixels than this are dropped (0: none).
    public var removeSpecksSmallerThan = 0

    public init() {}

    /// - Throws: `ConfigurationError` naming `source` when a size is negative.
    func validate(source: String) throws {
        guard fillHolesSmallerThan >= 0, removeSpecksSmallerThan >= 0 else {
            throw ConfigurationError(source: source, message: "key 'tissue': sizes must not be negative, got "
                                     + "fillHolesSmallerThan \(fillHolesSmallerThan), removeSpecksSmallerThan \(removeSpecksSmallerThan)")
        }
    }

    public func clean(_ mask: Mask) -> Mask {
        mask.removingSpecks(smallerThan: removeSpecksSmallerThan).fillingHoles(smallerThan: fillHolesSmallerThan)
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
