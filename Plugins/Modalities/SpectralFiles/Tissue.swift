import CompSegCore
import Foundation

/// What the reader does with NaN or infinite spectra values.
public enum NonFinitePolicy: String, ConfigurationChoice, Sendable {
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
