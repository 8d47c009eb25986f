import CompSegCore
import CompSegNN
import Foundation

/// A synthetic infrared tissue microarray: circular spots with empty background outside; healthy
/// tissue of epithelium (gland-like blobs) in stroma; in cancer spots, tumor regions covering a
/// chosen 10–60% of the tissue. Tumor differs from epithelium only by a small band shift and band
/// ratio (`TissueSpectrum.tumor`), under a smooth thickness variation (×0.6–1.4) and noise, so
/// neither total intensity nor one wavenumber separates it. Seeded: spot i is the same for the
/// same settings whatever else is generated.
public struct InfraredPhantom: Sendable {
    public struct Settings: TissueMicroarraySettings, Codable, Equatable {
        public var spots = 60
        public var size = 64
        public var seed: UInt64 = 0
        public var bands = 450
        public var valuesPerPixel: Int { bands }
        /// First and last wavenumber (cm⁻¹); the paper's crop runs from 1800 down to 948.
        public var from = 1800.0, to = 948.0
        /// Noise standard deviation, in absorbance units (amide I peaks near 1).
        public var noise: Float = 0.01
        public var minimumTumorFraction = 0.1, maximumTumorFraction = 0.6
        /// Fractions of spots for the validation and test splits (the rest train).
        public var validationFraction = 0.2, testFraction = 0.2
        public init() {}
    }

    /// One generated spot.
    public struct Spot: Sendable {
        public let id: String
        public let label: SampleLabel
        public let split: Split
        /// H×W×B, row-major (the default HDF5 layout's `/spectra`).
        public let spectra: [Float]
        public let tissue: [Bool]
        /// Tumor pixels (empty for cancer-free spots).
        public let truth: [Bool]
        public var tumorFraction: Double { Double(truth.filter { $0 }.count) / Double(max(1, tissue.filter { $0 }.count)) }
    }

    public let settings: Settings
    public let wavenumbers: [Double]
    private let spectra: (stroma: [Float], epithelium: [Float], tumor: [Float])

    public init(_ settings: Settings) {
        self.settings = settings
        let b = settings.bands
        wavenumbers = (0..<b).map { settings.from + (settings.to - settings.from) * Double($0) / Double(max(1, b - 1)) }
        spectra = (TissueSpectrum.stroma.absorbance(at: wavenumbers), TissueSpectrum.epithelium.absorbance(at: wavenumbers),
                   TissueSpectrum.tumor.absorbance(at: wavenumbers))
    }

    /// The label and split of spot `i` (see `TissueMicroarraySettings.plan`).
    public func plan(_ i: Int) -> (label: SampleLabel, split: Split) { settings.plan(i) }

    public func spot(_ i: Int) -> Spot {
        let (label, split) = plan(i)
        let n = settings.size, b = settings.bands
        var (layout, g) = settings.layout(i)
        var cube = [Float](repeating: 0, count: n * n * b)
        for p in 0..<(n * n) {
            let base = p * b
            let source: [Float]
            switch layout.components[p] {
            case .background:
                for k in 0..<b { cube[base + k] = settings.noise * g.nextNormal() }
                continue
            case .stroma: source = spectra.stroma
            case .epithelium: source = spectra.epithelium
            case .tumor: source = spectra.tumor
            }
            let scale = layout.thickness[p]
            let offset = 0.02 * g.nextNormal()
            for k in 0..<b { cube[base + k] = scale * source[k] + offset + settings.noise * g.nextNormal() }
        }
        return Spot(id: String(format: "spot%03d", i), label: label, split: split, spectra: cube, tissue: layout.tissue,
                    truth: layout.truth)
    }
}
