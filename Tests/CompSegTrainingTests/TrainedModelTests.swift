import CompSegCore
import CompSegNN
import CompSegTraining
import Foundation
import Testing
import UNetTopology

@Suite struct TrainedModelTests {
    /// A diverged run's NaN weights are refused by name, not turned into all-zero maps.
    @Test func nonFiniteWeightsAreRefused() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-nan-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        _ = try TilingTests.model(dir)
        var weights = try dir.readWeights()
        let name = weights.keys.sorted()[0]
        weights[name] = try Tensor(shape: weights[name]!.shape, scalars: weights[name]!.scalars.map { _ in .nan })
        try dir.writeWeights(weights)
        var registry = Registry()
        try UNet.register(in: &registry)
        #expect {
            try TrainedModel(run: dir, registry: registry)
        } throws: { "\($0)".contains("tensor '\(name)' holds NaN or infinite values") }
    }

    /// `segmented` tells how many samples are done after each batch, up to all of them.
    @Test func progressAfterEachBatch() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-progress-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        let model = try TilingTests.model(dir)
        let samples = try (0..<5).map { i in
            try Sample(id: "s\(i)", image: Tensor(shape: [3, 16, 16], scalars: (0..<768).map { Float(($0 * (i + 1)) % 7) / 7 }),
                       channels: .bands(["R", "G", "B"]), tissue: Mask(height: 16, width: 16, pixels: [Bool](repeating: true, count: 256)),
                       preview: RGBImage(height: 16, width: 16, fill: (0, 0, 0)))
        }
        var heard: [[Int]] = []
        let (done, maps) = try model.segmented(SampleStore(samples), batchSize: 2, progress: { heard.append([$0, $1]) })
        #expect(done.map(\.id) == ["s0", "s1", "s2", "s3", "s4"] && maps.count == 5)
        #expect(heard == [[2, 5], [4, 5], [5, 5]], "\(heard)")
        #expect(model.inputChecks.isEmpty)  // the run recorded no input range
    }
}
