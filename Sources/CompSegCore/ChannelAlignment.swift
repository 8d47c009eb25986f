import Foundation
import CompSegNN

extension ChannelAxis {
    /// A short description for messages: "426 bands, 1800–948 cm⁻¹" or "3 bands R, G, B".
    public var summary: String {
        switch self {
        case .spectral(let values, let unit):
            guard let first = values.first, let last = values.last else { return "no bands" }
            return "\(values.count) bands, \(Self.format(first))–\(Self.format(last)) \(unit)"
        case .bands(let names):
            return "\(names.count) bands " + (names.count <= 8 ? names.joined(separator: ", ")
                                               : names.prefix(4).joined(separator: ", ") + ", …, " + names.last!)
        }
    }

    /// Whether two spectral axes name the same positions: the same count, each position within a
    /// tenth of the axis' median band spacing of the other's (files store axes rounded, e.g. as float32).
    public static func matches(_ a: [Double], _ b: [Double]) -> Bool {
        guard a.count == b.count else { return false }
        let spacings = zip(a.dropFirst(), a).map { abs($0 - $1) }.sorted()
        let tolerance = spacings.isEmpty ? 1e-9 : 0.1 * spacings[spacings.count / 2]
        return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    private static func format(_ v: Double) -> String {
        Int(exactly: v).map(String.init) ?? (abs(v) < 1e15 ? String(format: "%.2f", v) : String(format: "%g", v))
    }
}

extension Sample {
    /// The sample with its channels in the order of `axis`, the one a fitted step or network was
    /// made on: unchanged when they match, its bands reversed when its spectral axis runs the other
    /// way (files store wavenumbers either way). Named bands are taken by position.
    /// - Throws: `SampleError` naming both axes when they differ otherwise, with `remedy` appended.
    public func aligned(to axis: ChannelAxis, by user: String, remedy: String) throws -> Sample {
        switch (channels, axis) {
        case (.spectral(let mine, _), .spectral(let fitted, _)):
            if ChannelAxis.matches(mine, fitted) { return self }
            if ChannelAxis.matches(mine.reversed(), fitted) { return reversingChannels(to: axis) }
        case (.bands(let mine), .bands(let fitted)) where mine.count == fitted.count:
            return self  // named bands (R, G, B; PC1…) are taken by position
        default:
            break
        }
        throw SampleError(id, "its channels (\(channels.summary)) are not those \(user) (\(axis.summary))\(firstDifference(from: axis)); \(remedy)")
    }

    /// Where two spectral axes of one count and the same ends (either way round) first part:
    /// ", first at band 7 (…): 1650 (theirs: 1660)"; "" for others, whose brief summaries differ already.
    private func firstDifference(from axis: ChannelAxis) -> String {
        guard case .spectral(var mine, _) = channels, case .spectral(let fitted, _) = axis, mine.count == fitted.count,
              mine.count > 1 else { return "" }
        if (mine.first! > mine.last!) != (fitted.first! > fitted.last!) { mine.reverse() }
        let spacings = zip(fitted.dropFirst(), fitted).map { abs($0 - $1) }.sorted()
        let tolerance = 0.1 * spacings[spacings.count / 2]
        guard abs(mine.first! - fitted.first!) <= tolerance, abs(mine.last! - fitted.last!) <= tolerance else { return "" }
        guard let k = mine.indices.first(where: { abs(mine[$0] - fitted[$0]) > tolerance }) else { return "" }
        return ", first at band \(k) (from 0, in the order of theirs): " + String(format: "%g (theirs: %g)", mine[k], fitted[k])
    }

    /// Whether its spectral axis descends (nil: named bands, or fewer than two positions).
    public var descendingAxis: Bool? {
        guard case .spectral(let values, _) = channels, let first = values.first, let last = values.last, first != last else { return nil }
        return first > last
    }

    /// The sample with its spectral axis running down (`descending`) or up: its bands reversed
    /// when it runs the other way; unchanged otherwise (and for named bands).
    public func oriented(descending: Bool) -> Sample {
        guard let mine = descendingAxis, mine != descending, case .spectral(let values, let unit) = channels else { return self }
        return reversingChannels(to: .spectral(values: values.reversed(), unit: unit))
    }

    /// The sample with its channel planes in reverse order, named by `axis`.
    private func reversingChannels(to axis: ChannelAxis) -> Sample {
        let (c, plane) = (image.shape[0], height * width)
        let reversed = Tensor(uninitialized: image.shape)  // every value written below
        image.withPlainBuffer { source in
            reversed.withMutablePlainBuffer { target in
                for k in 0..<c {
                    (target.baseAddress! + k * plane).update(from: source.baseAddress! + (c - 1 - k) * plane, count: plane)
                }
            }
        }
        var s = self
        s.image = reversed
        s.channels = axis
        return s
    }
}
