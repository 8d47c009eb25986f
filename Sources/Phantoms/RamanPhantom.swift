import CompSegCore
import CompSegNN
import Foundation

/// Raman spectra of tissue components as sums of Lorentzian bands (centre, full width at half
/// maximum, height), after the band assignments usual in Raman histopathology: nucleic acids
/// (785), phenylalanine's ring breathing (1004), amide III (1250), CH₂ deformation (1450) and
/// amide I (1660).
public struct RamanSpectrum: Sendable {
    public let bands: [(centre: Double, fwhm: Double, height: Double)]

    /// The intensity at each Raman shift (cm⁻¹), peak heights relative to 1.
    public func intensity(at shifts: [Double]) -> [Float] {
        shifts.map { v in
            Float(bands.reduce(0.0) { (sum: Double, b) -> Double in
                let x = (v - b.centre) / (b.fwhm / 2)
                return sum + b.height / (1 + x * x)
            })
        }
    }

    /// Collagen-rich stroma: strong amide III, little nucleic acid.
    public static let stroma = RamanSpectrum(bands: [(785, 18, 0.10), (1004, 8, 0.45), (1250, 40, 0.70), (1450, 30, 0.80),
                                                     (1660, 35, 1.00)])
    /// Cell-rich epithelium: more nucleic acid and lipid, less collagen.
    public static let epithelium = RamanSpectrum(bands: [(785, 18, 0.35), (1004, 8, 0.50), (1250, 40, 0.45), (1450, 30, 0.90),
                                                         (1660, 35, 0.95)])
    /// Tumor: epithelium with about 30% more nucleic acid and a slightly lower amide I to CH₂
    /// ratio — subtle next to the fluorescence, thickness and shot noise of real maps.
    public static let tumor = RamanSpectrum(bands: [(785, 18, 0.45), (1004, 8, 0.52), (1250, 40, 0.43), (1450, 30, 0.95),
                                                    (1660, 35, 0.90)])
}

/// A synthetic Raman tissue microarray, in counts: the spots of `SpotLayout` (the same tissue
/// geometry as the infrared phantom), each pixel its component's Lorentzian bands scaled by the
/// thickness, on a broad fluorescence background several times stronger that varies smoothly
/// across the spot and between spots, with shot noise (σ = √counts) and, in about 1% of pixels,
/// a cosmic-ray spike of one or two bands 3–50× the signal there. Outside the tissue: the
/// substrate's weak flat background and its noise.
public struct RamanPhantom: Sendable {
    public struct Settings: TissueMicroarraySettings, Codable, Equatable {
        public var spots = 60
        public var size = 48
        public var seed: UInt64 = 0
        public var bands = 300
        public var valuesPerPixel: Int { bands }
        /// First and last Raman shift (cm⁻¹): the fingerprint region.
        public var from = 400.0, to = 1800.0
        /// Counts at the strongest band of unit thickness.
        public var signal: Float = 800
        /// Fluorescence counts, drawn per spot from this range (then ×0.7–1.3 across the spot).
        public var fluorescence: ClosedRange<Float> = 1500...5000
        /// Share of pixels with a cosmic-ray spike.
        public var spikeFraction = 0.01
        public var minimumTumorFraction = 0.1, maximumTumorFraction = 0.6
        public var validationFraction = 0.2, testFraction = 0.2
        public init() {}
    }

    public struct Spot: Sendable {
        public let id: String
        public let label: SampleLabel
        public let split: Split
        /// Band-major B×H×W counts.
        public let counts: [Float]
        public let tissue: [Bool]
        public let truth: [Bool]
        /// Pixel and band of every planted spike.
        public let spikes: [(pixel: Int, band: Int)]
    }

    public let settings: Settings
    public let shifts: [Double]
    private let spectra: (stroma: [Float], epithelium: [Float], tumor: [Float])

    public init(_ settings: Settings) {
        self.settings = settings
        let b = settings.bands
        // To 0.001 cm⁻¹, as instruments write them.
        shifts = (0..<b).map { ((settings.from + (settings.to - settings.from) * Double($0) / Double(max(1, b - 1))) * 1000).rounded() / 1000 }
        spectra = (RamanSpectrum.stroma.intensity(at: shifts), RamanSpectrum.epithelium.intensity(at: shifts),
                   RamanSpectrum.tumor.intensity(at: shifts))
    }

    public func spot(_ i: Int) -> Spot {
        let (label, split) = settings.plan(i)
        let n = settings.size, b = settings.bands, plane = n * n
        var (layout, g) = settings.layout(i)
        // Fluorescence: a per-spot level and curve, ×0.7–1.3 smoothly across the spot.
        let level = settings.fluorescence.lowerBound + (settings.fluorescence.upperBound - settings.fluorescence.lowerBound) * g.nextUniform()
        let decay = 0.6 + 0.8 * Double(g.nextUniform())
        let curve = shifts.map { v -> Float in
            let t = (v - settings.from) / max(1, settings.to - settings.from)
            return Float(0.35 + 0.65 * Foundation.exp(-decay * t) + 0.3 * t * (1 - t))
        }
        let field = SpotLayout.smoothField(n, blobs: 5, radius: Double(n) / 3, &g)
        let (fMin, fMax) = (field.min() ?? 0, field.max() ?? 1)
        var counts = [Float](repeating: 0, count: b * plane)
        var spikes: [(pixel: Int, band: Int)] = []
        for p in 0..<plane {
            let source: [Float]?
            switch layout.components[p] {
            case .background: source = nil
            case .stroma: source = spectra.stroma
            case .epithelium: source = spectra.epithelium
            case .tumor: source = spectra.tumor
            }
            let glow = level * Float(0.7 + 0.6 * (field[p] - fMin) / max(1e-9, fMax - fMin))
            for k in 0..<b {
                let mean = source.map { settings.signal * layout.thickness[p] * $0[k] + glow * curve[k] } ?? 150
                counts[k * plane + p] = ((mean + mean.squareRoot() * g.nextNormal()) * 100).rounded() / 100  // to 0.01 count
            }
            if Double(g.nextUniform()) < settings.spikeFraction {
                let band = Int(g.nextUniform() * Float(b - 1))
                let factor = 3 + 47 * g.nextUniform()
                for k in band..<min(b, band + 1 + (g.nextUniform() < 0.3 ? 1 : 0)) {
                    counts[k * plane + p] = (counts[k * plane + p] * (1 + factor) * 100).rounded() / 100
                    spikes.append((p, k))
                }
            }
        }
        return Spot(id: String(format: "spot%03d", i), label: label, split: split, counts: counts, tissue: layout.tissue,
                    truth: layout.truth, spikes: spikes)
    }
}
