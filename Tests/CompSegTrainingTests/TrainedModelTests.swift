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
}
