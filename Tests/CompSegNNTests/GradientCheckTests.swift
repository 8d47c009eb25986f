import Testing
import Foundation
import CompSegNN
import CompSegTestSupport

/// Finite-difference checks of every op's backward (tolerance in `gradientCheck`: 5e-3 of the
/// gradient's scale, from float32 rounding at step 1e-2). Non-smooth ops get inputs whose kinks
/// and ties lie farther than the step from every value.
@Suite struct GradientCheckTests {
    func expectNoFailures(_ failures: [String], _ op: String) {
        #expect(failures.isEmpty, "\(op): \(failures.joined(separator: "; "))")
    }

    /// Values spaced 0.1 apart in shuffled order: no two within 2·step, so max pooling's argmax is stable.
    func distinct(_ shape: Shape, seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        let values = (0..<shape.count).map { Float($0) * 0.1 - Float(shape.count) * 0.05 }.shuffled(using: &g)
        return try! Tensor(shape: shape, scalars: values)
    }

    @Test(arguments: [(1, 1, true), (2, 0, false), (1, 2, true)])
    func convolution(stride: Int, padding: Int, bias: Bool) throws {
        let x = randomTensor([2, 3, 6, 5], seed: 1)
        let w = randomTensor([4, 3, padding == 2 ? 5 : 3, padding == 2 ? 5 : 3], seed: 2, scale: 0.3)
        let b = randomTensor([4], seed: 3)
        expectNoFailures(try gradientCheck(bias ? [x, w, b] : [x, w]) { t in
            try conv2d(t[0], weight: t[1], bias: bias ? t[2] : nil, stride: stride, padding: padding)
        }, "conv2d")
    }

    /// 3 output channels: oneDNN's deconvolution; 32 (two channel blocks of 16 with AVX-512, four
    /// of 8 with AVX2, on a 3×2 grid): the up-sampling's 1×1-convolution path.
    @Test(arguments: [(inputs: 4, outputs: 3, width: 3, seed: UInt64(4)), (inputs: 5, outputs: 32, width: 2, seed: 22)])
    func transposedConvolution(_ c: (inputs: Int, outputs: Int, width: Int, seed: UInt64)) throws {
        let x = randomTensor([2, c.inputs, 3, c.width], seed: c.seed)
        let w = randomTensor([c.inputs, c.outputs, 2, 2], seed: c.seed + 1, scale: 0.5)
        let b = randomTensor([c.outputs], seed: c.seed + 2)
        expectNoFailures(try gradientCheck([x, w, b]) { t in try transposedConv2d(t[0], weight: t[1], bias: t[2]) },
                         "transposedConv2d")
    }

    /// An activation inside the convolution's kernel in training (its backward reads the output):
    /// finite differences, and the same gradients as the convolution followed by the activation op.
    @Test(arguments: [Eltwise.softplus, .sigmoid, .relu])
    func convolutionWithFusedActivation(_ activation: Eltwise) throws {
        let x = randomTensor([2, 3, 5, 4], seed: 25), w = randomTensor([8, 3, 3, 3], seed: 26, scale: 0.4)
        let b = randomTensor([8], seed: 27)
        if activation != .relu {  // relu's kink makes finite differences unreliable; compared below
            expectNoFailures(try gradientCheck([x, w, b]) { t in
                try conv2d(t[0], weight: t[1], bias: t[2], padding: 1, then: activation)
            }, "conv2d+\(activation)")
        }
        func gradients(_ fused: Bool) throws -> [[Float]] {
            let inputs = [x, w, b].map { $0.copy() }
            inputs.forEach { $0.requiresGrad = true }
            let separately = [Eltwise.softplus: softplus, .sigmoid: sigmoid, .relu: relu][activation]!
            let y = fused ? try conv2d(inputs[0], weight: inputs[1], bias: inputs[2], padding: 1, then: activation)
                : try separately(conv2d(inputs[0], weight: inputs[1], bias: inputs[2], padding: 1))
            try sum(multiply(y, randomTensor(y.shape, seed: 28))).backward()
            return inputs.map { $0.grad!.scalars }
        }
        for (fused, separate) in zip(try gradients(true), try gradients(false)) {
            let scale = separate.map { Swift.abs($0) }.max()!
            // Same arithmetic but for the activation's derivative taken from the output where it
            // runs in the kernel: float rounding only, relative to the gradient's scale.
            #expect(zip(fused, separate).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * scale })
        }
    }


    @Test func maxPoolingAndUnpooling() throws {
        expectNoFailures(try gradientCheck([distinct([2, 3, 6, 4], seed: 7)]) { t in try maxPool2d(t[0]).output },
                         "maxPool2d")
        expectNoFailures(try gradientCheck([distinct([1, 2, 4, 6], seed: 8)]) { t in
            let (p, indices) = try maxPool2d(t[0], keepIndices: true)
            return try maxUnpool2d(p, indices: indices!)
        }, "maxUnpool2d")
    }

    /// Linear, so the central difference has no truncation error: the default tolerance (5e-3 of
    /// the gradient's scale) covers float32 rounding with a wide margin. Also through a 3×3
    /// convolution (U-Net's `resize` decoder), whose oneDNN layouts the op must read and return.
    @Test func nearestUpsampling() throws {
        expectNoFailures(try gradientCheck([randomTensor([2, 3, 3, 4], seed: 22)]) { try upsampleNearest2x($0[0]) },
                         "upsampleNearest2x")
        let w = randomTensor([2, 3, 3, 3], seed: 23, scale: 0.4), b = randomTensor([2], seed: 24)
        expectNoFailures(try gradientCheck([randomTensor([1, 3, 2, 3], seed: 25), w, b]) { t in
            try conv2d(upsampleNearest2x(softplus(t[0])), weight: t[1], bias: t[2], padding: 1)
        }, "upsampleNearest2x then conv2d")
        // Exact values: each value fills a 2×2 block; the backward sums each block.
        let x = try Tensor(shape: [1, 1, 1, 2], scalars: [1, 2], requiresGrad: true)
        let y = try upsampleNearest2x(x)
        #expect(y.shape == [1, 1, 2, 4])
        #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2])
        try y.backward(seed: Tensor(shape: [1, 1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(x.grad!.scalars == [14, 22])  // 1 + 2 + 5 + 6, 3 + 4 + 7 + 8
    }

    /// Softplus' backward runs from its output (1 − e⁻ʸ, a polynomial exponential of our own): σ(x)
    /// computed in double precision, from x = −100 to 100, with a count that leaves a tail after
    /// any vector width; NaN stays NaN. Tolerance: 4e-7 of the gradient (the exponential's 2e-7, y's
    /// and the product's rounding) beyond the forward value's own error, which 1 − e⁻ʸ carries at
    /// slope e⁻ʸ ≤ 1 (oneDNN's softplus is off by up to 8e-6 where x < −8: it rounds 1 + eˣ).
    @Test func softplusBackwardFromItsOutput() throws {
        let values = (0..<1001).map { Float($0) * 0.2 - 100 } + [0, 1e-6, -1e-6, 20.5, .nan]
        let x = try Tensor(shape: [values.count], scalars: values, requiresGrad: true)
        let dy = randomTensor([values.count], seed: 60)
        try softplus(x).backward(seed: dy)
        let (dx, weights) = (x.grad!.scalars, dy.scalars)
        let y = try withoutGradients { try softplus(x) }.scalars
        for (i, v) in values.enumerated() {
            if v.isNaN { #expect(dx[i].isNaN); continue }
            let forwardError = Swift.abs(Double(y[i]) - Foundation.log1p(Foundation.exp(Double(v))))
            #expect(forwardError <= 8e-6, "softplus(\(v)) = \(y[i])")
            let expected = Double(weights[i]) / (1 + Foundation.exp(-Double(v)))
            #expect(Swift.abs(Double(dx[i]) - expected) <= (4e-7 + forwardError) * Double(Swift.abs(weights[i])),
                    "x = \(v), y = \(y[i]), dx = \(dx[i]), dy = \(weights[i])")
        }
    }

    @Test func elementwiseAndBinary() throws {
        let a = randomTensor([2, 3, 4, 5], seed: 9), b = randomTensor([2, 3, 4, 5], seed: 10)
        expectNoFailures(try gradientCheck([a]) { try softplus($0[0]) }, "softplus")
        expectNoFailures(try gradientCheck([a]) { try sigmoid($0[0]) }, "sigmoid")
        expectNoFailures(try gradientCheck([a]) { try scale($0[0], by: -1.5) }, "scale")
        expectNoFailures(try gradientCheck([a]) { try affine($0[0], scale: 2, offset: 1) }, "affine")
        expectNoFailures(try gradientCheck([a, b]) { try add($0[0], $0[1]) }, "add")
        expectNoFailures(try gradientCheck([a, b]) { try multiply($0[0], $0[1]) }, "multiply")
        // Kinks at 0: keep |x| ≥ 0.1.
        let away = try Tensor(shape: [2, 3, 4, 5], scalars: a.scalars.map { $0 < 0 ? $0 - 0.1 : $0 + 0.1 })
        expectNoFailures(try gradientCheck([away]) { try relu($0[0]) }, "relu")
        expectNoFailures(try gradientCheck([away.copy()]) { try abs($0[0]) }, "abs")
        expectNoFailures(try gradientCheck([a.copy()]) { try exp($0[0]) }, "exp")
        expectNoFailures(try gradientCheck([a.copy()]) { try square($0[0]) }, "square")
        let positive = try Tensor(shape: a.shape, scalars: a.scalars.map { Swift.abs($0) + 0.5 })
        expectNoFailures(try gradientCheck([positive]) { try log($0[0]) }, "log")
        // Bounds ±0.5 lie between values: |x| ≥ 0.1 after the shift above keeps kinks away, check it.
        let clipped = try Tensor(shape: a.shape, scalars: away.scalars.map { Swift.abs(Swift.abs($0) - 0.5) < 0.05 ? $0 * 1.3 : $0 })
        expectNoFailures(try gradientCheck([clipped]) { try clip($0[0], lower: -0.5, upper: 0.5) }, "clip")
    }

    @Test func concatenationAndReductions() throws {
        let a = randomTensor([2, 3, 4, 4], seed: 11), b = randomTensor([2, 5, 4, 4], seed: 12)
        expectNoFailures(try gradientCheck([a, b]) { try concat($0) }, "concat")
        expectNoFailures(try gradientCheck([a]) { try sum($0[0]) }, "sum")
        expectNoFailures(try gradientCheck([a]) { try mean($0[0]) }, "mean")
        let mask = try Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map { $0 % 3 == 0 ? 0 : 1 })
        expectNoFailures(try gradientCheck([randomTensor([2, 1, 4, 4], seed: 13)]) { try maskedMean($0[0], mask: mask) },
                         "maskedMean")
    }

    /// Concatenation of 16- and 32-channel convolution outputs (whole channel blocks of 8 or 16):
    /// its backward slices the blocked gradient by whole blocks, image by image.
    @Test func concatenationInChannelBlocks() throws {
        let x = randomTensor([2, 3, 4, 5], seed: 29)
        let w1 = randomTensor([16, 3, 3, 3], seed: 30, scale: 0.4), w2 = randomTensor([32, 3, 1, 1], seed: 31, scale: 0.4)
        let w3 = randomTensor([4, 48, 3, 3], seed: 32, scale: 0.2)
        expectNoFailures(try gradientCheck([x, w1, w2, w3]) { t in
            let joined = try concat([conv2d(t[0], weight: t[1], padding: 1), conv2d(t[0], weight: t[2])])
            return try conv2d(joined, weight: t[3], padding: 1)
        }, "concat of blocked channels")
    }

    @Test(arguments: [true, false])
    func batchNormalization(training: Bool) throws {
        let x = randomTensor([4, 3, 3, 3], seed: 14, scale: 2)
        let gamma = randomTensor([3], seed: 15), beta = randomTensor([3], seed: 16)
        expectNoFailures(try gradientCheck([x, gamma, beta]) { t in
            // Fresh running statistics each call, so every evaluation sees the same state.
            try batchNorm(t[0], scale: t[1], shift: t[2], runningMean: Tensor(repeating: 0.2, shape: [3]),
                          runningVariance: Tensor(repeating: 1.5, shape: [3]), training: training)
        }, "batchNorm")
    }

    @Test func dropoutScalesKeptElementsAndRepeatsBySeed() throws {
        let x = Tensor(repeating: 1, shape: [1, 4, 16, 16])
        x.requiresGrad = true
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let y1 = try dropout(x, probability: 0.25, training: true, generator: &g1)
        let y2 = try dropout(x, probability: 0.25, training: true, generator: &g2)
        #expect(y1.scalars == y2.scalars)
        #expect(Set(y1.scalars) == [0, Float(1) / 0.75])
        let dropped = y1.scalars.filter { $0 == 0 }.count
        #expect(dropped > 1024 / 8 && dropped < 1024 * 3 / 8)  // 25% of 1024 ± wide margin
        try sum(y1).backward()
        #expect(x.grad!.scalars == y1.scalars)  // d/dx of x·mask is the mask
        #expect(try dropout(x, probability: 0.25, training: false, generator: &g1) === x)
    }

    /// conv → softplus → max-pool → transposed conv → concat skip → conv → sigmoid → masked mean.
    @Test func composite() throws {
        let x = randomTensor([2, 2, 4, 4], seed: 17)
        let w1 = randomTensor([3, 2, 3, 3], seed: 18, scale: 0.4), w2 = randomTensor([3, 3, 2, 2], seed: 19, scale: 0.4)
        let w3 = randomTensor([1, 6, 3, 3], seed: 20, scale: 0.3), b3 = randomTensor([1], seed: 21)
        let mask = try Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map { $0 % 4 == 0 ? 0 : 1 })
        expectNoFailures(try gradientCheck([x, w1, w2, w3, b3]) { t in
            let s = try softplus(conv2d(t[0], weight: t[1], padding: 1))
            let up = try transposedConv2d(maxPool2d(s).output, weight: t[2])
            let a = try sigmoid(conv2d(concat([s, up]), weight: t[3], bias: t[4], padding: 1))
            return try maskedMean(a, mask: mask)
        }, "composite")
    }
}
