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
}
