import CompSegCore
import CompSegNN

/// An example pooling-head plugin: generalized-mean pooling. Per image, the power mean of the
/// activation over tissue, s = (Σ m·âᵖ / Σ m)^(1/p) with â = clip(a, 1e-6, 1): the tissue mean at
/// p = 1, leaning towards the brightest tissue as p grows, so a cancer image is satisfied by a
/// lit region smaller than its tissue while a cancer-free one must stay dark everywhere.
/// loss = binary cross-entropy of s against the labels, batch mean (optionally class-balanced).
public struct PowerMeanHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// p, in [1, 6]: 1 is the tissue mean; larger leans towards the tissue maximum.
        public var exponent: Float = 3
        /// Weigh both classes equally in every batch, whatever their shares (for unbalanced batches).
        public var balanced = false

        public init() {}
    }

    public static let info = PluginInfo("power-mean", aliases: ["gem"], summary:
        "example: power mean of the activation over tissue (exponent p), cross-entropy against the label")

    /// The plugin's one entry point: adds the head to `registry` under `info`'s names.
    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try PowerMeanHead($0.decode(Configuration.self), source: $0.source) }
    }

    public let configuration: Configuration

    /// - Parameter source: where the configuration was written (`run.yaml: head`), for messages.
    /// - Throws: `ConfigurationError` for an exponent outside [1, 6] (beyond 6, âᵖ of the
    ///   dimmest activation, (1e-6)ᵖ, falls below float32's normal range).
    public init(_ configuration: Configuration = .init(), source: String = "power-mean head") throws {
        let p = configuration.exponent
        guard p >= 1 && p <= 6 else {
            throw ConfigurationError(source: source, message: "exponent must lie in [1, 6], got \(p)")
        }
        self.configuration = configuration
    }

    /// s, the power mean of the activation over tissue: N×1×H×W → N.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        let p = configuration.exponent
        let powered = try exp(scale(log(clip(activation, lower: 1e-6, upper: 1)), by: p))  // âᵖ
        let meanPower = try maskedMean(powered, mask: tissue)  // throws for an image without tissue
        return try exp(scale(log(meanPower), by: 1 / p))
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let s = try score(activation: activation, tissue: tissue)
        let l = try checkedLabels(labels, images: activation.shape.n, head: "power-mean")
        return try binaryCrossEntropy(s, labels: l, weights: configuration.balanced ? balancedClassWeights(l) : nil)
    }
}
