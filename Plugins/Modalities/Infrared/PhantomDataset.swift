import CompSegCore
import CompSegNN
import Foundation
import SpectralPreprocessing

/// A phantom prepared for training in memory: PCA fitted on training-split tissue pixels,
/// components scaled to unit variance, one `Sample` per spot with its ground truth beside it.
public struct PhantomDataset {
    public let samples: [Sample]
    /// Tumor masks by sample id (all false for cancer-free spots).
    public let truth: [String: [Bool]]
    public let pca: PCA

    /// - Parameters:
    ///   - components: principal components kept (the network's input channels).
    ///   - fitPixels: at most this many training tissue pixels fit the PCA (an even subsample).
    public init(_ phantom: InfraredPhantom, components: Int = 16, fitPixels: Int = 20_000) throws {
        let s = phantom.settings
        let spots = (0..<s.spots).map(phantom.spot)
        let training = spots.filter { $0.split == .train }
        let tissuePixels = training.reduce(0) { $0 + $1.tissue.filter { $0 }.count }
        let stride = max(1, tissuePixels / fitPixels)
        var fit: [Float] = []
        var k = 0
        for spot in training {
            for p in spot.tissue.indices where spot.tissue[p] {
                if k % stride == 0 { fit += spot.spectra[(p * s.bands)..<((p + 1) * s.bands)] }
                k += 1
            }
        }
        pca = try PCA(fitting: fit, bands: s.bands, components: components)
        let scale = pca.variances.map { 1 / max($0, 1e-12).squareRoot() }
        var samples: [Sample] = []
        var truth: [String: [Bool]] = [:]
        let n = s.size
        for spot in spots {
            let scores = try pca.transform(spot.spectra)  // pixels × k
            var image = [Float](repeating: 0, count: components * n * n)
            for p in 0..<(n * n) { for c in 0..<components { image[c * n * n + p] = scores[p * components + c] * scale[c] } }
            let grey = (0..<(n * n)).map { p -> UInt8 in
                let v = spot.tissue[p] ? 200 - 25 * Double(scores[p * components]) * Double(scale[0]) : 255
                return UInt8(max(0, min(255, v)))
            }
            samples.append(try Sample(
                id: spot.id, image: Tensor(shape: [components, n, n], scalars: image),
                channels: .bands((1...components).map { "PC\($0)" }),
                tissue: Mask(height: n, width: n, pixels: spot.tissue),
                preview: RGBImage(height: n, width: n, bytes: grey.flatMap { [$0, $0, $0] }),
                label: spot.label, metadata: ["split": spot.split.rawValue]))
            truth[spot.id] = spot.truth
        }
        self.samples = samples
        self.truth = truth
    }

    public func split(_ split: Split) -> [Sample] { samples.filter { $0.metadata["split"] == split.rawValue } }
}
