import CompSegCore
import CompSegNN

/// The CompSegNet pooling neuron (paper §3; the mean over tissue alone is ours): p = Σ m·a / Σ m,
/// the mean activation over tissue; o = σ_{α,β,γ}(p) = α(2/(1 + e^{−βp/α}) − 1) + γp;
/// loss = Σⱼ |oⱼ − α·ℓⱼ| (or the batch mean). σ saturates near α and reaches it at p ≈ 0.145
/// (the defaults), so a cancer image's loss is least where about that share of its tissue lights
/// up (more costs slightly, through γ), while a cancer-free image is pushed to zero activation
/// everywhere.
public struct CompSegNetHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        public var alpha: Float = 0.1
        public var beta: Float = 5
        public var gamma: Float = 0.001
        /// `sum` over the batch (the paper) or `mean`.
        public var reduction: Reduction = .sum
        public enum Reduction: String, ConfigurationChoice, Sendable { case sum, mean }

        public init() {}
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = .init()) throws {
        guard configuration.alpha > 0, configuration.alpha < 1 else {
            throw ConfigurationError(source: "compsegnet head", message: "alpha must lie in (0, 1), got \(configuration.alpha)")
        }
        guard configuration.beta > 0, configuration.gamma >= 0 else {
            throw ConfigurationError(source: "compsegnet head", message: "beta must be positive and gamma non-negative")
        }
        self.configuration = configuration
    }

    public static let info = PluginInfo("compsegnet", aliases: ["paper"],
                                        summary: "mean activation over tissue through σ_{α,β,γ}, L1 loss against α·label (paper §3)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try CompSegNetHead($0.decode(Configuration.self)) }
    }

    /// σ_{α,β,γ}(p) of the masked mean activation, per image.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        let c = configuration
        let p = try maskedMean(activation, mask: tissue)
        let squashed = try affine(sigmoid(scale(p, by: c.beta / c.alpha)), scale: 2 * c.alpha, offset: -c.alpha)
        return try add(squashed, scale(p, by: c.gamma))
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let o = try score(activation: activation, tissue: tissue)
        let l1 = try abs(add(o, scale(labels, by: -configuration.alpha)))
        return configuration.reduction == .sum ? try sum(l1) : try mean(l1)
    }
}
