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
    public struct Settings: Codable, Sendable, Equatable {
        public var spots = 60
        public var size = 64
        public var seed: UInt64 = 0
        public var bands = 450
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

    /// The label and split of spot `i`: labels alternate; splits interleave so each holds both labels.
    public func plan(_ i: Int) -> (label: SampleLabel, split: Split) {
        let label: SampleLabel = i % 2 == 0 ? .cancer : .cancerFree
        let position = Double(i / 2 * 2) / Double(max(1, settings.spots))  // pairs share a split
        let split: Split = position < settings.testFraction ? .test
            : position < settings.testFraction + settings.validationFraction ? .val : .train
        return (label, split)
    }

    public func spot(_ i: Int) -> Spot {
        let (label, split) = plan(i)
        let n = settings.size, b = settings.bands
        var g = SeededGenerator(seed: settings.seed &* 0x100000001B3 &+ UInt64(i) &* 0x9E3779B97F4A7C15 &+ 1)
        let centre = Double(n - 1) / 2
        let radius = Double(n) * (0.40 + 0.06 * Double(g.nextUniform()))
        var tissue = [Bool](repeating: false, count: n * n)
        for r in 0..<n { for c in 0..<n {
            let (dy, dx) = (Double(r) - centre, Double(c) - centre)
            tissue[r * n + c] = dy * dy + dx * dx <= radius * radius
        } }
        let glands = smoothField(n, blobs: 10, radius: Double(n) / 9, &g)
        let thickness = smoothField(n, blobs: 6, radius: Double(n) / 4, &g)
        var truth = [Bool](repeating: false, count: n * n)
        if label == .cancer {
            let fraction = settings.minimumTumorFraction
                + (settings.maximumTumorFraction - settings.minimumTumorFraction) * Double(g.nextUniform())
            let field = smoothField(n, blobs: 3, radius: Double(n) / 5, &g)
            let values = (0..<(n * n)).filter { tissue[$0] }.map { field[$0] }.sorted(by: >)
            let cut = values[min(values.count - 1, Int(fraction * Double(values.count)))]
            for p in 0..<(n * n) where tissue[p] && field[p] > cut { truth[p] = true }
        }
        let glandCut = quantile(glands, tissue, 0.55)
        let (tMin, tMax) = (thickness.min() ?? 0, thickness.max() ?? 1)
        var cube = [Float](repeating: 0, count: n * n * b)
        for p in 0..<(n * n) {
            let base = p * b
            if tissue[p] {
                let source = truth[p] ? spectra.tumor : glands[p] > glandCut ? spectra.epithelium : spectra.stroma
                let scale = Float(0.6 + 0.8 * (thickness[p] - tMin) / max(1e-9, tMax - tMin))
                let offset = 0.02 * g.nextNormal()
                for k in 0..<b { cube[base + k] = scale * source[k] + offset + settings.noise * g.nextNormal() }
            } else {
                for k in 0..<b { cube[base + k] = settings.noise * g.nextNormal() }
            }
        }
        return Spot(id: String(format: "spot%03d", i), label: label, split: split, spectra: cube, tissue: tissue, truth: truth)
    }

    /// A smooth random field on n×n: a sum of Gaussian blobs of random centre and sign.
    private func smoothField(_ n: Int, blobs: Int, radius: Double, _ g: inout SeededGenerator) -> [Double] {
        var field = [Double](repeating: 0, count: n * n)
        for _ in 0..<blobs {
            let (cy, cx) = (Double(g.nextUniform()) * Double(n), Double(g.nextUniform()) * Double(n))
            let amplitude = Double(g.nextUniform()) + 0.5
            let r = radius * (0.6 + 0.8 * Double(g.nextUniform()))
            for y in 0..<n { for x in 0..<n {
                let d2 = (Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)
                field[y * n + x] += amplitude * Foundation.exp(-0.5 * d2 / (r * r))
            } }
        }
        return field
    }

    private func quantile(_ field: [Double], _ mask: [Bool], _ q: Double) -> Double {
        let values = field.indices.filter { mask[$0] }.map { field[$0] }.sorted()
        return values.isEmpty ? 0 : values[min(values.count - 1, Int(q * Double(values.count)))]
    }
}
