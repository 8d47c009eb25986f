import CompSegNN
import Foundation

/// Times one convolution layer through the engine (ops, reorders and autodiff bookkeeping
/// included), as a network runs it: the input arrives in the layout a previous convolution
/// leaves, the weights are plain parameters, and backward yields plain weight gradients.
public struct ConvolutionBenchmark: Sendable {
    public let inputChannels: Int, outputChannels: Int, size: Int, batch: Int, kernel: Int

    public init(inputChannels: Int, outputChannels: Int, size: Int, batch: Int = 1, kernel: Int = 3) {
        self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.size = size; self.batch = batch; self.kernel = kernel
    }

    /// Forward multiply-adds ×2: 2·N·O·H·W·I·k² (bias ignored). Backward (data + weights) is twice this.
    public var forwardFLOPs: Double {
        2 * Double(batch * outputChannels * size * size * inputChannels * kernel * kernel)
    }

    public struct Result: Sendable {
        public let forwardSeconds: Double, backwardSeconds: Double
        public let forwardGFLOPs: Double, backwardGFLOPs: Double
    }

    /// Best of `repeats` timed runs after one warm-up.
    public func run(repeats: Int = 5) throws -> Result {
        var g = SeededGenerator(seed: 1)
        let layer = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernel,
                           padding: kernel / 2, generator: &g)
        let shape: Shape = [batch, inputChannels, size, size]
        let plainInput = Tensor(zeros: shape)
        plainInput.withMutablePlainBuffer { v in for i in v.indices { v[i] = g.nextNormal() } }
        let layout = try Backend.current.convolutionInputLayout(shape, weightShape: layer.weight.shape, withBias: true,
                                                                 geometry: ConvolutionGeometry(stride: 1, padding: kernel / 2),
                                                                 epilogue: .training)
        let x = Backend.current.reorder(plainInput, to: layout).detached()
        x.requiresGrad = true
        var best = (Double.infinity, Double.infinity)
        for iteration in 0...repeats {
            layer.zeroGradients(); x.zeroGrad()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let y = try layer(x)
            let t1 = DispatchTime.now().uptimeNanoseconds
            let seed = Backend.current.reorder(Tensor(repeating: 1e-3, shape: y.shape), to: y.layout)
            let t2 = DispatchTime.now().uptimeNanoseconds
            try y.backward(seed: seed)
            let t3 = DispatchTime.now().uptimeNanoseconds
            if iteration > 0 {
                best = (min(best.0, Double(t1 - t0) * 1e-9), min(best.1, Double(t3 - t2) * 1e-9))
            }
        }
        return Result(forwardSeconds: best.0, backwardSeconds: best.1,
                      forwardGFLOPs: forwardFLOPs / best.0 * 1e-9, backwardGFLOPs: 2 * forwardFLOPs / best.1 * 1e-9)
    }

    /// The layers of the engine's speed table (3×3, batch 1).
    public static let referenceLayers: [ConvolutionBenchmark] = [
        .init(inputChannels: 450, outputChannels: 64, size: 256),
        .init(inputChannels: 64, outputChannels: 64, size: 256),
        .init(inputChannels: 128, outputChannels: 128, size: 128),
        .init(inputChannels: 512, outputChannels: 512, size: 32),
        .init(inputChannels: 1024, outputChannels: 1024, size: 16),
    ]
}
