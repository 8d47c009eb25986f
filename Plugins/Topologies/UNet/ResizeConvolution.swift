import CompSegNN

/// A decoder step that doubles H and W: N×I×H×W → N×O×2H×2W.
protocol UpsamplingLayer: Module {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}

extension TransposedConv2d: UpsamplingLayer {}

/// Resize-then-convolve up-sampling (Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard
/// Artifacts"): nearest-neighbour 2× up-sampling, then a same-padded 3×3 convolution,
/// N×I×H×W → N×O×2H×2W. Every output pixel is made by the same 3×3 kernel, whereas a 2×2 stride-2
/// transposed convolution makes each pixel of a 2×2 block with its own tap, which builds a
/// period-2 pattern in unless training makes the taps agree.
///
/// Children are named as PyTorch's `nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
/// nn.Conv2d(I, O, 3, padding=1))` names them: the convolution is `1` (`1.weight` O×I×3×3, `1.bias` O).
final class ResizeConvolution: Module, UpsamplingLayer, @unchecked Sendable {
    let convolution: Conv2d

    init(inputChannels: Int, outputChannels: Int, initializer: Initializer, generator: inout SeededGenerator) {
        convolution = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1,
                             initializer: initializer, generator: &generator)
    }

    override func namedChildren() -> [(String, Any)] { [("1", convolution)] }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try convolution(upsampleNearest2x(x)) }
}
