import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegNetHead
import CompSegTestSupport
import CompSegTraining
import UNetTopology

@Suite struct SampleStoreTests {
    /// A store that makes the squares' samples on request, counting how often.
    final class Counting {
        let data: SyntheticSquares
        var made = 0
        init(_ data: SyntheticSquares) { self.data = data }
        func store(_ range: Range<Int>, cacheBudget: Int) -> SampleStore {
            let samples = Array(data.samples[range])
            return SampleStore(ids: samples.map(\.id), labels: samples.map(\.label), shape: samples[0].image.shape,
                               cacheBudget: cacheBudget) { [self] in made += 1; return samples[$0] }
        }
    }

    func train(_ train: SampleStore, _ validation: SampleStore) throws -> (weights: [Float], losses: [Float?]) {
        var c = UNet.Configuration()
        c.width = 4; c.depth = 2
        let network = try UNet(inputChannels: 2, configuration: c, seed: 2)
        var settings = TrainingSettings()
        settings.epochs = 3; settings.batchSize = 3
        let trainer = try Trainer(network: network, head: try CompSegNetHead(), settings: settings)
        try trainer.run(train: train, validation: validation)
        return (network.parameters.flatMap(\.scalars), trainer.history.flatMap { [$0.trainLoss, $0.validationLoss] })
    }

    /// Without a cache every batch is made anew (each training sample once per epoch, each
    /// validation sample once per evaluation), and the run equals one over samples in memory.
    @Test func streamedTrainingEqualsTrainingInMemory() throws {
        let data = try SyntheticSquares(count: 10, seed: 5)
        let inMemory = try train(SampleStore(Array(data.samples[0..<7])), SampleStore(Array(data.samples[7...])))
        let counting = Counting(data)
        let streamed = try train(counting.store(0..<7, cacheBudget: 0), counting.store(7..<10, cacheBudget: 0))
        #expect(counting.made == 3 * 7 + 3 * 3)
        #expect(streamed.weights == inMemory.weights)
        #expect(streamed.losses == inMemory.losses)
    }

    @Test func cacheKeepsTheSamplesThatFitTheBudget() throws {
        let data = try SyntheticSquares(count: 6, seed: 1)
        // 2 channels of 16×16 floats, the 16×16 RGB preview and the tissue mask.
        let bytes = 2 * 16 * 16 * 4 + 16 * 16 * 3 + 16 * 16
        let counting = Counting(data)
        let store = counting.store(0..<6, cacheBudget: 2 * bytes + bytes / 2)
        _ = try store.samples(Array(0..<6))
        #expect(store.cachedCount == 2 && store.cachedBytes == 2 * bytes)
        _ = try store.samples(Array(0..<6))
        #expect(counting.made == 6 + 4)
    }

    @Test func aSampleThatChangedShapeIsNamed() throws {
        let data = try SyntheticSquares(count: 2, seed: 1)
        let store = SampleStore(ids: ["s0"], labels: [.cancer], shape: [3, 16, 16], cacheBudget: 0) { _ in data.samples[0] }
        #expect {
            _ = try store.sample(0)
        } throws: { "\($0)".contains("sample s0 is now 2×16×16") && "\($0)".contains("did its file change?") }
    }
}
