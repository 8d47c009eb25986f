import Testing
import CompSegNN
import CompSegTestSupport

/// A tiny U-Net with one skip, named like the PyTorch module in tools/make_torch_fixtures.py.
final class TinyUNet: Module, @unchecked Sendable {
    final class Block: Module, @unchecked Sendable {
        let conv1: Conv2d
        let conv2: Conv2d?
        init(_ i: Int, _ o: Int, two: Bool, _ g: inout SeededGenerator) {
            conv1 = Conv2d(inputChannels: i, outputChannels: o, kernelSize: 3, padding: 1, generator: &g)
            conv2 = two ? Conv2d(inputChannels: o, outputChannels: o, kernelSize: 3, padding: 1, generator: &g) : nil
        }
        func callAsFunction(_ x: Tensor) throws -> Tensor {
            let y = try softplus(conv1(x))
            return try conv2.map { try softplus($0(y)) } ?? y
        }
    }
    let down0: Block, down1: Block
    let up0: TransposedConv2d
    let up0conv: Block
    let head: Conv2d

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        down0 = Block(3, 4, two: true, &g)
        down1 = Block(4, 8, two: false, &g)
        up0 = TransposedConv2d(inputChannels: 8, outputChannels: 4, generator: &g)
        up0conv = Block(8, 4, two: false, &g)
        head = Conv2d(inputChannels: 4, outputChannels: 1, kernelSize: 1, generator: &g)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let s = try down0(x)
        let bottom = try down1(maxPool2d(s).output)
        return try sigmoid(head(up0conv(concat([s, up0(bottom)]))))
    }
}

/// The CompSegNet pooling neuron and loss: o = α(2σ(βp/α) − 1) + γp, loss = Σ|o − α·t|.
func compSegNetLoss(_ a: Tensor, mask: Tensor, labels: Tensor, alpha: Float = 0.1, beta: Float = 5,
                    gamma: Float = 0.001) throws -> (p: Tensor, o: Tensor, loss: Tensor) {
    let p = try maskedMean(a, mask: mask)
    let squashed = try affine(sigmoid(scale(p, by: beta / alpha)), scale: 2 * alpha, offset: -alpha)
    let o = try add(squashed, scale(p, by: gamma))
    let loss = try sum(abs(add(o, scale(labels, by: -alpha))))
    return (p, o, loss)
}

@Suite struct CompositeTests {
    @Test func parameterNamesFollowPropertyPaths() throws {
        let f = try TorchFixture("unet_block")
        let names = TinyUNet(seed: 1).namedParameters().map(\.0)
        #expect(names == f.file.metadata["parameters"]!.split(separator: ",").map(String.init))
    }

    /// The whole graph (convolutions, pooling, transposed convolution, skip concat, masked mean,
    /// σ_{α,β,γ} and L1 loss) against PyTorch. The gradients are tiny here (σ is saturated at
    /// p ≈ 0.38, so they flow through γ = 0.001) and the comparison is relative to each
    /// reference tensor's largest magnitude; 1e-4 as for single ops, since float32 rounding
    /// scales with the values.
    @Test func uNetBlockAgreesWithTorch() throws {
        let f = try TorchFixture("unet_block")
        let net = TinyUNet(seed: 1)
        for (name, p) in net.namedParameters() {
            let reference = try f.tensor(name).scalars
            p.withMutablePlainBuffer { _ = $0.update(fromContentsOf: reference) }
        }
        let x = try f.tensor("x", requiresGrad: true)
        let a = try net(x)
        let (p, o, loss) = try compSegNetLoss(a, mask: f.tensor("m"), labels: f.tensor("t"))
        var problems: [String?] = [
            agreement(a, try f.tensor("a"), tolerance: 1e-4, "a"),
            agreement(p, try f.tensor("p"), tolerance: 1e-4, "p"),
            agreement(o, try f.tensor("o"), tolerance: 1e-4, "o"),
            agreement(loss, try f.tensor("loss"), tolerance: 1e-4, "loss"),
        ]
        try loss.backward()
        problems.append(agreement(x.grad!, try f.tensor("grad.x"), tolerance: 1e-4, "grad.x"))
        for (name, p) in net.namedParameters() {
            problems.append(agreement(p.grad!, try f.tensor("grad.\(name)"), tolerance: 1e-4, "grad.\(name)"))
        }
        let failures = problems.compactMap { $0 }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// A tensor used twice (a skip) receives the sum of both paths' gradients.
    @Test func gradientsAccumulateOverReuse() throws {
        let x = try Tensor(shape: [1, 1, 1, 3], scalars: [1, 2, 3], requiresGrad: true)
        let y = try sum(add(multiply(x, x), scale(x, by: 3)))  // Σ x² + 3x → dy/dx = 2x + 3
        try y.backward()
        #expect(x.grad!.scalars == [5, 7, 9])
    }

    @Test func sameSeedGivesIdenticalWeights() {
        let a = TinyUNet(seed: 42).parameters.flatMap(\.scalars)
        let b = TinyUNet(seed: 42).parameters.flatMap(\.scalars)
        let c = TinyUNet(seed: 43).parameters.flatMap(\.scalars)
        #expect(a == b)
        #expect(a != c)
    }
}
