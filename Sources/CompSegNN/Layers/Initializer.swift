/// How a parameter's first values are drawn, from a seeded generator (same seed → same bits).
///
/// Fans follow PyTorch: fan_in = shape[1]·kH·kW, fan_out = shape[0]·kH·kW (for a transposed
/// convolution's I×O×kH×kW weight that makes fan_in = O·kH·kW, as PyTorch computes it).
public enum Initializer: Hashable, Sendable, Codable {
    /// He/Kaiming normal: N(0, 2/fan_in) — for ReLU-like activations.
    case heNormal
    /// He/Kaiming uniform: U(±√(6/fan_in)).
    case heUniform
    /// Glorot/Xavier uniform: U(±√(6/(fan_in + fan_out))).
    case glorotUniform
    /// Glorot/Xavier normal: N(0, 2/(fan_in + fan_out)).
    case glorotNormal
    /// PyTorch's default for convolution weights: U(±1/√fan_in). Biases start at 0, as with every
    /// initializer here (PyTorch draws them from the same range; on the independent phantom that
    /// lowered the mean Dice, docs/method.md).
    case torchDefault
    case constant(Float)

    /// A plain tensor of `shape` drawn from `generator`.
    public func make(_ shape: Shape, generator: inout SeededGenerator) -> Tensor {
        let receptive = shape.rank > 2 ? shape.dims[2...].reduce(1, *) : 1
        let fanIn = Float((shape.rank > 1 ? shape[1] : shape[0]) * receptive)
        let fanOut = Float(shape[0] * receptive)
        let t = Tensor(zeros: shape)
        t.withMutablePlainBuffer { v in
            func uniform(_ bound: Float) { for i in v.indices { v[i] = (2 * generator.nextUniform() - 1) * bound } }
            func normal(_ std: Float) { for i in v.indices { v[i] = generator.nextNormal() * std } }
            switch self {
            case .heNormal: normal((2 / fanIn).squareRoot())
            case .heUniform: uniform((6 / fanIn).squareRoot())
            case .glorotUniform: uniform((6 / (fanIn + fanOut)).squareRoot())
            case .glorotNormal: normal((2 / (fanIn + fanOut)).squareRoot())
            case .torchDefault: uniform(1 / fanIn.squareRoot())
            case .constant(let c): v.update(repeating: c)
            }
        }
        return t
    }
}
