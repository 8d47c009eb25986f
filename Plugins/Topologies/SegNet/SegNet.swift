import CompSegCore
import CompSegNN
import Foundation

/// SegNet (Badrinarayanan et al. 2017): an encoder of `depth` stages of 3×3 convolutions, each
/// ending in a 2×2 max-pooling that remembers its argmax, and a mirrored decoder that up-samples
/// with those indices (max-unpooling) instead of learned up-sampling or skip concatenation;
/// a 1×1 convolution to one channel through a sigmoid. Widths double from `width` up to 8×width.
/// Parameters are named `encoder.i.0.weight`, `decoder.i.3.weight`, `head.weight`.
public final class SegNet: Module, SegmentingNetwork, ReportsConfiguration, @unchecked Sendable {
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        public var width = 64
        public var depth = 4
        /// 3×3 convolutions per stage (VGG-16's SegNet has 2 in the first two stages, 3 deeper).
        public var convolutionsPerStage = 2
        public var activation = Activation.relu
        public var batchNorm = true
        public var initializer = Initializer.heNormal
        /// The sigmoid output at start (bias of the 1×1 head = logit of it); nil: bias 0.
        public var initialActivation: Float? = 0.02

        public init() {}

        func validate() throws {
            func fail(_ m: String) -> ConfigurationError { ConfigurationError(source: "segnet", message: m) }
            guard (1...4096).contains(width) else { throw fail("width must lie in 1…4096, got \(width)") }
            guard (1...8).contains(depth) else { throw fail("depth must lie in 1…8, got \(depth)") }
            guard (1...4).contains(convolutionsPerStage) else {
                throw fail("convolutionsPerStage must lie in 1…4, got \(convolutionsPerStage)")
            }
            if let a = initialActivation, !(a > 0 && a < 1) { throw fail("initialActivation must lie in (0, 1), got \(a)") }
            do { try requireWeightMemory(weights, of: "a SegNet of width \(width) and depth \(depth)") } catch { throw fail("\(error)") }
        }

        /// About how many weights the network holds: each stage's convolutions, in the encoder and
        /// the decoder, at the stage's width (doubling up to the fourth stage; the input's aside).
        public var weights: Double {
            (0..<depth).reduce(0.0) { $0 + 2 * Double(convolutionsPerStage) * 9 * pow(Double(width << min($1, 3)), 2) }
        }
    }

    public static let info = PluginInfo("segnet", summary:
        "SegNet: encoder–decoder that up-samples with the encoder's max-pool indices (Badrinarayanan et al. 2017)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerTopology(info, check: { try $0.decode(Configuration.self).validate() }) { channels, seed, configuration in
            try SegNet(inputChannels: channels, configuration: configuration.decode(Configuration.self), seed: seed)
        }
    }

    public let inputChannels: Int
    public let configuration: Configuration
    let encoder: [ConvStack]
    let decoder: [ConvStack]
    let head: Conv2d

    public init(inputChannels: Int, configuration: Configuration = .init(), seed: UInt64) throws {
        guard inputChannels > 0 else {
            throw ConfigurationError(source: "segnet", message: "input channels must be positive, got \(inputChannels)")
        }
        try configuration.validate()
        do {
            try requireNetworkMemory(configuration.weights, inputChannels: inputChannels, width: configuration.width,
                                     of: "a SegNet of width \(configuration.width) and depth \(configuration.depth)")
        } catch { throw ConfigurationError(source: "segnet", message: "\(error)") }
        self.inputChannels = inputChannels
        self.configuration = configuration
        let c = configuration
        var g = SeededGenerator(seed: seed)
        let widths = (0..<c.depth).map { c.width << min($0, 3) }
        let repeats = c.convolutionsPerStage
        var encoder: [ConvStack] = []
        var channels = inputChannels
        for w in widths {
            encoder.append(ConvStack(channels: [channels] + Array(repeating: w, count: repeats), activation: c.activation,
                                     batchNorm: c.batchNorm, initializer: c.initializer, generator: &g))
            channels = w
        }
        // Decoder stage i mirrors encoder stage i: from its width back to the previous stage's.
        var decoder: [ConvStack] = []
        for i in stride(from: c.depth - 1, through: 0, by: -1) {
            let out = i > 0 ? widths[i - 1] : widths[0]
            decoder.append(ConvStack(channels: Array(repeating: widths[i], count: repeats) + [out], activation: c.activation,
                                     batchNorm: c.batchNorm, initializer: c.initializer, generator: &g))
        }
        head = Conv2d(inputChannels: widths[0], outputChannels: 1, kernelSize: 1, initializer: c.initializer, generator: &g)
        if let a = c.initialActivation { head.bias!.withMutablePlainBuffer { $0[0] = Foundation.log(a / (1 - a)) } }
        self.encoder = encoder
        self.decoder = decoder
    }

    override public func namedChildren() -> [(String, Any)] {
        [("encoder", encoder), ("decoder", decoder), ("head", head)]
    }

    public func activation(_ x: Tensor) throws -> Tensor {
        try x.shape.requireChannels(inputChannels, "segnet")
        return try withMultipleOfPowerOfTwo(x, depth: configuration.depth) { x in
            var indices: [PoolIndices] = []
            var y = x
            for stage in encoder {
                let pooled = try maxPool2d(stage(y), keepIndices: true)
                y = pooled.output
                indices.append(pooled.indices!)
            }
            for stage in decoder {
                y = try stage(maxUnpool2d(y, indices: indices.removeLast()))
            }
            return try head(y, then: .sigmoid)
        }
    }
}
