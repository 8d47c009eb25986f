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

    /// An image in memory as regions, counting the pixels read.
    final class MemoryRegions: SampleRegions, @unchecked Sendable {
        let image: [Float], mask: [Bool], height: Int, width: Int, channels: Int
        var id: String { "memory" }
        var label: SampleLabel? { nil }
        var metadata: [String: String] { [:] }
        private(set) var pixelsRead = 0
        init(image: [Float], mask: [Bool], channels: Int, height: Int, width: Int) {
            (self.image, self.mask, self.channels, self.height, self.width) = (image, mask, channels, height, width)
        }
        func region(y: Int, x: Int, height h: Int, width w: Int) throws -> Sample {
            pixelsRead += h * w
            var values: [Float] = [], inside: [Bool] = []
            for c in 0..<channels {
                for r in y..<(y + h) {
                    let start: Int = (c * height + r) * width + x
                    values += image[start..<(start + w)]
                }
            }
            for r in y..<(y + h) {
                let start: Int = r * width + x
                inside += mask[start..<(start + w)]
            }
            return try Sample(id: id, image: Tensor(shape: [channels, h, w], scalars: values), channels: .bands(["r", "g", "b"]),
                              tissue: Mask(height: h, width: w, pixels: inside), preview: RGBImage(height: h, width: w, fill: (0, 0, 0)))
        }
        func mayHoldTissue(y: Int, x: Int, height h: Int, width w: Int) -> Bool {
            (y..<(y + h)).contains { r in (x..<(x + w)).contains { mask[r * width + $0] } }
        }
    }

    struct NoReader: ImageSource {
        func load(_ url: URL, label: SampleLabel?) throws -> Sample { throw TrainingError("not read") }
    }

    /// Streamed through bands of prepared rows, each pixel is read once, and the map is the one
    /// tile-by-tile reading gives, and the whole image's: the same tiles, the same inputs (a tile
    /// at a time, as batches of other tiles could round otherwise).
    /// 700×1300 in tiles of 256 overlapping by 32, tissue in two blobs (tiles without it skipped).
    @Test func preparedBandsGiveTheTilesMap() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-band-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let model = try Self.model(dir)
        let (h, w) = (700, 1300)
        var g = SeededGenerator(seed: 13)
        let image = (0..<(3 * h * w)).map { _ in g.nextNormal() }
        let mask = (0..<(h * w)).map { (p: Int) -> Bool in
            let y = p / w, x = p % w
            let disc: Bool = (y - 200) * (y - 200) + (x - 300) * (x - 300) < 22_500
            return disc || (y > 500 && x > 900 && x < 1100)
        }
        var registry = Registry()
        try registry.registerModality(PluginInfo("none", summary: "no files")) { _ in NoReader() }
        let modality = try PreparedModality(ModalityManifest(name: "memory", reader: "none", source: "test"), registry: registry)
        let tiling = try Tiling(size: 256, overlap: 32)
        func streamed(bandBytes: Double) throws -> (map: [Float], tissue: [Bool], read: Int) {
            let regions = MemoryRegions(image: image, mask: mask, channels: 3, height: h, width: w)
            var map: [Float] = [], tissue: [Bool] = []
            try model.streamActivations(regions, modality: modality, tiling: tiling, batchSize: 1, preparedBandBytes: bandBytes) { y0, values, inside in
                #expect(y0 * w == map.count)
                map += values
                tissue += inside
            }
            return (map, tissue, regions.pixelsRead)
        }
        let banded = try streamed(bandBytes: 1_073_741_824), tiled = try streamed(bandBytes: 0)
        // The chain zeroes what lies outside the tissue, as it does a whole sample's.
        let zeroed = image.indices.map { mask[$0 % (h * w)] ? image[$0] : 0 }
        let whole = try model.tiledActivationMap(Tensor(shape: [3, h, w], scalars: zeroed), tissue: mask, tiling: tiling, batchSize: 1)
        // Compared as Bools: a failed comparison of arrays this long is slow to report.
        func worst(_ a: [Float], _ b: [Float]) -> Float { a.count != b.count ? .infinity : zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0 }
        let (sameAsTiles, sameAsWhole) = (banded.map == tiled.map, banded.map == whole)
        #expect(sameAsTiles, "max difference \(worst(banded.map, tiled.map))")
        #expect(sameAsWhole, "max difference \(worst(banded.map, whole))")
        let tissueKept = banded.tissue == mask && tiled.tissue == mask
        #expect(tissueKept)
        #expect(banded.read <= h * w && tiled.read > banded.read, "read \(banded.read) and \(tiled.read) of \(h * w) pixels")
    }
}
