import CompSegCore
import CompSegNN

/// The size constraint of Kervadec et al. (2019, "Constrained-CNN losses for weakly supervised
/// segmentation"): V = Σ m·a / Σ m, the fraction of the tissue that the activation covers, must
/// lie in [a, b] (`lower`, `upper`) in cancer images and be 0 in cancer-free ones (a = b = 0).
/// The penalty per image is relu(a − V)² + relu(V − b)², i.e. (V − a)² below a, (V − b)² above b
/// and 0 between; loss = the penalties' batch mean (or sum).
public struct SizeHead: PoolingHead, ReportsConfiguration {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// a: the least tissue fraction a cancer image's activation must cover.
        public var lower: Float = 0.1
        /// b: the most tissue fraction a cancer image's activation may cover.
        public var upper: Float = 0.9
        /// `mean` over the batch, or `sum`.
        public var reduction: Reduction = .mean
        public enum Reduction: String, ConfigurationChoice, Sendable { case sum, mean }

        public init() {}
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = .init()) throws {
        let (a, b) = (configuration.lower, configuration.upper)
        try validate(0 <= a && a <= b && b <= 1, "size",
                     "lower and upper must satisfy 0 ≤ lower ≤ upper ≤ 1, got lower \(a), upper \(b)")
        self.configuration = configuration
    }

    public static let info = PluginInfo("size", summary:
        "squared penalty keeping the activated tissue fraction in [a, b] for cancer, at 0 for cancer-free (Kervadec 2019)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerHead(info) { try SizeHead($0.decode(Configuration.self)) }
    }

    /// V, the masked mean activation, per image.
    public func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
        try maskedMean(activation, mask: tissue)
    }

    public func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
        let v = try score(activation: activation, tissue: tissue)
        let l = try checkedLabels(labels, images: activation.shape.n, head: "size")
        let n = l.count
        let lower = try Tensor(shape: [n], scalars: l.map { $0 * configuration.lower })
        let upper = try Tensor(shape: [n], scalars: l.map { -$0 * configuration.upper })
        let below = try square(relu(add(scale(v, by: -1), lower)))  // relu(a − V)²
        let above = try square(relu(add(v, upper)))                  // relu(V − b)²
        let penalties = try add(below, above)
        return configuration.reduction == .sum ? try sum(penalties) : try mean(penalties)
    }
}
