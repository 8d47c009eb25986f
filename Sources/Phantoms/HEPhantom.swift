import CompSegCore
import CompSegNN
import Foundation

/// A synthetic H&E-stained tissue microarray, as 8-bit RGB: the spots of `SpotLayout` (the same
/// tissue geometry as the spectral phantoms) rendered by Beer–Lambert from two stains,
/// haematoxylin (purple nuclei) and eosin (pink cytoplasm and stroma), with the stain vectors
/// of Macenko's reference. Stroma is strong eosin with fibre texture and sparse small elongated
/// nuclei; epithelium holds round nuclei in paler cytoplasm; tumor has larger, denser, darker and
/// irregular nuclei. Outside the tissue the slide is white. Stain strength varies between spots,
/// as between slides.
public struct HEPhantom: Sendable {
    public struct Settings: TissueMicroarraySettings, Codable, Equatable {
        public var spots = 60
        public var size = 64
        public var valuesPerPixel: Int { 3 }
        public var seed: UInt64 = 0
        public var minimumTumorFraction = 0.1, maximumTumorFraction = 0.6
        public var validationFraction = 0.2, testFraction = 0.2
        public init() {}
    }

    public struct Spot: Sendable {
        public let id: String
        public let label: SampleLabel
        public let split: Split
        /// H×W×3 RGB bytes.
        public let rgb: [UInt8]
        public let tissue: [Bool]
        public let truth: [Bool]
    }

    /// Optical density per unit of each stain (natural log), Macenko's reference H&E vectors.
    static let haematoxylin: (Float, Float, Float) = (0.5626, 0.7201, 0.4062)
    static let eosin: (Float, Float, Float) = (0.2159, 0.8012, 0.5581)

    public let settings: Settings
    public init(_ settings: Settings) { self.settings = settings }

    public func spot(_ i: Int) -> Spot {
        let (label, split) = settings.plan(i)
        let n = settings.size
        var (layout, g) = settings.layout(i)
        var h = [Float](repeating: 0, count: n * n), e = h
        let fibres = SpotLayout.smoothField(n, blobs: 24, radius: Double(n) / 24, &g)
        let (fMin, fMax) = (fibres.min() ?? 0, fibres.max() ?? 1)
        for p in 0..<(n * n) {
            let texture = Float((fibres[p] - fMin) / max(1e-9, fMax - fMin))
            switch layout.components[p] {
            case .background: break
            case .stroma: e[p] = 0.7 + 0.5 * texture; h[p] = 0.08
            case .epithelium: e[p] = 0.45 + 0.1 * texture; h[p] = 0.12
            case .tumor: e[p] = 0.32 + 0.1 * texture; h[p] = 0.28  // hyperchromatic: more purple between the nuclei too
            }
        }
        // Nuclei: candidates everywhere, kept by the density of the component under their centre.
        let scale = Float(n) / 64
        for _ in 0..<Int(320 * scale * scale) {
            let (cy, cx) = (g.nextUniform() * Float(n), g.nextUniform() * Float(n))
            let component = layout.components[min(n - 1, Int(cy)) * n + min(n - 1, Int(cx))]
            let (keep, radius, darkness, irregularity, elongation): (Float, Float, Float, Float, Float)
            switch component {
            case .background: continue
            case .stroma: (keep, radius, darkness, irregularity, elongation) = (0.12, 1.3, 1.0, 0.05, 2.2)
            case .epithelium: (keep, radius, darkness, irregularity, elongation) = (0.55, 1.7, 1.1, 0.08, 1.15)
            case .tumor: (keep, radius, darkness, irregularity, elongation) = (0.9, 2.5, 1.6, 0.3, 1.3)
            }
            guard g.nextUniform() < keep else { continue }
            let r0 = radius * scale * (0.8 + 0.4 * g.nextUniform())
            let (angle, phase, lobes) = (Float.pi * g.nextUniform(), 2 * Float.pi * g.nextUniform(), Float(2 + Int(g.nextUniform() * 3)))
            let (ca, sa) = (cos(angle), sin(angle))
            let reach = Int((r0 * elongation * (1 + irregularity)).rounded(.up)) + 1
            for y in max(0, Int(cy) - reach)...min(n - 1, Int(cy) + reach) {
                for x in max(0, Int(cx) - reach)...min(n - 1, Int(cx) + reach) {
                    let (dy, dx) = (Float(y) + 0.5 - cy, Float(x) + 0.5 - cx)
                    let (u, v) = ((dx * ca + dy * sa) / elongation, -dx * sa + dy * ca)
                    let theta = atan2(v, u)
                    let edge = r0 * (1 + irregularity * sin(lobes * theta + phase))
                    let d = (u * u + v * v).squareRoot()
                    guard d < edge + 0.7 else { continue }
                    let coverage = min(1, edge + 0.7 - d)  // a soft rim
                    if layout.components[y * n + x] != .background { h[y * n + x] += coverage * darkness }
                }
            }
        }
        // Per-spot stain strength (as between slides), thickness within the spot, noise.
        let (hs, es) = (0.85 + 0.3 * g.nextUniform(), 0.85 + 0.3 * g.nextUniform())
        var rgb = [UInt8](repeating: 255, count: n * n * 3)
        for p in 0..<(n * n) {
            let t = layout.components[p] == .background ? 0 : layout.thickness[p]
            let (hp, ep) = (h[p] * hs * t, e[p] * es * t)
            let od = (Self.haematoxylin.0 * hp + Self.eosin.0 * ep, Self.haematoxylin.1 * hp + Self.eosin.1 * ep,
                      Self.haematoxylin.2 * hp + Self.eosin.2 * ep)
            for (c, density) in [od.0, od.1, od.2].enumerated() {
                let value = 240 * Foundation.exp(-density) + 4 * g.nextNormal()
                rgb[p * 3 + c] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return Spot(id: String(format: "spot%03d", i), label: label, split: split, rgb: rgb, tissue: layout.tissue,
                    truth: layout.truth)
    }
}
