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
        let (losses, meanIn, meanOut) = try trainTinyFCN(head: "compsegnet", register: CompSegNetHead.register, epochs: 15)
        #expect(losses.last! < losses.first! * 0.7, "training loss \(losses)")
        // The head is gone: the network alone lights up the square in cancer images.
        #expect(meanIn > 2 * meanOut, "mean activation inside the square \(meanIn), outside \(meanOut)")
    }

    @Test func theGuideQuotesTheExampleVerbatim() throws {
        try expectQuotedVerbatim("Examples/ExampleTopology/TinyFCN.swift", in: "docs/adding-a-topology.md")
    }
}
