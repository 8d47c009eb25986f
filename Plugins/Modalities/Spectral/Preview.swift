import CompSegCore
import Foundation

/// How a spectral image is shown as a colour picture (what overlays are drawn on).
///
/// Configuration forms (JSON or YAML): `{"kind": "absorbance"}`,
/// `{"kind": "bands", "wavenumbers": [1655, 1545, 1240]}`, `{"kind": "components"}`.
public enum SpectralPreview: Equatable, Sendable {
    /// Grey integrated absorbance (the mean over bands): high absorbance dark, like a stained slide.
    case absorbance
    /// False colour: the bands nearest these three wavenumbers (cm⁻¹) → red, green, blue.
    case bands([Double])
    /// The first three principal components of the image's own tissue pixels → red, green, blue
    /// (so red shows the strongest variation).
    case components

    /// Tissue pixels the `components` preview fits its PCA to, at most; evenly spaced beyond.
    public static let maxFitPixels = 20_000

    /// Renders a channels-first cube as an H×W colour image. Each colour channel is scaled to
    /// 0…255 between its 1st and 99th percentiles over the tissue pixels (all pixels when
    /// `tissue` is nil or has no tissue), clipping beyond; a channel with no spread is mid-grey.
    /// Non-tissue pixels are white when `tissue` marks any tissue. Non-finite values are left out
    /// of the percentiles and drawn as the channel's low end.
    /// - Parameters:
    ///   - cube: B×H×W, row-major (band slowest).
    ///   - wavenumbers: the B band positions, ascending or descending.
    ///   - tissue: H×W, row-major; true = tissue.
    /// - Throws: `SpectralError` when the sizes disagree, a wavenumber is not finite, a `bands`
    ///   wavenumber lies outside the axis by more than one band spacing or does not come in three,
    ///   or `components` has fewer than three bands or two pixels.
    public func render(cube: [Float], bands: Int, height: Int, width: Int, wavenumbers: [Double],
                       tissue: [Bool]?) throws -> RGBImage {
        var drawing = try Drawing(self, bands: bands, height: height, width: width, wavenumbers: wavenumbers)
        guard cube.count == bands * height * width else {
            throw SpectralError("preview: \(cube.count) values are not a cube of \(bands)×\(height)×\(width)")
        }
        drawing.add(rows: 0, cube)
        return try drawing.finish(tissue: tissue, rowsPerRead: height) { _, _ in cube }
    }

    /// A preview drawn from an image read a band of whole rows at a time, as `render` draws it:
    /// hand every band of rows to `add`, top to bottom, then `finish` draws the picture
    /// (`components` reads the image twice more there, for its fit and its scores). Holds one or
    /// three floats a pixel.
    public struct Drawing {
        let preview: SpectralPreview
        let bands: Int, height: Int, width: Int
        /// `bands`: the band shown in each colour.
        let picked: [Int]
        /// `absorbance`: the sum over bands so far; `bands`: the picked bands' planes.
        var channels: [[Float]]

        /// - Throws: `SpectralError` as `render` does, for what the sizes and axis alone tell.
        public init(_ preview: SpectralPreview, bands: Int, height: Int, width: Int, wavenumbers: [Double]) throws {
            guard bands >= 1, height >= 1, width >= 1 else {
                throw SpectralError("preview: bands, height and width must be positive, got \(bands)×\(height)×\(width)")
            }
            guard wavenumbers.count == bands else {
                throw SpectralError("preview: \(wavenumbers.count) wavenumbers for \(bands) bands")
            }
            guard wavenumbers.allSatisfy(\.isFinite) else { throw SpectralError("preview: the wavenumber axis holds non-finite values") }
            (self.preview, self.bands, self.height, self.width) = (preview, bands, height, width)
            let plane = height * width
            switch preview {
            case .absorbance: (picked, channels) = ([], [[Float](repeating: 0, count: plane)])
            case .bands(let targets):
                picked = try SpectralPreview.nearestBands(targets, wavenumbers)
                channels = picked.map { _ in [Float](repeating: 0, count: plane) }
            case .components: (picked, channels) = ([], [])
            }
        }

        /// Takes rows `y0 ..< y0 + values.count / (bands · width)`: B × rows × W, channels first.
        public mutating func add(rows y0: Int, _ values: [Float]) {
            let n = values.count / bands, p0 = y0 * width
            values.withUnsafeBufferPointer { v in
                for c in channels.indices {
                    channels[c].withUnsafeMutableBufferPointer { target in
                        let out = target.baseAddress! + p0
                        if preview == .absorbance {
                            for k in 0..<bands { let band = v.baseAddress! + k * n; for i in 0..<n { out[i] += band[i] } }
                        } else {
                            let band = v.baseAddress! + picked[c] * n
                            for i in 0..<n { out[i] = band[i] }
                        }
                    }
                }
            }
        }

        /// The picture, once every row was added.
        /// - Parameters:
        ///   - tissue: H×W, row-major; true = tissue.
        ///   - rows: rows `y0 ..< y0 + count` as `add` takes them (`components` only), read `rowsPerRead` at a time.
        public func finish(tissue: [Bool]?, rowsPerRead: Int, rows: (_ y0: Int, _ count: Int) throws -> [Float]) throws -> RGBImage {
            let plane = height * width
            if let tissue, tissue.count != plane {
                throw SpectralError("preview: tissue mask has \(tissue.count) pixels, the image \(height)×\(width) = \(plane)")
            }
            let foreground = tissue.flatMap { $0.contains(true) ? $0 : nil }
            var planes = channels
            switch preview {
            case .absorbance: planes = [planes[0].map { $0 / Float(bands) }]
            case .bands: break
            case .components:
                planes = try SpectralPreview.principalComponents(bands: bands, height: height, width: width, tissue: foreground,
                                                                 rowsPerRead: rowsPerRead, rows: rows)
            }
            var scaled = planes.map { SpectralPreview.robustScale($0, over: foreground) }
            if preview == .absorbance { scaled[0] = scaled[0].map { 255 - $0 } }
            var bytes = [UInt8](repeating: 255, count: plane * 3)
            for p in 0..<plane where foreground?[p] ?? true {
                for c in 0..<3 { bytes[p * 3 + c] = scaled[scaled.count == 1 ? 0 : c][p] }
            }
            return try RGBImage(height: height, width: width, bytes: bytes)
        }
    }

    /// The index of the band nearest each of the three `targets` (the lower index on a tie).
    static func nearestBands(_ targets: [Double], _ axis: [Double]) throws -> [Int] {
        guard targets.count == 3 else {
            throw SpectralError("preview 'bands': needs exactly three wavenumbers (red, green, blue), got \(targets.count)")
        }
        let (lo, hi) = (axis.min()!, axis.max()!)
        let spacing = axis.count > 1 ? (hi - lo) / Double(axis.count - 1) : 0
        return try targets.map { target in
            guard target.isFinite, target >= lo - spacing, target <= hi + spacing else {
                throw SpectralError("preview 'bands': wavenumber \(target) cm⁻¹ lies outside the axis \(lo)…\(hi) cm⁻¹ "
                                    + "by more than one band spacing (\(spacing) cm⁻¹)")
            }
            return axis.indices.min { Swift.abs(axis[$0] - target) < Swift.abs(axis[$1] - target) }!
        }
    }

    /// The scores of every pixel on the first three principal components, fitted to the tissue
    /// pixels (all pixels when there are fewer than two), evenly spaced down to `maxFitPixels`;
    /// the image is read through `rows` (B × count × W, channels first), `rowsPerRead` rows at a time.
    static func principalComponents(bands b: Int, height: Int, width: Int, tissue: [Bool]?, rowsPerRead: Int,
                                    rows: (_ y0: Int, _ count: Int) throws -> [Float]) throws -> [[Float]] {
        guard b >= 3 else { throw SpectralError("preview 'components': needs at least 3 bands, got \(b)") }
        let plane = height * width
        var chosen = tissue.map { mask in (0..<plane).filter { mask[$0] } } ?? Array(0..<plane)
        if chosen.count < 2 { chosen = Array(0..<plane) }
        guard chosen.count >= 2 else { throw SpectralError("preview 'components': needs at least 2 pixels, got \(plane)") }
        let stride = (chosen.count + maxFitPixels - 1) / maxFitPixels
        let fitPixels = Swift.stride(from: 0, to: chosen.count, by: stride).map { chosen[$0] }
        var sample = [Float](repeating: 0, count: fitPixels.count * b)
        var next = 0  // fitPixels ascend: each band of rows takes those it holds
        for y0 in Swift.stride(from: 0, to: height, by: rowsPerRead) where next < fitPixels.count {
            let n = min(rowsPerRead, height - y0), (p0, p1) = (y0 * width, (y0 + n) * width)
            guard fitPixels[next] < p1 else { continue }
            let cube = try rows(y0, n), m = n * width
            while next < fitPixels.count, fitPixels[next] < p1 {
                for k in 0..<b { sample[next * b + k] = cube[k * m + fitPixels[next] - p0] }
                next += 1
            }
        }
        let pca: PCA
        do { pca = try PCA(fitting: sample, bands: b, components: 3) } catch {
            throw SpectralError("preview 'components': \(error)")
        }
        // Project in blocks of pixels, so the pixels-first copy stays small.
        var scores = [[Float]](repeating: [Float](repeating: 0, count: plane), count: 3)
        let block = 4096
        for y0 in Swift.stride(from: 0, to: height, by: rowsPerRead) {
            let n = min(rowsPerRead, height - y0), p0 = y0 * width, m = n * width
            let cube = try rows(y0, n)
            for first in Swift.stride(from: 0, to: m, by: block) {
                let count = min(block, m - first)
                var pixels = [Float](repeating: 0, count: count * b)
                for k in 0..<b { for i in 0..<count { pixels[i * b + k] = cube[k * m + first + i] } }
                let projected = try pca.transform(pixels)
                for i in 0..<count { for c in 0..<3 { scores[c][p0 + first + i] = projected[i * 3 + c] } }
            }
        }
        return scores
    }

    /// `values` mapped linearly from their 1st…99th percentile (over the pixels `over` marks, or
    /// all) to 0…255, clipped; 128 everywhere when that range is empty.
    static func robustScale(_ values: [Float], over mask: [Bool]?) -> [UInt8] {
        let sorted = values.indices.filter { (mask?[$0] ?? true) && values[$0].isFinite }.map { values[$0] }.sorted()
        guard !sorted.isEmpty else { return [UInt8](repeating: 128, count: values.count) }
        func percentile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let (below, fraction) = (Int(position.rounded(.down)), position - position.rounded(.down))
            let above = min(below + 1, sorted.count - 1)
            return Double(sorted[below]) + fraction * (Double(sorted[above]) - Double(sorted[below]))
        }
        let (lo, hi) = (percentile(0.01), percentile(0.99))
        guard hi > lo else { return [UInt8](repeating: 128, count: values.count) }
        return values.map { v in
            guard v.isFinite else { return 0 }
            return UInt8(max(0, min(255, (255 * (Double(v) - lo) / (hi - lo)).rounded())))
        }
    }
}

extension SpectralPreview: Codable {
    private enum Kind: String, CaseIterable { case absorbance, bands, components }
    private enum CodingKeys: String, CodingKey { case kind, wavenumbers }
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        let name = try c.decode(String.self, forKey: .kind)
        guard let kind = Kind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown preview kind '\(name)'; expected one of \(kinds)")
        }
        let given = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        let allowed = kind == .bands ? ["kind", "wavenumbers"] : ["kind"]
        if let unknown = given.sorted().first(where: { !allowed.contains($0) }) {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription:
                "preview kind '\(name)' takes no key '\(unknown)'" + (kind == .bands ? " (only 'wavenumbers')" : ""))
        }
        switch kind {
        case .absorbance: self = .absorbance
        case .components: self = .components
        case .bands:
            guard c.contains(.wavenumbers) else {
                throw DecodingError.keyNotFound(CodingKeys.wavenumbers, .init(codingPath: c.codingPath, debugDescription:
                    "preview kind 'bands' needs 'wavenumbers': three numbers (cm⁻¹) for red, green, blue"))
            }
            let wavenumbers = try c.decode([Double].self, forKey: .wavenumbers)
            guard wavenumbers.count == 3 else {
                throw DecodingError.dataCorruptedError(forKey: .wavenumbers, in: c, debugDescription:
                    "preview kind 'bands' needs exactly three wavenumbers (red, green, blue), got \(wavenumbers.count)")
            }
            self = .bands(wavenumbers)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .absorbance: try c.encode(Kind.absorbance.rawValue, forKey: .kind)
        case .components: try c.encode(Kind.components.rawValue, forKey: .kind)
        case .bands(let wavenumbers):
            try c.encode(Kind.bands.rawValue, forKey: .kind)
            try c.encode(wavenumbers, forKey: .wavenumbers)
        }
    }
}
