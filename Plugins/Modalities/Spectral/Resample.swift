import Foundation

/// Linear interpolation onto a target axis, given as its `values` or as `count` evenly spaced
/// points `from` → `to` (both included; from > to gives a descending axis). The input axis may
/// be ascending or descending; every target point must lie within its range, or within a tenth
/// of its band spacing beyond an end (an axis written rounded, 400.0005 for 400), where it takes
/// the end band's value.
public struct SpectralResample: SpectralTransform, Equatable {
    public enum Target: Equatable, Sendable {
        case values([Double])
        case evenlySpaced(from: Double, to: Double, count: Int)
    }

    public var target: Target

    /// - Throws: `SpectralError` unless `values` is non-empty, finite and strictly monotonic.
    public init(values: [Double]) throws {
        target = .values(values)
        try validate()
    }

    /// - Throws: `SpectralError` unless `from` and `to` are finite and differ and `count` ≥ 2.
    public init(from: Double, to: Double, count: Int) throws {
        target = .evenlySpaced(from: from, to: to, count: count)
        try validate()
    }

    /// The target axis: the points the spectra are interpolated at, in order.
    public var targetAxis: [Double] {
        switch target {
        case .values(let values): return values
        case .evenlySpaced(let from, let to, let count):
            // The ends are set exactly, so `to` is not lost to rounding.
            return (0..<count).map { $0 == count - 1 ? to : from + (to - from) * Double($0) / Double(count - 1) }
        }
    }

    /// The most bands a resampled axis may have (more than any spectrometer writes; its axis is
    /// made before memory for the cube can be checked).
    static let maximumBands = 100_000

    private func validate() throws {
        switch target {
        case .values(let values):
            guard (1...Self.maximumBands).contains(values.count) else {
                throw SpectralError("'values' holds \(values.count) points; expected 1 to \(Self.maximumBands)")
            }
            _ = try ascendingOrder(values, named: "'values'")
        case .evenlySpaced(let from, let to, let count):
            guard from.isFinite, to.isFinite, from != to else {
                throw SpectralError("expected finite, different 'from' and 'to', got \(from) and \(to)")
            }
            guard (2...Self.maximumBands).contains(count) else {
                throw SpectralError("'count' must lie in 2…\(Self.maximumBands), got \(count)")
            }
        }
    }

    /// - Throws: `SpectralError` when the input axis is not strictly monotonic or a target point
    ///   lies outside its range.
    public func axis(_ wavenumbers: [Double]) throws -> [Double] {
        let up = try ascendingOrder(wavenumbers)  // monotonic: no sort, and it runs for every spectrum
        guard let first = up.first, let last = up.last else { throw SpectralError("empty wavenumber axis") }
        let (lo, hi, n) = (wavenumbers[first], wavenumbers[last], up.count)
        // A tenth of the band spacing at either end: how far beyond it a target point may lie.
        let (slackBelow, slackAbove) = n < 2 ? (0, 0) : (0.1 * (wavenumbers[up[1]] - lo), 0.1 * (hi - wavenumbers[up[n - 2]]))
        let target = targetAxis
        if let outside = target.first(where: { $0 < lo - slackBelow || $0 > hi + slackAbove }) {
            // 0, 1, … B−1: what a reader gives a file that names no axis (an ENVI header without 'wavelength').
            let bandIndex = wavenumbers.sorted().enumerated().allSatisfy { Double($0.offset) == $0.element }
            let (from, to) = (target.min() ?? 0, target.max() ?? 0)
            let hint = bandIndex ? ". That axis is 0, 1, 2, …: the band index, given where the file names no wavenumbers "
                + "(an ENVI header without a 'wavelength' list, a NumPy array without STEM_wavenumbers.npy beside it; inspect says so); add them"
                : lo > to && lo > 4000 ? ". It lies wholly above \(from)…\(to) and above 4000 cm⁻¹, where neither Raman shifts nor "
                    + "mid-infrared bands lie: wavelengths in nm read as wavenumbers, or absolute wavenumbers of the scattered light "
                    + "(10⁷/λ)? An axis in nm needs its unit written (an HDF5 'units' attribute 'nm', an ENVI 'wavelength units'); "
                    + "a Raman map's axis is the shift from the laser line: give its wavelengths in nm with the Raman modality's "
                    + "option excitationWavelength"
                : hi < 0 ? ". Negative shifts: the scattered light's wavelengths are shorter than the excitationWavelength given; "
                    + "a map taken with another laser?"
                : ". The files of another modality (an infrared map read as Raman, say), or an instrument range narrower than "
                    + "\(from)…\(to)? Read each with its modality, or set resample's from and to within \(lo)…\(hi) in a copy of "
                    + "the modality manifest (--modality path/to/copy.yaml) and train with it (a trained run applies the steps it "
                    + "was trained with)"
            throw SpectralError("target point \(outside) lies outside the axis this step receives, \(lo)…\(hi) (the file's, "
                                + "after the steps before this one); every target point must lie within it" + hint)
        }
        return target
    }

    public func apply(_ spectrum: [Float], wavenumbers: [Double]) throws -> [Float] {
        try requireMatching(spectrum, wavenumbers)
        let target = try axis(wavenumbers)
        let order = try ascendingOrder(wavenumbers)
        let x = order.map { wavenumbers[$0] }, y = order.map { Double(spectrum[$0]) }
        let n = x.count
        return target.map { t in
            // Within the slack beyond an end (checked above): the end band's value.
            if t <= x[0] { return Float(y[0]) }
            if t >= x[n - 1] { return Float(y[n - 1]) }
            // j: the last band with x[j] ≤ t.
            var (lo, hi) = (0, n - 1)
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if x[mid] <= t { lo = mid } else { hi = mid - 1 }
            }
            let j = lo
            guard j < n - 1, x[j] != t else { return Float(y[j]) }
            return Float(y[j] + (t - x[j]) / (x[j + 1] - x[j]) * (y[j + 1] - y[j]))
        }
    }
}

extension SpectralResample {
    private enum CodingKeys: String, CodingKey { case values, from, to, count }

    /// Exactly one form: `{values}` or `{from, to, count}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let even: [CodingKeys] = [.from, .to, .count]
        let given = even.filter { c.contains($0) }
        if c.contains(.values) {
            guard given.isEmpty else {
                throw SpectralError("expected either 'values' or 'from', 'to', 'count', not both "
                                    + "(got 'values' and \(given.map { "'\($0.stringValue)'" }.joined(separator: ", ")))")
            }
            try self.init(values: try c.decode([Double].self, forKey: .values))
        } else {
            guard given.count == even.count else {
                let missing = even.filter { !c.contains($0) }.map { "'\($0.stringValue)'" }.joined(separator: ", ")
                throw SpectralError("expected either 'values' or all of 'from', 'to', 'count'; "
                                    + "missing \(missing)")
            }
            try self.init(from: try c.decode(Double.self, forKey: .from), to: try c.decode(Double.self, forKey: .to),
                          count: try c.decode(Int.self, forKey: .count))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch target {
        case .values(let values): try c.encode(values, forKey: .values)
        case .evenlySpaced(let from, let to, let count):
            try c.encode(from, forKey: .from); try c.encode(to, forKey: .to); try c.encode(count, forKey: .count)
        }
    }
}
