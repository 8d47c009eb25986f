import CompSegCore
import CompSegNN
import Foundation
import SpectralPreprocessing

/// A phantom prepared for training in memory, as `--modality infrared` would prepare its files:
/// the `pca` step (whitened) fitted on the training spots' tissue pixels, one `Sample` per spot
/// with its ground truth beside it. Raw spots are generated one at a time.
public struct PhantomDataset {
    public let samples: [Sample]
    /// Tumor masks by sample id (all false for cancer-free spots).
    public let truth: [String: [Bool]]
    /// The fitted step, as `model.json` would record it.
    public let pca: PCAStep

    /// - Parameters:
    ///   - components: principal components kept (the network's input channels).
    ///   - fitPixels: at most this many training tissue pixels fit the PCA.
    public init(_ phantom: InfraredPhantom, components: Int = 16, fitPixels: Int = 20_000) throws {
        let count = phantom.settings.spots
        let training = (0..<count).filter { phantom.plan($0).split == .train }
        let fitted = try PCAStep(components: components, fitPixels: fitPixels)
            .fitted(to: SampleSequence(count: training.count) { try phantom.sample(training[$0]).sample })
        var samples: [Sample] = []
        var truth: [String: [Bool]] = [:]
        for i in 0..<count {
            let (raw, tumor) = try phantom.sample(i)
            samples.append(try fitted.apply(raw))
            truth[raw.id] = tumor
        }
        self.samples = samples
        self.truth = truth
        pca = fitted as! PCAStep
    }

    public func split(_ split: Split) -> [Sample] { samples.filter { $0.metadata["split"] == split.rawValue } }
}

extension InfraredPhantom {
    /// Spot `i` as the infrared reader would deliver its file (B×H×W spectra, grey absorbance
    /// preview, split in the metadata), and its ground-truth tumor mask.
    public func sample(_ i: Int) throws -> (sample: Sample, truth: [Bool]) {
        let spot = spot(i)
        let (n, b) = (settings.size, settings.bands)
        let plane = n * n
        var cube = [Float](repeating: 0, count: b * plane)
        for p in 0..<plane { for k in 0..<b { cube[k * plane + p] = spot.spectra[p * b + k] } }
        let preview = try SpectralPreview.absorbance.render(cube: cube, bands: b, height: n, width: n, wavenumbers: wavenumbers,
                                                            tissue: spot.tissue)
        let sample = try Sample(id: spot.id, image: Tensor(shape: [b, n, n], scalars: cube),
                                channels: .spectral(values: wavenumbers, unit: "cm⁻¹"),
                                tissue: try Mask(height: n, width: n, pixels: spot.tissue), preview: preview,
                                label: spot.label, metadata: ["split": spot.split.rawValue])
        return (sample, spot.truth)
    }
}
