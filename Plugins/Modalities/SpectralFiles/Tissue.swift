import CompSegCore
import Foundation

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
