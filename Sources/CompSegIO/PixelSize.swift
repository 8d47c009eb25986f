import Foundation

/// The physical size of one pixel in micrometres, along x (columns) and y (rows): what turns
/// pixel counts into tissue and tumor areas, and what figures and exported pictures carry as
/// their scale.
public struct PixelSize: Sendable, Equatable, Codable, CustomStringConvertible {
    public let x: Double, y: Double

    /// nil unless both sides lie in `plausible`.
    public init?(x: Double, y: Double) {
        guard Self.plausible.contains(x), Self.plausible.contains(y) else { return nil }
        (self.x, self.y) = (x, y)
    }

    /// The sides a pixel may have, in µm: 1 nm to 10 cm. Outside, a record is damaged or no
    /// length (areas would be 0 or infinite, and no PNG could say the size).
    public static let plausible = 1e-3...1e5

    /// A square pixel `side` µm wide; nil unless in `plausible`.
    public init?(_ side: Double) { self.init(x: side, y: side) }

    /// Reads "0.25" (square) or "0.25x0.5" (x, then y), as `text` writes it; nil otherwise.
    public init?(text: String) {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        switch parts.count {
        case 1: guard let side = parts[0] else { return nil }; self.init(side)
        case 2: guard let x = parts[0], let y = parts[1] else { return nil }; self.init(x: x, y: y)
        default: return nil
        }
    }

    /// "0.25" or "0.25x0.5": the form `init(text:)` reads and sample metadata records.
    public var text: String { x == y ? "\(x)" : "\(x)x\(y)" }

    /// "0.25 µm" or "0.25 × 0.5 µm", at 4 significant digits.
    public var description: String {
        func g(_ v: Double) -> String { String(format: "%.4g", v) }
        return (x == y ? g(x) : "\(g(x)) × \(g(y))") + " µm"
    }

    /// The area of one pixel in µm².
    public var area: Double { x * y }

    /// The area of `pixels` pixels in mm².
    public func squareMillimetres(_ pixels: Int) -> Double { Double(pixels) * area / 1e6 }

    /// The pixel of an image `factor.x`, `factor.y` times coarser (a level read at half size: 2, 2).
    public func scaled(by factor: (x: Double, y: Double)) -> PixelSize? { PixelSize(x: x * factor.x, y: y * factor.y) }

    /// Pixels per metre along x and y, rounded, as PNG's pHYs chunk stores them (at most 2³¹ − 1
    /// each: a side of `plausible` gives 10 to 10⁹).
    public var pixelsPerMetre: (x: UInt32, y: UInt32) { (UInt32((1e6 / x).rounded()), UInt32((1e6 / y).rounded())) }
}
