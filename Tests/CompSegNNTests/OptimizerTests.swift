import Testing
import CompSegNN
import CompSegTestSupport

/// Three steps of each optimizer against PyTorch's (fixtures by tools/make_torch_fixtures.py).
/// Tolerance 1e-5 relative: one float32 rounding per operation over three steps.
@Suite struct OptimizerTests {
    func run(_ name: String, _ make: (TorchFixture) throws -> Optimizer) throws {
        let f = try TorchFixture(name)
        let w = try f.tensor("w", requiresGrad: true)
        let optimizer = try make(f)
        for k in 1...3 {
            w.zeroGrad()
            try multiply(w, f.tensor("g\(k)")).backward(seed: Tensor(repeating: 1, shape: w.shape))
            optimizer.step([w])
            #expect(agreement(w, try f.tensor("w\(k)"), tolerance: 1e-5, "\(name) step \(k)") == nil)
        }
    }

    @Test func rmspropPlain() throws {
        try run("rmsprop_plain") { f in
            RMSprop(learningRate: try f.number("lr"), alpha: try f.number("alpha"), epsilon: try f.number("eps"))
        }
    }

    @Test func rmspropCenteredWithMomentumAndDecay() throws {
        try run("rmsprop_momentum_centered") { f in
            RMSprop(learningRate: try f.number("lr"), alpha: try f.number("alpha"), epsilon: try f.number("eps"),
                    momentum: try f.number("momentum"), centered: f.flag("centered"),
                    weightDecay: try f.number("weight_decay"))
        }
    }

    @Test(arguments: ["adam", "adam_wd"])
    func adam(_ name: String) throws {
        try run(name) { f in
            Adam(learningRate: try f.number("lr"), epsilon: try f.number("eps"), weightDecay: try f.number("weight_decay"))
        }
    }

    @Test func sgdWithMomentum() throws {
        try run("sgd_momentum") { f in
            SGD(learningRate: try f.number("lr"), momentum: try f.number("momentum"),
                weightDecay: try f.number("weight_decay"))
        }
    }

    /// A convolution's weight moves into its kernel's layout in training (padded: 20 inputs and
    /// 24 outputs are not whole blocks); updating it there gives the values, and the optimizer
    /// state, of the same update on a plain copy fed the same gradients. A state imported in plain
    /// order follows the parameter into its layout; plain writes keep the layout.
    @Test func weightInKernelLayoutUpdatesAsPlain() throws {
        let x = randomTensor([2, 20, 6, 5], seed: 40)
        let blocked = randomTensor([24, 20, 3, 3], seed: 41, scale: 0.2, requiresGrad: true)
        let plain = blocked.copy()
        plain.requiresGrad = true
        func optimizer() -> RMSprop {
            RMSprop(learningRate: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01)
        }
        let (a, b) = (optimizer(), optimizer())
        func step(_ k: Int, _ a: Optimizer) throws {
            blocked.zeroGrad(); plain.zeroGrad()
            let y = try conv2d(x, weight: blocked, padding: 1)
            try sum(multiply(y, randomTensor(y.shape, seed: UInt64(50 + k)))).backward()
            #expect(!blocked.isPlain && blocked.grad?.isPlain == false)
            try multiply(plain, blocked.grad!.plain()).backward(seed: Tensor(repeating: 1, shape: plain.shape))
            a.step([blocked]); b.step([plain])
        }
        for k in 1...3 {
            try step(k, a)
            #expect(agreement(blocked, plain, tolerance: 1e-6, "step \(k)") == nil)
        }
        let state = a.exportState([("w", blocked)]), plainState = b.exportState([("w", plain)])
        #expect(state.tensors["w"]!.scalars == plainState.tensors["w"]!.scalars)
        #expect(state.updates == ["w": 3])

        let resumed = optimizer()
        try resumed.importState([("w", blocked)], tensors: state.tensors, updates: state.updates)
        try step(4, resumed)
        #expect(agreement(blocked, plain, tolerance: 1e-6, "step 4 after import") == nil)

        let before = blocked.scalars
        blocked.withMutablePlainBuffer { $0[5] = 7 }
        #expect(!blocked.isPlain)
        #expect(blocked.scalars == Array(before[..<5]) + [7] + Array(before[6...]))
        // A plain read of the blocked weight goes through a plain copy (it once failed a precondition).
        #expect(blocked.withPlainBuffer { Array($0) } == blocked.scalars)
    }
}
