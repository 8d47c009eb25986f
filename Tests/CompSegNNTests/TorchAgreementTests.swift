import Testing
import CompSegNN
import CompSegTestSupport

/// Each op against PyTorch's outputs and gradients (fixtures by `tools/make_torch_fixtures.py`).
/// Tolerance 1e-4 relative to each reference tensor's largest magnitude: float32 sums in a
/// different order (oneDNN's blocked kernels versus PyTorch's) differ by a few ulps of the sum.
let torchTolerance: Float = 1e-4

/// Runs `f` on the fixture's inputs, backpropagates `gy`, and compares output and gradients.
func checkAgainstTorch(_ name: String, inputs: [String], output: String = "y", gradients: [String],
                       _ f: ([Tensor], TorchFixture) throws -> Tensor) throws {
    let fixture = try TorchFixture(name)
    let xs = try inputs.map { try fixture.tensor($0, requiresGrad: true) }
    let y = try f(xs, fixture)
    var failures = [agreement(y, try fixture.tensor(output), tolerance: torchTolerance, "\(name).\(output)")]
    try y.backward(seed: fixture.tensor("gy"))
    for (x, g) in zip(xs, gradients) {
        guard let grad = x.grad else { failures.append("\(name).\(g): no gradient"); continue }
        failures.append(agreement(grad, try fixture.tensor(g), tolerance: torchTolerance, "\(name).\(g)"))
    }
    let problems = failures.compactMap { $0 }
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
}

@Suite struct TorchAgreementTests {
    @Test(arguments: ["conv2d_3x3_p1_bias", "conv2d_1x1_bias", "conv2d_5x5_p2_bias"])
    func convolutionWithBias(_ name: String) throws {
        try checkAgainstTorch(name, inputs: ["x", "w", "b"], gradients: ["dx", "dw", "db"]) { t, f in
            try conv2d(t[0], weight: t[1], bias: t[2], stride: Int(f.number("stride")), padding: Int(f.number("padding")))
        }
    }

    @Test func stridedConvolutionWithoutBias() throws {
        try checkAgainstTorch("conv2d_3x3_s2_p0_nobias", inputs: ["x", "w"], gradients: ["dx", "dw"]) { t, _ in
            try conv2d(t[0], weight: t[1], stride: 2, padding: 0)
        }
    }

    @Test func transposedConvolution() throws {
        try checkAgainstTorch("conv_transpose2d_2x2_s2", inputs: ["x", "w", "b"], gradients: ["dx", "dw", "db"]) { t, _ in
            try transposedConv2d(t[0], weight: t[1], bias: t[2], stride: 2)
        }
    }

    /// 16 output channels: the up-sampling runs as a 1×1 convolution and depth-to-space copies.
    @Test func transposedConvolutionInChannelBlocks() throws {
        try checkAgainstTorch("conv_transpose2d_2x2_s2_blocks", inputs: ["x", "w", "b"], gradients: ["dx", "dw", "db"]) { t, _ in
            try transposedConv2d(t[0], weight: t[1], bias: t[2], stride: 2)
        }
    }

    @Test func maxPooling() throws {
        try checkAgainstTorch("max_pool2d_2x2", inputs: ["x"], gradients: ["dx"]) { t, _ in try maxPool2d(t[0]).output }
    }

    @Test func maxUnpoolingThroughPooling() throws {
        try checkAgainstTorch("max_unpool2d_2x2", inputs: ["x"], gradients: ["dx"]) { t, _ in
            let (p, indices) = try maxPool2d(t[0], keepIndices: true)
            return try maxUnpool2d(p, indices: indices!)
        }
    }

    @Test func maxUnpoolingGradientOfItsInput() throws {
        let f = try TorchFixture("max_unpool2d_2x2")
        let (_, indices) = try withoutGradients { try maxPool2d(f.tensor("x"), keepIndices: true) }
        let p = try f.tensor("p", requiresGrad: true)
        let y = try maxUnpool2d(p, indices: indices!)
        #expect(agreement(y, try f.tensor("y"), tolerance: torchTolerance, "y") == nil)
        try y.backward(seed: f.tensor("gy"))
        #expect(agreement(p.grad!, try f.tensor("dp"), tolerance: torchTolerance, "dp") == nil)
    }

    @Test func nearestUpsampling() throws {
        try checkAgainstTorch("upsample_nearest", inputs: ["x"], gradients: ["dx"]) { t, _ in try upsampleNearest2x(t[0]) }
    }

    @Test func concatenation() throws {
        try checkAgainstTorch("cat", inputs: ["a", "b"], gradients: ["da", "db"]) { t, _ in try concat(t) }
    }

    @Test func addition() throws {
        try checkAgainstTorch("add", inputs: ["a", "b"], gradients: ["da", "db"]) { t, _ in try add(t[0], t[1]) }
    }

    @Test func multiplication() throws {
        try checkAgainstTorch("mul", inputs: ["a", "b"], gradients: ["da", "db"]) { t, _ in try multiply(t[0], t[1]) }
    }

    @Test(arguments: ["softplus", "sigmoid", "relu", "scale", "affine", "abs", "exp", "log", "square", "clip"])
    func elementwise(_ name: String) throws {
        try checkAgainstTorch(name, inputs: ["x"], gradients: ["dx"]) { t, f in
            switch name {
            case "softplus": try softplus(t[0])
            case "sigmoid": try sigmoid(t[0])
            case "relu": try relu(t[0])
            case "scale": try scale(t[0], by: f.number("factor"))
            case "affine": try affine(t[0], scale: f.number("factor"), offset: f.number("offset"))
            case "abs": try abs(t[0])
            case "exp": try exp(t[0])
            case "log": try log(t[0])
            case "square": try square(t[0])
            default: try clip(t[0], lower: f.number("lower"), upper: f.number("upper"))
            }
        }
    }

    @Test func sumAndMean() throws {
        let f = try TorchFixture("sum_mean")
        for (op, y, g, dx) in [("sum", "ys", "gs", "dx_sum"), ("mean", "ym", "gm", "dx_mean")] {
            let x = try f.tensor("x", requiresGrad: true)
            let out = op == "sum" ? try sum(x) : try mean(x)
            #expect(agreement(out, try f.tensor(y), tolerance: torchTolerance, op) == nil)
            try out.backward(seed: f.tensor(g))
            #expect(agreement(x.grad!, try f.tensor(dx), tolerance: torchTolerance, dx) == nil)
        }
    }

    @Test func maskedMeanOverTissue() throws {
        let f = try TorchFixture("masked_mean")
        let m = try f.tensor("m")
        try checkAgainstTorch("masked_mean", inputs: ["a"], gradients: ["da"]) { t, _ in try maskedMean(t[0], mask: m) }
    }

    @Test(arguments: [true, false])
    func batchNormalization(training: Bool) throws {
        let name = training ? "batch_norm_train" : "batch_norm_eval"
        let f = try TorchFixture(name)
        let runningMean = training ? Tensor(zeros: [3]) : try f.tensor("running_mean").copy()
        let runningVariance = training ? Tensor(repeating: 1, shape: [3]) : try f.tensor("running_var").copy()
        try checkAgainstTorch(name, inputs: ["x", "gamma", "beta"], gradients: ["dx", "dgamma", "dbeta"]) { t, _ in
            try batchNorm(t[0], scale: t[1], shift: t[2], runningMean: runningMean, runningVariance: runningVariance,
                          training: training, momentum: 0.1, epsilon: 1e-5)
        }
        if training {
            #expect(agreement(runningMean, try f.tensor("running_mean"), tolerance: torchTolerance, "running mean") == nil)
            #expect(agreement(runningVariance, try f.tensor("running_var"), tolerance: torchTolerance, "running var") == nil)
        }
    }
}
