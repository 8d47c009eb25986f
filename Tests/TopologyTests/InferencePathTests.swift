import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegTestSupport
import SegNetTopology
import UNetTopology

/// Inference (no graph) runs each activation inside its convolution's kernel, with oneDNN's
/// inference primitives and weights reordered once; these check that it computes what training's
/// separate ops compute.
@Suite struct InferencePathTests {
    /// The largest difference between the map with the graph recorded (separate ops, training
    /// primitives) and without it (fused, inference primitives).
    func largestDifference(_ net: any SegmentingNetwork, _ x: Tensor) throws -> Float {
        net.setTraining(false)
        let tracked = try net.activation(x)
        #expect(tracked.requiresGrad)  // the weights require gradients: the graph was recorded
        let fused = try withoutGradients { try net.activation(x) }
        #expect(!fused.requiresGrad)
        return zip(tracked.scalars, fused.scalars).map { Swift.abs($0 - $1) }.max()!
    }

    // Tolerance 1e-5: the bound for inference maps. Both paths sum the same products in float32;
    // only the kernels' blocking of the sums may differ (largest difference seen: 5.6e-9).
    @Test(arguments: [Activation.softplus, .relu], [false, true])
    func uNetMapsAreTheSameWithAndWithoutTheGraph(_ activation: Activation, batchNorm: Bool) throws {
        var c = UNet.Configuration()
        c.width = 8; c.depth = 2; c.activation = activation; c.batchNorm = batchNorm
        let net = try UNet(inputChannels: 5, configuration: c, seed: 3)
        #expect(try largestDifference(net, randomTensor([2, 5, 24, 20], seed: 4)) <= 1e-5)
    }

    @Test func segNetMapsAreTheSameWithAndWithoutTheGraph() throws {
        var c = SegNet.Configuration()
        c.width = 8; c.depth = 2
        let net = try SegNet(inputChannels: 4, configuration: c, seed: 5)
        #expect(try largestDifference(net, randomTensor([1, 4, 16, 16], seed: 6)) <= 1e-5)
    }

    /// Weights reordered for the kernel are kept between passes, and made again once the weights change.
    @Test func changedWeightsAreSeenByTheNextPass() throws {
        var g = SeededGenerator(seed: 7)
        let conv = Conv2d(inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, generator: &g)
        let x = randomTensor([1, 8, 12, 12], seed: 8)
        let first = try withoutGradients { try conv(x, then: .softplus) }.scalars
        #expect(try withoutGradients { try conv(x, then: .softplus) }.scalars == first)
        conv.weight.withMutablePlainBuffer { w in for i in w.indices { w[i] *= -0.5 } }
        let changed = try withoutGradients { try conv(x, then: .softplus) }.scalars
        let expected = try softplus(conv2d(x, weight: conv.weight.detached(), bias: conv.bias?.detached(), padding: 1)).scalars
        #expect(changed != first)
        #expect(zip(changed, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-5 })
    }

    @Test func stackingCopiesEachTensorIntoTheBatch() throws {
        let a = randomTensor([2, 3, 4], seed: 9), b = randomTensor([2, 3, 4], seed: 10)
        let batch = try Tensor(stacking: [a, b])
        #expect(batch.shape == [2, 2, 3, 4])
        #expect(batch.scalars == a.scalars + b.scalars)
        #expect(throws: ShapeError.self) { try Tensor(stacking: [a, randomTensor([2, 4, 3], seed: 11)]) }
    }
}
