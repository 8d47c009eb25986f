import CompSegCore
import Foundation

/// What the reader does with NaN or infinite spectra values.
public enum NonFinitePolicy: String, ConfigurationChoice, Sendable {
    /// Refuse the file, naming the count and the first position.
    case error
    /// Set them to 0 and leave their pixels out of the tissue mask.
    case zero
}

/// How a spectral reader computes a tissue mask where the file has none, and its clean-up (none
/// by default; `modalities/infrared.yaml` turns it on).
public struct TissueRule: Codable, Sendable, Equatable {
    public enum Method: String, ConfigurationChoice, Sendable {
        /// Otsu's threshold on the mean over bands (integrated absorbance; a Raman map's mean
        /// intensity): for spots or cores with background around them. A few extreme pixels (a
        /// hot pixel, a cosmic ray) set apart as a class of their own are taken as outliers.
        case otsu
        /// Every pixel (with finite values): for maps taken inside tissue, where Otsu's threshold
        /// would split the tissue itself.
        case all
        /// Where the mean over bands exceeds `threshold` (the file's units): for a background
        /// level the lab knows.
        case above
    }
    public var method = Method.otsu
    /// The mean over bands above which a pixel is tissue, for `method: above`.
    public var threshold: Double?
    /// Background regions enclosed by tissue with fewer pixels than this become tissue (0: none).
    public var fillHolesSmallerThan = 0
    /// Tissue regions with fewer pixels than this are dropped (0: none).
    public var removeSpecksSmallerThan = 0

    public init() {}

    private enum CodingKeys: String, CodingKey { case method, threshold, fillHolesSmallerThan, removeSpecksSmallerThan }

    /// Every key may be left out (its default is taken), `threshold` among them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decodeIfPresent(Method.self, forKey: .method) ?? method
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold)
        fillHolesSmallerThan = try c.decodeIfPresent(Int.self, forKey: .fillHolesSmallerThan) ?? 0
        removeSpecksSmallerThan = try c.decodeIfPresent(Int.self, forKey: .removeSpecksSmallerThan) ?? 0
    }

    /// - Throws: `ConfigurationError` naming `source` when a size is negative.
    func validate(source: String) throws {
        guard fillHolesSmallerThan >= 0, removeSpecksSmallerThan >= 0 else {
            throw ConfigurationError(source: source, message: "key 'tissue': sizes must not be negative, got "
                                     + "fillHolesSmallerThan \(fillHolesSmallerThan), removeSpecksSmallerThan \(removeSpecksSmallerThan)")
        }
        switch (method, threshold) {
        case (.above, nil):
            throw ConfigurationError(source: source, message: "key 'tissue': method above needs a threshold (the mean over bands "
                                     + "above which a pixel is tissue, in the file's units)")
        case (.above, let t?) where !t.isFinite:
            throw ConfigurationError(source: source, message: "key 'tissue': threshold must be a finite number, got \(t)")
        case (.otsu, _?), (.all, _?):
            throw ConfigurationError(source: source, message: "key 'tissue': threshold is for method above, not \(method.rawValue)"
                                     + " (a settings file drops a manifest's with threshold: null)")
        default: break
        }
    }

    /// The tissue mask from each pixel's mean over bands, cleaned.
    func mask(means: [Float], height: Int, width: Int) throws -> Mask {
        let pixels: [Bool]
        switch method {
        case .all: pixels = [Bool](repeating: true, count: means.count)
        case .otsu: let cut = otsuThreshold(means, ignoringOutliers: true); pixels = means.map { $0 > cut }
        case .above: let cut = Float(threshold ?? 0); pixels = means.map { $0 > cut }
        }
        return clean(try Mask(height: height, width: width, pixels: pixels))
    }

    public func clean(_ mask: Mask) -> Mask {
        mask.removingSpecks(smallerThan: removeSpecksSmallerThan).fillingHoles(smallerThan: fillHolesSmallerThan)
    }
}
