/// A 2-D convolution layer: N×I×H×W → N×O×H'×W'. Weight O×I×k×k, bias O.
public final class Conv2d: Module, @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initializer: Initializer = .heNormal, generator: inout SeededGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "Conv2d: sizes must be positive")
        weight = initializer.make([outputChannels, inputChannels, kernelSize, kernelSize], generator: &generator)
        weight.requiresGrad = true
        self.bias = bias ? Tensor(zeros: [outputChannels], requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    /// The convolution, then `activation` when given (inside the kernel in inference, and in
    /// training for relu, sigmoid and softplus).
    public func callAsFunction(_ x: Tensor, then activation: Eltwise? = nil) throws -> Tensor {
        try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, then: activation)
    }
}

/// A 2-D transposed convolution (up-sampling): N×I×H×W → N×O×((H−1)·s − 2p + k)×…
/// Weight I×O×k×k (PyTorch's layout), bias O.
public final class TransposedConv2d: Module, @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int = 2, stride: Int = 2, padding: Int = 0,
                bias: Bool = true, initializer: Initializer = .heNormal, generator: inout SeededGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "TransposedConv2d: sizes must be positive")
        weight = initializer.make([inputChannels, outputChannels, kernelSize, kernelSize], generator: &generator)
        weight.requiresGrad = true
        self.bias = bias ? Tensor(zeros: [outputChannels], requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try transposedConv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// Batch normalization over channels, with learned scale and shift and running statistics
/// (used in inference mode).
public final class BatchNorm2d: Module, @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// Training steps taken (PyTorch keeps it as an integer; a float holds counts to 2²⁴ exactly).
    public let batchesTracked: Tensor
    public let momentum: Float, epsilon: Float

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(channels > 0, "BatchNorm2d: channels must be positive")
        weight = Tensor(repeating: 1, shape: [channels]); weight.requiresGrad = true
        bias = Tensor(zeros: [channels], requiresGrad: true)
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(repeating: 1, shape: [channels])
        // Counted on the host, in host memory whatever the backend: no wait for a GPU to count.
        batchesTracked = Tensor(shape: [1], layout: nil, storage: Storage(count: 1, memory: StoragePool.shared))
        self.momentum = momentum
        self.epsilon = epsilon
    }

    /// PyTorch's `BatchNorm2d` names, so saved weights load there by name.
    override public func namedChildren() -> [(String, Any)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
         ("num_batches_tracked", batchesTracked)]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if isTraining && GradientMode.isEnabled { batchesTracked.withMutablePlainBuffer { $0[0] += 1 } }
        return try batchNorm(x, scale: weight, shift: bias, runningMean: runningMean, runningVariance: runningVar,
                             training: isTraining, momentum: momentum, epsilon: epsilon)
    }
}
