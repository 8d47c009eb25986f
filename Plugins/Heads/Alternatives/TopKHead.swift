import CompSegCore
import CompSegNN

/// Top-k pooling: s = the mean of the largest ⌈k·(tissue pixels)⌉ activations within tissue per
/// image (at least one pixel; `maskedTopKMean`), so a cancer image needs only its brightest
/// fraction k lit; loss = binary cross-entropy of s (clipped to [1e-6, 1 − 1e-6]) against the
/// labels, batch mean.
public struct TopKHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// k: the fraction of each image's tissue pixels averaged, in (0, 1].
        public var fraction: Float = 0.1

        public init() {}
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = .init()) throws {
        let k = configuration.fraction
        try validate(k > 0 && k <= 1, "topk", "fraction must lie in (0, 1], got \(k)")
        self.configuration = configuration
    }

    public static let info = PluginInfo("topk", summary:
        "mean of the largest fraction k of the activation over tissue, cross-entropy against the label")

    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try TopKHead($0.decode(Configuration.self)) }
    }

    /// s, the mean of the top fraction k of tissue activations, per image.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        try maskedTopKMean(activation, mask: tissue, fraction: configuration.fraction)
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let s = try score(activation: activation, tissue: tissue)
        return try binaryCrossEntropy(s, labels: checkedLabels(labels, images: activation.shape.n, head: "topk"))
    }
}
