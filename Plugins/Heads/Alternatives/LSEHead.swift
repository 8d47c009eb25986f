import CompSegCore
import CompSegNN

/// Log-sum-exp pooling (Pinheiro & Collobert 2015): s = (1/r)·log(Σ m·exp(r·a) / Σ m) per image,
/// between the tissue mean (r → 0) and the tissue maximum (r → ∞); loss = binary cross-entropy
/// of s (clipped to [1e-6, 1 − 1e-6]) against the labels, batch mean.
///
/// Computed stably as s = c + (1/r)·log(Σ m·exp(r·(a − c)) / Σ m) with c the image's largest
/// tissue activation, held constant (s does not depend on c, so neither does its gradient):
/// no exponential exceeds 1 and the largest is exactly 1, whatever r.
public struct LSEHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// r: small approaches the tissue mean, large the tissue maximum.
        public var sharpness: Float = 5

        public init() {}
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = .init()) throws {
        let r = configuration.sharpness
        try validate(r > 0 && r.isFinite, "lse", "sharpness must be positive and finite, got \(r)")
        self.configuration = configuration
    }

    public static let info = PluginInfo("lse", summary:
        "log-sum-exp of the activation over tissue with sharpness r (mean to max), cross-entropy against the label")

    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try LSEHead($0.decode(Configuration.self)) }
    }

    /// s, the log-sum-exp mean of the activation over tissue, per image.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        let r = configuration.sharpness
        guard activation.shape.rank == 4, activation.shape.count > 0, activation.shape == tissue.shape else {
            return try maskedMean(activation, mask: tissue)  // throws its shape error
        }
        let (n, pixels) = (activation.shape.n, activation.shape.count / activation.shape.n)
        let a = activation.scalars, m = tissue.scalars
        // The largest tissue activation per image (0 for an empty mask, which maskedMean rejects).
        let peaks: [Float] = (0..<n).map { i in
            (i * pixels..<(i + 1) * pixels).filter { m[$0] > 0 }.map { a[$0] }.max() ?? 0
        }
        // r·(a − c) on tissue (≤ 0), 0 off it, so no exponential overflows.
        let shifted = try multiply(add(activation, perImage(peaks.map { -$0 }, like: activation)), tissue)
        let meanExp = try maskedMean(exp(scale(shifted, by: r)), mask: tissue)
        return try add(scale(log(meanExp), by: 1 / r), Tensor(shape: [n], scalars: peaks))
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let s = try score(activation: activation, tissue: tissue)
        return try binaryCrossEntropy(s, labels: checkedLabels(labels, images: activation.shape.n, head: "lse"))
    }
}
