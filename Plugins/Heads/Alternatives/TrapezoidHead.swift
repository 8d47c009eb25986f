import CompSegCore
import CompSegNN

/// The CompSegNet authors' 2022 trapezoid variant. p = Σ m·a / Σ m, the mean activation over
/// tissue; o = clip(p/α, 0, 1) + clip(−(p − (α+β)) / |1 − (α+β)|, −1, 0): o rises from 0 at p = 0
/// to 1 at p = α, stays 1 up to p = α + β and falls back to 0 at p = 1, so a cancer image is
/// satisfied once between α and α + β of its tissue lights up, but not when all of it does.
///
/// loss = class-weighted binary cross-entropy of o (clipped to [1e-6, 1 − 1e-6]) against the
/// labels, with weights N/(2·N_c) from the batch's label counts (a class absent from the batch
/// gets weight 0; see `balancedClassWeights`), plus the mean of −log(1 − a) (a clipped the same
/// way) over the pixels where 1 − ℓ·m = 1: outside tissue in cancer images and everywhere in
/// cancer-free ones, one mean over those pixels of the whole batch (no such pixel: no term).
public struct TrapezoidHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// Where o reaches 1 (the rising edge ends).
        public var alpha: Float = 0.05
        /// The width of the plateau o = 1; o falls from p = α + β to 0 at p = 1.
        public var beta: Float = 0.8

        public init() {}
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = .init()) throws {
        let (a, b) = (configuration.alpha, configuration.beta)
        try validate(a > 0 && b >= 0 && a + b < 1, "trapezoid",
                     "alpha must be positive, beta non-negative and alpha + beta below 1, got alpha \(a), beta \(b)")
        self.configuration = configuration
    }

    public static let info = PluginInfo("trapezoid", summary:
        "tissue mean through a trapezoid (1 from α to α+β), balanced cross-entropy plus −log(1−a) off cancer tissue")

    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try TrapezoidHead($0.decode(Configuration.self)) }
    }

    /// o, the trapezoid of the masked mean activation, per image.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        let (alpha, top) = (configuration.alpha, configuration.alpha + configuration.beta)
        let p = try maskedMean(activation, mask: tissue)
        let rise = try clip(scale(p, by: 1 / alpha), lower: 0, upper: 1)
        let width = Swift.abs(1 - top)
        let fall = try clip(affine(p, scale: -1 / width, offset: top / width), lower: -1, upper: 0)
        return try add(rise, fall)
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let o = try score(activation: activation, tissue: tissue)
        let l = try checkedLabels(labels, images: activation.shape.n, head: "trapezoid")
        let classification = try binaryCrossEntropy(o, labels: l, weights: balancedClassWeights(l))

        // 1 − ℓ·m: 1 off tissue in cancer images and everywhere in cancer-free ones.
        let m = tissue.scalars, pixels = activation.shape.count / activation.shape.n
        let outside = m.indices.map { 1 - l[$0 / pixels] * m[$0] }
        let count = outside.reduce(0, +)
        guard count > 0 else { return classification }
        let a = try clip(activation, lower: probabilityEpsilon, upper: 1 - probabilityEpsilon)
        let logBackground = try log(affine(a, scale: -1, offset: 1))
        let weights = try Tensor(shape: activation.shape, scalars: outside)
        let background = try scale(sum(multiply(logBackground, weights)), by: -1 / count)
        return try add(classification, background)
    }
}
