import CompSegCore
import CompSegNetHead
import CompSegTestSupport
import CompSegNN
import CompSegTraining
import ExampleTopology
import Foundation
import Testing

/// The worked example of docs/adding-a-topology.md: it registers, names its tensors, trains
/// through the CompSegNet head, and the guide quotes it as it is.
@Suite struct ExampleTopologyTests {
    @Test func registersWithTheKeysTheCLISets() throws {
        var registry = Registry()
        try TinyFCN.register(in: &registry)
        // `compseg compare` passes exactly this configuration to every topology.
        let configuration = PluginConfiguration(json: Data(#"{"depth":2,"width":8}"#.utf8))
        let network = try registry.topology("tinyfcn", inputChannels: 3, seed: 1, configuration)
        #expect(network.inputChannels == 3)
        #expect(network.namedParameters().map(\.0) == ["convolutions.0.weight", "convolutions.0.bias",
                                                       "convolutions.1.weight", "convolutions.1.bias",
                                                       "head.weight", "head.bias"])
        let a = try withoutGradients { try network.activation(Tensor(repeating: 0.5, shape: [2, 3, 5, 7])) }
        #expect(a.shape == [2, 1, 5, 7])
        #expect(a.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(throws: ConfigurationError.self) {
            try registry.topology("tiny-fcn", inputChannels: 3, seed: 1, PluginConfiguration(json: Data(#"{"layers":2}"#.utf8)))
        }
    }

    @Test func sameSeedSameWeights() throws {
        let a = try TinyFCN(inputChannels: 2, seed: 9).parameters.flatMap(\.scalars)
        let b = try TinyFCN(inputChannels: 2, seed: 9).parameters.flatMap(\.scalars)
        #expect(a == b)
    }

    @Test func trainsFromImageLabelsAndFindsTheSquare() throws {
        var registry = Registry()
        try TinyFCN.register(in: &registry)
        try CompSegNetHead.register(in: &registry)
        let data = try SyntheticSquares(count: 16, seed: 7)
        let network = try registry.topology("tiny-fcn", inputChannels: 2, seed: 3,
                                            PluginConfiguration(json: Data(#"{"width":8}"#.utf8)))
        var settings = TrainingSettings()
        settings.epochs = 15; settings.batchSize = 4; settings.learningRate = 3e-3; settings.seed = 1
        let trainer = try Trainer(network: network, head: try registry.head("compsegnet"), settings: settings)
        try trainer.run(train: data.samples, validation: [])
        let losses = trainer.history.map(\.trainLoss)
        #expect(losses.last! < losses.first! * 0.7, "training loss \(losses)")

        // The head is gone: the network alone lights up the square in cancer images.
        let (meanIn, meanOut) = try data.meanActivation(of: network)
        #expect(meanIn > 2 * meanOut, "mean activation inside the square \(meanIn), outside \(meanOut)")
    }

    @Test func theGuideQuotesTheExampleVerbatim() throws {
        let guide = try Repository.text("docs/adding-a-topology.md")
        let source = try Repository.text("Examples/ExampleTopology/TinyFCN.swift")
        #expect(guide.contains(source.trimmingCharacters(in: .newlines)),
                "docs/adding-a-topology.md must quote Examples/ExampleTopology/TinyFCN.swift in full")
    }
}
