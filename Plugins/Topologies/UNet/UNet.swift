import CompSegCore
import CompSegNN

/// U-Net (Ronneberger et al. 2015) with same padding: an encoder of `depth` 2×2 max-poolings
/// between double 3×3 convolutions whose widths double from `width`, a decoder of 2×2 stride-2
/// transposed convolutions (or, with `upsampling: resize`, nearest-neighbour 2× up-sampling and a
/// 3×3 convolution) each followed by concatenation with the encoder's skip and a double
/// convolution, and a 1×1 convolution to one channel through a sigmoid.
///
/// Parameter names match `torch_compsegnet.py`'s PyTorch U-Net: `down.i.0.weight`, `upconv.i.weight`,
/// `up.i.2.bias`, `head.weight` (with `batchNorm: false`; batch norm adds its layers between).
/// With `upsampling: resize` the up-sampling convolutions are `upconv.i.1.weight` (O×I×3×3) and
/// `upconv.i.1.bias`, as `nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(I, O, 3, padding=1))`
/// names them; there is then no `upconv.i.weight`.
/// With 450 input channels, width 64, depth 4 and no batch norm it has 31,289,217 parameters.
/// Images whose sides are not multiples of 2^depth are reflect-padded and the map cropped back.
public final class UNet: Module, SegmentingNetwork, ReportsConfiguration, @unchecked Sendable {
    /// How the decoder doubles H and W.
    public enum Upsampling: String, ConfigurationChoice, Sendable {
        /// A 2×2 stride-2 transposed convolution (the paper's; it can leave a period-2
        /// checkerboard in the maps, docs/method.md).
        case transposed
        /// Nearest-neighbour 2× up-sampling, then a same-padded 3×3 convolution to the same
        /// channel count (resize-then-convolve: no built-in period-2 pattern).
        case resize
    }

    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        public var width = 64
        public var depth = 4
        public var activation = Activation.softplus
        /// Batch norm after every 3×3 convolution. Off by default, as in the paper: with PyTorch's
        /// initialisation the plain network converged on both phantoms, and batch norm cost Dice on
        /// the independent one (docs/method.md).
        public var batchNorm = false
        /// Dropout probability on the bottleneck's output (0: none).
        public var dropout: Float = 0
        /// PyTorch's default, U(±1/√fan_in) for the weights (biases 0): He-normal without batch norm
        /// collapsed to an all-dark map in epoch 1 on the independent phantom (docs/method.md).
        public var initializer = Initializer.torchDefault
        /// The sigmoid output at start (bias of the 1×1 head = logit of it); nil: bias 0 (output .5).
        public var initialActivation: Float? = 0.02
        /// The decoder's up-sampling. `transposed` is the default, so a model.json written before
        /// the key existed (without it) loads as the network it was.
        public var upsampling = Upsampling.transposed

        public init() {}

        func validate() throws {
            func fail(_ m: String) -> ConfigurationError { ConfigurationError(source: "unet", message: m) }
            guard (1...4096).contains(width) else { throw fail("width must lie in 1…4096, got \(width)") }
            guard (1...8).contains(depth) else { throw fail("depth must lie in 1…8, got \(depth)") }
            guard dropout >= 0 && dropout < 1 else { throw fail("dropout must lie in [0, 1), got \(dropout)") }
            if let a = initialActivation, !(a > 0 && a < 1) {
                throw fail("initialActivation must lie in (0, 1), got \(a)")
            }
            do { try requireWeightMemory(weights, of: "a U-Net of width \(width) and depth \(depth)") } catch { throw fail("\(error)") }
        }

        /// About how many weights the network holds (its convolutions, the input's aside).
        public var weights: Double {
            (0...depth).reduce(0.0) { total, k in
                let c = Double(width << k)
                let encoder = 9 * (c / 2 * c + c * c), decoder = k < depth ? 4 * 2 * c * c + 9 * (3 * c * c) : 0
                return total + encoder + decoder
            }
        }
    }

    public static let info = PluginInfo("unet", aliases: ["u-net"],
                                        summary: "U-Net: encoder–decoder with skip concatenations (Ronneberger et al. 2015; the paper's network)")

    public static func register(in registry: inout Registry) throws {
        try registry.registerTopology(info, check: { try $0.decode(Configuration.self).validate() }) { channels, seed, configuration in
            try UNet(inputChannels: channels, configuration: configuration.decode(Configuration.self), seed: seed)
        }
    }

    public let inputChannels: Int
    public let configuration: Configuration
    let down: [ConvStack]
    let upconv: [any UpsamplingLayer]
    let up: [ConvStack]
    let head: Conv2d
    private var dropoutGenerator: SeededGenerator

    public init(inputChannels: Int, configuration: Configuration = .init(), seed: UInt64) throws {
        guard inputChannels > 0 else {
            throw ConfigurationError(source: "unet", message: "input channels must be positive, got \(inputChannels)")
        }
        try configuration.validate()
        do {
            try requireNetworkMemory(configuration.weights, inputChannels: inputChannels, width: configuration.width,
                                     of: "a U-Net of width \(configuration.width) and depth \(configuration.depth)")
        } catch { throw ConfigurationError(source: "unet", message: "\(error)") }
        self.inputChannels = inputChannels
        self.configuration = configuration
        let c = configuration
        var g = SeededGenerator(seed: seed)
        let widths = (0...c.depth).map { c.width << $0 }
        var down: [ConvStack] = []
        var channels = inputChannels
        for w in widths {
            down.append(ConvStack(channels: [channels, w, w], activation: c.activation, batchNorm: c.batchNorm,
                                  initializer: c.initializer, generator: &g))
            channels = w
        }
        var upconv: [any UpsamplingLayer] = [], up: [ConvStack] = []
        for w in widths.dropLast().reversed() {
            switch c.upsampling {
            case .transposed:
                upconv.append(TransposedConv2d(inputChannels: channels, outputChannels: w, initializer: c.initializer, generator: &g))
            case .resize:
                upconv.append(ResizeConvolution(inputChannels: channels, outputChannels: w, initializer: c.initializer, generator: &g))
            }
            up.append(ConvStack(channels: [2 * w, w, w], activation: c.activation, batchNorm: c.batchNorm,
                                initializer: c.initializer, generator: &g))
            channels = w
        }
        head = Conv2d(inputChannels: channels, outputChannels: 1, kernelSize: 1, initializer: c.initializer, generator: &g)
        if let a = c.initialActivation {
            head.bias!.withMutablePlainBuffer { $0[0] = Foundation.log(a / (1 - a)) }
        }
        self.down = down; self.upconv = upconv; self.up = up
        dropoutGenerator = SeededGenerator(seed: seed &+ 0x5EED)
    }

    public func seedRandomness(_ seed: UInt64) { dropoutGenerator = SeededGenerator(seed: seed) }

    override public func namedChildren() -> [(String, Any)] {
        [("down", down), ("upconv", upconv.map { $0 as Module }), ("up", up), ("head", head)]
    }

    public func activation(_ x: Tensor) throws -> Tensor {
        try x.shape.requireChannels(inputChannels, "unet")
        return try withMultipleOfPowerOfTwo(x, depth: configuration.depth) { x in
            var skips: [Tensor] = []
            var y = x
            for (i, block) in down.enumerated() {
                y = try block(y)
                if i < down.count - 1 {
                    skips.append(y)
                    y = try maxPool2d(y).output
                }
            }
            y = try dropout(y, probability: configuration.dropout, training: isTraining, generator: &dropoutGenerator)
            for (upsample, block) in zip(upconv, up) {
                y = try block(concat([skips.removeLast(), upsample(y)]))
            }
            return try head(y, then: .sigmoid)
        }
    }
}

import Foundation
