import CompSegCore
import CompSegNN
import Foundation

/// An example topology plugin: a small fully convolutional network. `depth` same-padded 3×3
/// convolutions of `width` channels, each followed by softplus, then a 1×1 convolution to one
/// channel through a sigmoid: N×C×H×W → N×1×H×W in [0, 1], any H and W.
///
/// Parameter names (as in a PyTorch module with the same attributes): `convolutions.0.weight`,
/// `convolutions.0.bias`, …, `head.weight`, `head.bias`.
public final class TinyFCN: Module, SegmentingNetwork, ReportsConfiguration, @unchecked Sendable {
    /// The keys `width` and `depth` are the ones `compseg train --width --depth` and
    /// `compseg compare` set, so this network accepts them too.
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        public var width = 16
        /// The number of 3×3 convolutions.
        public var depth = 3
        /// The sigmoid output at start (bias of the 1×1 head = logit of it); nil: bias 0 (output .5).
        public var initialActivation: Float? = 0.02

        public init() {}
    }

    public static let info = PluginInfo("tiny-fcn", aliases: ["tinyfcn"],
                                        summary: "example: 3×3 convolutions with softplus and a 1×1 sigmoid head")

    /// The plugin's one entry point: adds the topology to `registry` under `info`'s names.
    public static func register(in registry: inout Registry) throws {
        try registry.registerTopology(info) { channels, seed, configuration in
            try TinyFCN(inputChannels: channels, configuration: configuration.decode(Configuration.self), seed: seed,
                        source: configuration.source)
        }
    }

    public let inputChannels: Int
    public let configuration: Configuration
    let convolutions: [Conv2d]
    let head: Conv2d

    /// - Parameter source: where the configuration was written (`run.yaml: topology`), for messages.
    /// - Throws: `ConfigurationError` for a non-positive size or an initial activation outside (0, 1).
    public init(inputChannels: Int, configuration: Configuration = .init(), seed: UInt64, source: String = "tiny-fcn") throws {
        func fail(_ message: String) -> ConfigurationError { ConfigurationError(source: source, message: message) }
        guard inputChannels > 0 else { throw fail("input channels must be positive, got \(inputChannels)") }
        guard configuration.width > 0 else { throw fail("width must be positive, got \(configuration.width)") }
        guard configuration.depth > 0 else { throw fail("depth must be positive, got \(configuration.depth)") }
        if let a = configuration.initialActivation, !(a > 0 && a < 1) {
            throw fail("initialActivation must lie in (0, 1), got \(a)")
        }
        self.inputChannels = inputChannels
        self.configuration = configuration
        var g = SeededGenerator(seed: seed)  // same seed, same weights
        var convolutions: [Conv2d] = []
        var channels = inputChannels
        for _ in 0..<configuration.depth {
            convolutions.append(Conv2d(inputChannels: channels, outputChannels: configuration.width, kernelSize: 3,
                                       padding: 1, generator: &g))
            channels = configuration.width
        }
        head = Conv2d(inputChannels: channels, outputChannels: 1, kernelSize: 1, generator: &g)
        if let a = configuration.initialActivation {
            head.bias!.withMutablePlainBuffer { $0[0] = Foundation.log(a / (1 - a)) }
        }
        self.convolutions = convolutions
    }

    /// The tensors' names: `convolutions.i.…` and `head.…`.
    override public func namedChildren() -> [(String, Any)] {
        [("convolutions", convolutions), ("head", head)]
    }

    public func activation(_ x: Tensor) throws -> Tensor {
        try x.shape.requireChannels(inputChannels, "tiny-fcn")
        var y = x
        for convolution in convolutions { y = try convolution(y, then: .softplus) }
        return try head(y, then: .sigmoid)
    }
}
