/// 2-D convolution, N×C×H×W → N×O×H'×W' with H' = ⌊(H + 2·padding − kH) / stride⌋ + 1.
/// - Parameters:
///   - weight: O×C×kH×kW (PyTorch's order; a trained parameter lies in its kernel's layout).
///   - bias: O, or nil.
///   - activation: applied to the output (inside the kernel in inference, and in training for
///     relu, sigmoid and softplus), or nil.
/// - Throws: `ShapeError` naming the shapes when they do not fit together.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                   then activation: Eltwise? = nil) throws -> Tensor {
    try convolution(x, weight: weight, bias: bias, geometry: ConvolutionGeometry(stride: stride, padding: padding),
                    activation: activation)
}

/// 2-D transposed convolution (up-sampling), N×C×H×W → N×O×H'×W' with
/// H' = (H − 1)·stride − 2·padding + kH.
/// - Parameters:
///   - weight: C×O×kH×kW (plain layout, PyTorch's `ConvTranspose2d`).
///   - bias: O, or nil.
public func transposedConv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 2, padding: Int = 0) throws -> Tensor {
    try convolution(x, weight: weight, bias: bias,
                    geometry: ConvolutionGeometry(stride: stride, padding: padding, transposed: true))
}

/// The convolution, then `activation` (nil: none). The activation runs inside the convolution's
/// kernel, in training too when its derivative follows from its output (relu, sigmoid, softplus):
/// the backward then turns the output's gradient into the convolution's first. Other activations
/// are an op of their own in training.
func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry,
                 activation: Eltwise? = nil) throws -> Tensor {
    let op = g.transposed ? "transposedConv2d" : "conv2d"
    let tracked = GradientMode.isEnabled && (x.requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
    if tracked, let activation, !activation.usesOutputForBackward {
        return try eltwise(convolution(x, weight: weight, bias: bias, geometry: g), activation, "\(activation)")
    }
    let epilogue = ConvolutionEpilogue(activation: activation, training: tracked)
    try x.shape.requireImage(op)
    try weight.shape.requireImage(op, "weight")
    let inC = g.transposed ? weight.shape[0] : weight.shape[1]
    let outC = g.transposed ? weight.shape[1] : weight.shape[0]
    try require(inC == x.shape.c, op,
                "input \(x.shape) has \(x.shape.c) channels but weight \(weight.shape) expects \(inC)")
    if let bias {
        try require(bias.shape == [outC] && bias.isPlain, op, "bias must have shape \(outC), got \(bias.shape)")
    }
    try require(g.strideH > 0 && g.strideW > 0 && g.paddingH >= 0 && g.paddingW >= 0, op,
                "stride must be positive and padding non-negative")
    let oh = g.outputSize(x.shape.h, kernel: weight.shape.h, vertical: true)
    let ow = g.outputSize(x.shape.w, kernel: weight.shape.w, vertical: false)
    try require(oh > 0 && ow > 0, op,
                "input \(x.shape) is smaller than kernel \(weight.shape.h)×\(weight.shape.w) with padding \(g.paddingH)")

    let backend = Backend.current
    if tracked, weight.requiresGrad, weight.creator == nil, weight.isPlain {
        // A parameter moves, once, into the layout its kernels read (see `Tensor.adoptLayout`).
        weight.adoptLayout(try backend.convolutionWeightLayout(x.shape, weightShape: weight.shape, withBias: bias != nil,
                                                               geometry: g, epilogue: epilogue))
    }
    // Converted once: backward-weights reads the input in the same layout as forward did.
    let source = backend.reorder(x, to: try backend.convolutionInputLayout(x.shape, weightShape: weight.shape,
                                                                            withBias: bias != nil, geometry: g,
                                                                            epilogue: epilogue))
    let y = try backend.convolutionForward(source, weight: weight, bias: bias, geometry: g, epilogue: epilogue)
    // 2 · output positions · input channels · kernel area (the input grid's, for transposed ones).
    let grid = g.transposed ? x.shape.n * x.shape.h * x.shape.w : x.shape.n * oh * ow
    let flops = 2 * Double(grid * outC * inC * weight.shape.h * weight.shape.w)
    Counters.addConvolution(flops)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    // The activation's backward reads the output (detached: no cycle through y); kept only then.
    let output = activation == nil ? nil : y.detached()
    return record(activation.map { "\(op)+\($0)" } ?? op, inputs, y) { dyActivated in
        var dy = dyActivated
        if let activation, let output { dy = try backend.eltwiseBackward(dyActivated, value: output, activation) }
        let dx = x.requiresGrad
            ? try backend.convolutionBackwardData(dy, weight: weight, inputShape: x.shape, geometry: g) : nil
        if x.requiresGrad { Counters.addConvolution(flops) }
        guard weight.requiresGrad || bias?.requiresGrad == true else { return [dx, nil, nil] }
        Counters.addConvolution(flops)
        let (dw, db) = try backend.convolutionBackwardWeights(dy, input: source, weightShape: weight.shape,
                                                              weightLayout: weight.layout, withBias: bias != nil,
                                                              geometry: g)
        return [dx, dw, db]
    }
}
