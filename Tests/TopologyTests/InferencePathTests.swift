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

    /// The U-Net's up-sampling (2×2, stride 2) runs in inference as a 1×1 convolution and a
    /// depth-to-space copy in channel blocks: the same values as the transposed convolution.
    @Test(arguments: [(12, 32, 5, 7), (8, 8, 4, 4), (3, 48, 1, 2), (40, 32, 3, 2)])
    func upsamplingAsPointwiseConvolutionMatchesTheTransposedOne(_ input: Int, _ output: Int, _ h: Int, _ w: Int) throws {
        var g = SeededGenerator(seed: 12)
        let up = TransposedConv2d(inputChannels: input, outputChannels: output, generator: &g)
        up.bias!.withMutablePlainBuffer { b in for i in b.indices { b[i] = Float(i) * 0.1 - 0.4 } }
        let x = randomTensor([2, input, h, w], seed: 13)
        let tracked = try up(x)
        #expect(tracked.requiresGrad)
        let inference = try withoutGradients { try up(x) }
        #expect(inference.shape == [2, output, 2 * h, 2 * w])
        #expect(zip(tracked.scalars, inference.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-5 })
    }

    /// Concatenating channels of images in oneDNN's channel blocks (as convolutions leave them)
    /// or plain gives each image's channels of the first input, then of the second.
    @Test func concatenationKeepsEachImagesChannelsInOrder() throws {
        var g = SeededGenerator(seed: 14)
        let a = try withoutGradients { try Conv2d(inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1, generator: &g)(randomTensor([2, 3, 6, 5], seed: 15)) }
        let b = try withoutGradients { try Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, padding: 1, generator: &g)(randomTensor([2, 3, 6, 5], seed: 16)) }
        for (x, y) in [(a, b), (a.plain(), b.plain()), (a, b.plain())] {
            let joined = try concat([x, y])
            #expect(joined.shape == [2, 48, 6, 5])
            let (pa, pb) = (a.scalars, b.scalars)
            var expected: [Float] = []
            for n in 0..<2 {
                expected += pa[(n * 480)..<(n * 480 + 480)]  // 16 channels of 6×5
                expected += pb[(n * 960)..<(n * 960 + 960)]  // 32 channels
            }
            #expect(joined.scalars == expected)
        }
    }

    @Test func stackingCopiesEachTensorIntoTheBatch() throws {
        let a = randomTensor([2, 3, 4], seed: 9), b = randomTensor([2, 3, 4], seed: 10)
        let batch = try stack([a, b])
        #expect(batch.shape == [2, 2, 3, 4])
        #expect(batch.scalars == a.scalars + b.scalars)
        #expect(throws: ShapeError.self) { try stack([a, randomTensor([2, 4, 3], seed: 11)]) }
    }
}
