/// A nonlinearity between layers.
public enum Activation: String, Sendable, CaseIterable {
    /// log(1 + eˣ): the paper's choice.
    case softplus
    case relu

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .softplus: try CompSegNN.softplus(x)
        case .relu: try CompSegNN.relu(x)
        }
    }

    /// The elementwise function, for fusing into a convolution.
    public var eltwise: Eltwise {
        switch self {
        case .softplus: .softplus
        case .relu: .relu
        }
    }
}

/// Same-padded 3×3 convolutions, each followed by optional batch norm and the activation:
/// N×I×H×W → N×O×H×W. Children are named by position as in PyTorch's
/// `nn.Sequential(Conv2d, [BatchNorm2d,] Activation, Conv2d, …)`: `0`, `2` without batch norm;
/// `0`, `1`, `3`, `4` with it.
public final class ConvStack: Module, @unchecked Sendable {
    public let convolutions: [Conv2d]
    public let norms: [BatchNorm2d]
    public let activation: Activation

    /// - Parameter channels: input channels, then each convolution's output channels.
    public init(channels: [Int], activation: Activation, batchNorm: Bool, initializer: Initializer,
                generator: inout SeededGenerator) {
        precondition(channels.count >= 2, "ConvStack needs input and at least one output channel count")
        var convolutions: [Conv2d] = []
        for (i, o) in zip(channels, channels.dropFirst()) {
            convolutions.append(Conv2d(inputChannels: i, outputChannels: o, kernelSize: 3, padding: 1,
                                       initializer: initializer, generator: &generator))
        }
        self.convolutions = convolutions
        norms = batchNorm ? channels.dropFirst().map { BatchNorm2d(channels: $0) } : []
        self.activation = activation
    }

    override public func namedChildren() -> [(String, Any)] {
        let stride = norms.isEmpty ? 2 : 3
        return convolutions.indices.flatMap { i -> [(String, Any)] in
            [("\(i * stride)", convolutions[i])] + (norms.isEmpty ? [] : [("\(i * stride + 1)", norms[i])])
        }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = x
        for (i, conv) in convolutions.enumerated() {
            if norms.isEmpty {
                y = try conv(y, then: activation.eltwise)
            } else {
                y = try activation(norms[i](conv(y)))
            }
        }
        return y
    }
}
