/// Runs every op of the `KernelBackend` seam on two backends with the same inputs, and measures how
/// far apart their results lie: each output and gradient as max |a − b| / max |a|, relative to
/// the reference's scale. This is how a new backend (CUDA) is checked against the CPU's.
public enum BackendAgreement {
    /// One compared tensor: the case, which of its outputs, and the relative difference.
    public struct Row: Sendable {
        public let op: String
        public let output: String
        public let difference: Float
        /// Whether the result came through a convolution, computed at the backend's precision
        /// (everything else is fp32 at every precision).
        public let throughConvolution: Bool
        public init(op: String, output: String, difference: Float, throughConvolution: Bool = false) {
            self.op = op; self.output = output; self.difference = difference
            self.throughConvolution = throughConvolution
        }

        /// The bound of this row for a backend whose convolutions compute at `precision`.
        public func tolerance(_ precision: Precision) -> Float {
            BackendAgreement.tolerance(for: throughConvolution ? precision : .fp32)
        }
    }

    /// The bound in fp32 (issue 22): orders of magnitude above float32 rounding of the sums here
    /// (at most a few hundred terms; 64 ε ≈ 8e-6), far below any wrong index or formula.
    public static let tolerance: Float = 1e-4
    /// With TF32 products (10-bit mantissas, each rounded by up to 2⁻¹¹ ≈ 4.9e-4 relative): ten times that.
    public static let tf32Tolerance: Float = 5e-3
    /// With bf16 operands and results (8-bit significands, each rounded by up to 2⁻⁹ ≈ 2e-3
    /// relative: two operands and the result, then gradients through a few of them): 3e-2.
    public static let bf16Tolerance: Float = 3e-2

    /// The bound for convolutions computed at `precision`.
    public static func tolerance(for precision: Precision) -> Float {
        switch precision {
        case .fp32: tolerance
        case .tf32: tf32Tolerance
        case .bf16: bf16Tolerance
        }
    }

    /// A case builds its inputs from `seed` under the backend being run, and returns its results.
    struct Case {
        let op: String
        var convolution = false
        let run: (any KernelBackend, inout SeededGenerator) throws -> [(String, Tensor)]
    }

    /// Every case on `reference`, then on `candidate`, with the same inputs.
    /// - Returns: a row per compared tensor, in the cases' order.
    public static func compare(_ candidate: any KernelBackend, with reference: any KernelBackend,
                               seed: UInt64 = 0) throws -> [Row] {
        try cases.flatMap { c in
            let expected = try values(of: c, on: reference, seed: seed)
            let actual = try values(of: c, on: candidate, seed: seed)
            return zip(expected, actual).map { e, a in
                Row(op: c.op, output: e.0, difference: relativeDifference(e.1, a.1), throughConvolution: c.convolution)
            }
        }
    }

    /// max |a − b| / max(max |a|, `scale`) (0 when both are all zero; infinite when the shapes or
    /// NaNs differ). `scale` sets the magnitude a difference is measured against where a's own may
    /// be noise (a gradient that is zero in exact arithmetic).
    public static func relativeDifference(_ a: [Float], _ b: [Float], scale minimumScale: Float? = nil) -> Float {
        guard a.count == b.count else { return .infinity }
        var scale: Float = 0, largest: Float = 0
        for (x, y) in zip(a, b) {
            if x.isNaN != y.isNaN { return .infinity }
            if x.isNaN { continue }
            scale = max(scale, abs(x))
            largest = max(largest, abs(x - y))
        }
        return largest == 0 ? 0 : largest / max(scale, minimumScale ?? 0, .leastNormalMagnitude)
    }

    /// The case's results on `backend` (current meanwhile, so its tensors take its memory), as plain values.
    private static func values(of c: Case, on backend: any KernelBackend, seed: UInt64) throws -> [(String, [Float])] {
        try Backend.using(backend) {
            var g = SeededGenerator(seed: seed)
            return try c.run(backend, &g).map { ($0.0, $0.1.scalars) }
        }
    }

    /// Batch norm's outputs on `backend` for random x and dy of `shape`: training and frozen.
    static func batchNormOutputs(_ b: any KernelBackend, _ shape: Shape, _ g: inout SeededGenerator) throws -> [(String, Tensor)] {
        let x = random(shape, &g), scale = random([shape.c], &g), shift = random([shape.c], &g), dy = random(shape, &g)
        let (y, s) = try b.batchNormForward(x, scale: scale, shift: shift, statistics: nil, epsilon: 1e-5)
        let d = try b.batchNormBackward(dy, x: x, scale: scale, statistics: s, frozen: false, epsilon: 1e-5)
        let (yFrozen, _) = try b.batchNormForward(x, scale: scale, shift: shift, statistics: s, epsilon: 1e-5)
        let dFrozen = try b.batchNormBackward(dy, x: x, scale: scale, statistics: s, frozen: true, epsilon: 1e-5)
        return [("y", y), ("mean", s.mean), ("variance", s.variance), ("dx", d.dx), ("dscale", d.dscale),
                ("dshift", d.dshift), ("y (inference)", yFrozen), ("dx (frozen)", dFrozen.dx)]
    }

    /// Values from a normal distribution (`positive`: |value| + 0.1, for log).
    static func random(_ shape: Shape, _ g: inout SeededGenerator, positive: Bool = false) -> Tensor {
        let values = (0..<shape.count).map { _ in positive ? abs(g.nextNormal()) + 0.1 : g.nextNormal() }
        return try! Tensor(shape: shape, scalars: values)
    }

    static var cases: [Case] {
        convolutionCases + poolingCases + eltwiseCases + [
            Case(op: "binary add, multiply") { b, g in
                let x = random([2, 5, 9, 7], &g), y = random([2, 5, 9, 7], &g)
                return [("a + b", try b.binary(.add, x, y)), ("a · b", try b.binary(.multiply, x, y))]
            },
            Case(op: "concat channels, slice") { b, g in
                let x = random([2, 8, 6, 5], &g), y = random([2, 3, 6, 5], &g)
                return [("concat", try b.concat([x, y], axis: 1)), ("slice 2..<9", try b.slice(b.concat([x, y], axis: 1), axis: 1, range: 2..<9))]
            },
            Case(op: "batch norm") { b, g in try batchNormOutputs(b, [3, 6, 7, 5], &g) },
            // Planes large enough that a GPU sums each over several blocks (unequal pieces).
            Case(op: "batch norm, 80×83 planes") { b, g in try batchNormOutputs(b, [2, 3, 80, 83], &g) },
            // Not ops of the seam: batch norm's running statistics, the head's masked mean, the
            // optimizers, the trainer's masked range and stacking a batch run on the backend's
            // `DeviceKernels` where it has them.
            Case(op: "masked range") { _, g in
                let a = random([3, 1, 9, 7], &g)
                let mask = try! Tensor(shape: a.shape, scalars: (0..<a.shape.count).map { _ in g.nextUniform() < 0.3 ? 1 : 0 })
                let range = try maskedRange(a, mask: mask)
                return [("lowest, highest", try Tensor(shape: [2], scalars: [range.lowest, range.highest]))]
            },
            Case(op: "stack, plane views") { _, g in
                let squares = (0..<8).map { _ in random([3, 6, 6], &g) }, rectangles = (0..<4).map { _ in random([2, 5, 7], &g) }
                return [("8 views of 3×6×6", try stack(squares, views: (0..<8).map(PlaneView.init(code:)))),
                        ("4 flips of 2×5×7", try stack(rectangles, views: (0..<4).map(PlaneView.init(code:))))]
            },
            Case(op: "batch norm running statistics") { _, g in
                let x = random([3, 6, 7, 5], &g), scale = random([6], &g), shift = random([6], &g)
                let mean = random([6], &g), variance = random([6], &g, positive: true)
                _ = try batchNorm(x, scale: scale, shift: shift, runningMean: mean, runningVariance: variance, training: true)
                return [("running mean", mean), ("running variance", variance)]
            },
            Case(op: "masked mean") { _, g in
                let a = random([3, 1, 9, 7], &g)
                a.requiresGrad = true
                let mask = try! Tensor(shape: a.shape, scalars: (0..<a.shape.count).map { _ in g.nextUniform() < 0.7 ? 1 : 0 })
                let means = try maskedMean(a, mask: mask)
                try sum(multiply(means, random([3], &g))).backward()
                return [("means", means), ("da", a.grad!)]
            },
            Case(op: "optimizers, 3 steps") { _, g in
                let optimizers: [(String, Optimizer)] = [
                    ("rmsprop", RMSprop(learningRate: 1e-2, weightDecay: 1e-3)),
                    ("rmsprop centered, momentum", RMSprop(learningRate: 1e-2, momentum: 0.9, centered: true)),
                    ("adam", Adam(learningRate: 1e-2, weightDecay: 1e-3)),
                    ("sgd nesterov", SGD(learningRate: 1e-2, momentum: 0.9, dampening: 0.1, nesterov: true, weightDecay: 1e-3)),
                ]
                return optimizers.map { name, optimizer in
                    let p = random([3, 5, 7], &g)
                    p.requiresGrad = true
                    for _ in 0..<3 {
                        p.grad = random(p.shape, &g)
                        optimizer.step([p])
                    }
                    return (name, p)
                }
            },
        ]
    }

    /// The network's convolutions: 3×3 of every kind of layer (first, inner, odd sizes), 1×1,
    /// and the up-sampling 2×2 transposed convolution.
    static var convolutionCases: [Case] {
        let shapes: [(name: String, x: Shape, weight: Shape, geometry: ConvolutionGeometry)] = [
            ("conv 3×3, 16→24 on 20×20", [2, 16, 20, 20], [24, 16, 3, 3], ConvolutionGeometry(padding: 1)),
            ("conv 3×3, 5→8 on 17×19", [2, 5, 17, 19], [8, 5, 3, 3], ConvolutionGeometry(padding: 1)),
            ("conv 1×1, 16→1 on 12×12", [2, 16, 12, 12], [1, 16, 1, 1], ConvolutionGeometry()),
            ("transposed conv 2×2/2, 16→8 on 8×8", [2, 16, 8, 8], [16, 8, 2, 2], ConvolutionGeometry(stride: 2, transposed: true)),
        ]
        return shapes.map { s in
            Case(op: s.name, convolution: true) { b, g in
                let x = random(s.x, &g), w = random(s.weight, &g)
                let outputs = s.geometry.transposed ? s.weight[1] : s.weight[0]
                let bias = random([outputs], &g)
                let y = try b.convolutionForward(x, weight: w, bias: bias, geometry: s.geometry, epilogue: .training)
                let relu = try b.convolutionForward(x, weight: w, bias: bias, geometry: s.geometry,
                                                    epilogue: ConvolutionEpilogue(activation: .relu, training: true))
                let dy = random(y.shape, &g)
                let dx = try b.convolutionBackwardData(dy, weight: w, inputShape: x.shape, geometry: s.geometry)
                let d = try b.convolutionBackwardWeights(dy, input: x, weightShape: w.shape, weightLayout: nil,
                                                         withBias: true, geometry: s.geometry)
                return [("y", y), ("relu(y)", relu), ("dx", dx), ("dw", d.weight), ("db", d.bias!)]
            }
        }
    }

    /// Max pooling forward and backward; average pooling forward (the engine uses it in
    /// inference only, for unpooling's gradient).
    static var poolingCases: [Case] {
        [Case(op: "max pooling 2×2") { b, g in
            let x = random([2, 8, 10, 12], &g)
            let (y, workspace) = try b.poolingForward(x, geometry: PoolingGeometry(kind: .max), training: true)
            let dy = random(y.shape, &g)
            let dx = try b.poolingBackward(dy, workspace: workspace, inputShape: x.shape, geometry: PoolingGeometry(kind: .max))
            return [("y", y), ("dx", dx)]
        },
         Case(op: "average pooling 2×2") { b, g in
            [("y", try b.poolingForward(random([2, 8, 10, 12], &g), geometry: PoolingGeometry(kind: .average), training: false).0)]
        }]
    }

    static var eltwiseCases: [Case] {
        let functions: [(String, Eltwise)] = [
            ("relu", .relu), ("softplus", .softplus), ("sigmoid", .sigmoid), ("abs", .abs), ("exp", .exp), ("log", .log),
            ("square", .square), ("clip", .clip(lower: -0.5, upper: 0.7)), ("linear", .linear(alpha: -1.5, beta: 0.25)),
        ]
        return functions.map { name, function in
            Case(op: name) { b, g in
                let x = random([3, 7, 11, 5], &g, positive: function == .log), dy = random([3, 7, 11, 5], &g)
                let y = try b.eltwiseForward(x, function)
                let dx = try b.eltwiseBackward(dy, value: function.usesOutputForBackward ? y : x, function)
                return [("y", y), ("dx", dx)]
            }
        }
    }
}
