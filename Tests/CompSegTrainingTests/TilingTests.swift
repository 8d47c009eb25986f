import CompSegCore
import CompSegNN
@testable import CompSegTraining
import Foundation
import Testing
import UNetTopology

/// Large images segmented in overlapping, blended tiles agree with whole-image inference.
@Suite struct TilingTests {
    /// A trained-model folder holding a U-Net (width 4, depth 3, 3 channels) with seeded weights.
    static func model(_ dir: RunDirectory) throws -> TrainedModel {
        try dir.create()
        try dir.writeModel(RunConfiguration(modality: nil, topology: .init(identifier: "unet", configuration: ["width": 4, "depth": 3]),
                                            head: .init(identifier: "compsegnet"), inputChannels: 3, training: .init()))
        var c = UNet.Configuration()
        c.width = 4; c.depth = 3
        try dir.writeWeights(UNet(inputChannels: 3, configuration: c, seed: 5).stateDictionary())
        var registry = Registry()
        try UNet.register(in: &registry)
        return try TrainedModel(run: dir, registry: registry)
    }

    @Test func tilesCoverTheSideAndWeightsBlend() throws {
        let t = try Tiling(size: 512, overlap: 64)
        #expect(t.starts(2048) == [0, 448, 896, 1344, 1536] && t.starts(300) == [0] && t.starts(513) == [0, 1])
        #expect(throws: TrainingError.self) { try Tiling(size: 64, overlap: 32) }
    }

    /// A 2048×2048 image in tiles of 512 overlapping by 64 against the same network on the whole
    /// image. The tiles differ only where a tile's edge sees padding instead of the image; the
    /// blend gives those pixels little weight. Measured: max 1.8e-5, mean 7e-8 (seeded weights,
    /// depth 3). Tolerances: max 1e-3, mean 1e-5, room for other kernels' rounding.
    @Test func a2048ImageInTilesEqualsWholeImageInference() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-tiles-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let model = try Self.model(dir)
        let n = 2048
        var g = SeededGenerator(seed: 11)
        let blobs = (0..<40).map { _ in (Float(n) * g.nextUniform(), Float(n) * g.nextUniform(), 20 + 100 * g.nextUniform()) }
        var scalars = [Float](repeating: 0, count: 3 * n * n)
        for y in 0..<n { for x in 0..<n {
            var v: Float = 0
            for (cy, cx, r) in blobs { let d = ((Float(y) - cy) * (Float(y) - cy) + (Float(x) - cx) * (Float(x) - cx)) / (r * r); if d < 9 { v += Foundation.exp(-d) } }
            for c in 0..<3 { scalars[(c * n + y) * n + x] = v * Float(c + 1) * 0.5 + 0.1 * g.nextNormal() }
        } }
        let image = try Tensor(shape: [3, n, n], scalars: scalars)
        let tiled = try model.tiledActivationMap(image, tiling: Tiling(size: 512, overlap: 64))
        let whole = try model.tiledActivationMap(image, tiling: Tiling(size: 4096, overlap: 64))
        let differences = zip(tiled, whole).map { Swift.abs($0 - $1) }
        let worst = differences.max()!, mean = differences.reduce(0, +) / Float(differences.count)
        print("tiled vs whole 2048×2048: max \(worst), mean \(mean)")
        #expect(worst < 1e-3 && mean < 1e-5, "max \(worst), mean \(mean)")
    }

    /// Tiles without tissue are not run: on the tissue the map is the one every tile gives (the
    /// tiles run blend as before there: a tissue pixel lies in no skipped tile), and 0 where no
    /// tile runs. 600×1400 in tiles of 256 overlapping by 32: columns 0–599 tissue.
    @Test func tilesWithoutTissueAreSkipped() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-skip-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let model = try Self.model(dir)
        let (h, w) = (600, 1400)
        var g = SeededGenerator(seed: 12)
        let image = try Tensor(shape: [3, h, w], scalars: (0..<(3 * h * w)).map { _ in g.nextNormal() })
        let tissue = (0..<(h * w)).map { $0 % w < 600 }
        let tiling = try Tiling(size: 256, overlap: 32)
        let every = try model.tiledActivationMap(image, tiling: tiling)
        let skipping = try model.tiledActivationMap(image, tissue: tissue, tiling: tiling)
        #expect(tissue.indices.allSatisfy { !tissue[$0] || every[$0] == skipping[$0] })
        // Tiles start every 224 columns: the one at 448 holds tissue and reaches column 703; those from 672 on hold none.
        #expect((0..<h).allSatisfy { y in (704..<w).allSatisfy { skipping[y * w + $0] == 0 } })
        #expect((0..<h).allSatisfy { y in (0..<704).allSatisfy { skipping[y * w + $0] > 0 } })
    }
}
