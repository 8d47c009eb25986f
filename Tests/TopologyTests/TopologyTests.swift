import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegTestSupport
import SegNetTopology
import UNetTopology

@Suite struct TopologyTests {
    @Test func paperUNetHasTheReferenceParameterCountAndNames() throws {
        var paper = UNet.Configuration()
        paper.batchNorm = false
        let net = try UNet(inputChannels: 450, configuration: paper, seed: 0)
        #expect(net.parameterCount == 31_289_217)  // as torch_compsegnet.py's UNet(450, 64, 4)
        let names = net.namedParameters().map(\.0)
        #expect(names.prefix(4) == ["down.0.0.weight", "down.0.0.bias", "down.0.2.weight", "down.0.2.bias"])
        #expect(names.contains("upconv.3.weight") && names.contains("up.3.2.bias"))
        #expect(names.suffix(2) == ["head.weight", "head.bias"])
    }

    @Test(arguments: [(16, 16), (13, 10)])
    func uNetMapsImagesToActivationsOfTheSameSize(height: Int, width: Int) throws {
        var c = UNet.Configuration()
        c.width = 4; c.depth = 2
        let net = try UNet(inputChannels: 3, configuration: c, seed: 1)
        let a = try net.activation(randomTensor([2, 3, height, width], seed: 2))
        #expect(a.shape == [2, 1, height, width])
        #expect(a.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        // The head's bias starts the map near the configured 0.02.
        let meanActivation = a.scalars.reduce(0, +) / Float(a.shape.count)
        #expect(meanActivation > 0.001 && meanActivation < 0.2)
    }

    @Test(arguments: UNet.Upsampling.allCases)
    func uNetUpsamplingBuildsRunsAndTrains(_ upsampling: UNet.Upsampling) throws {
        var c = UNet.Configuration()
        c.width = 4; c.depth = 2; c.upsampling = upsampling
        let net = try UNet(inputChannels: 3, configuration: c, seed: 1)
        let a = try net.activation(randomTensor([2, 3, 12, 10], seed: 2))
        #expect(a.shape == [2, 1, 12, 10])
        #expect(a.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        try sum(a).backward()
        #expect(net.parameters.allSatisfy { $0.grad != nil })
        let shapes = Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.shape) })
        switch upsampling {
        case .transposed:  // I×O×2×2, PyTorch's ConvTranspose2d
            #expect(shapes["upconv.0.weight"] == [16, 8, 2, 2] && shapes["upconv.1.weight"] == [8, 4, 2, 2])
        case .resize:  // nn.Sequential(nn.Upsample, nn.Conv2d): the convolution is child 1, O×I×3×3
            #expect(shapes["upconv.0.1.weight"] == [8, 16, 3, 3] && shapes["upconv.1.1.bias"] == [4])
            #expect(!shapes.keys.contains { $0.hasPrefix("upconv.") && !$0.hasPrefix("upconv.0.1.") && !$0.hasPrefix("upconv.1.1.") })
            #expect(!shapes.values.contains { $0.dims.count == 4 && $0.dims[2] == 2 })  // no 2×2 (transposed) kernels
        }
    }

    /// A network too large for the machine is refused before its weights are made (it was killed
    /// for memory), saying about how many weights and bytes it needs.
    @Test func aNetworkBeyondTheMachinesMemoryIsRefusedBeforeItIsBuilt() throws {
        var unet = UNet.Configuration()
        (unet.width, unet.depth) = (4096, 8)
        #expect { try UNet(inputChannels: 3, configuration: unet, seed: 0) } throws: { error in
            "\(error)".hasPrefix("unet: a U-Net of width 4096 and depth 8 (about 32618573 million weights") && "\(error)".contains("TB of memory")
        }
        var segnet = SegNet.Configuration()
        (segnet.width, segnet.depth) = (4096, 8)
        #expect { try SegNet(inputChannels: 3, configuration: segnet, seed: 0) } throws: { error in
            "\(error)".hasPrefix("segnet: a SegNet of width 4096 and depth 8") && "\(error)".contains("of memory, more than ")
        }
        // Millions of input channels (a damaged model.json's count) are refused too, for the first convolution's weights.
        #expect { try SegNet(inputChannels: 1_000_000_000, configuration: .init(), seed: 0) } throws: { error in
            "\(error)".hasPrefix("segnet: a SegNet of width 64 and depth 4 on 1000000000 input channels")
        }
        // SegNet's estimate follows its widths, which stop doubling after the fourth stage (within 15% at this small
        // width, where biases, batch norm and the first and last layers weigh most; uncapped, it was 7 times the count).
        var deep = SegNet.Configuration()
        (deep.width, deep.depth) = (8, 6)
        let built = try SegNet(inputChannels: 3, configuration: deep, seed: 0)
        #expect(Swift.abs(deep.weights / Double(built.parameterCount) - 1) < 0.15, "\(deep.weights) vs \(built.parameterCount)")
        // The estimate is the paper's U-Net's count within 1%.
        let paper = try UNet(inputChannels: 1, configuration: .init(), seed: 0)
        #expect(Swift.abs(UNet.Configuration().weights / Double(paper.parameterCount) - 1) < 0.01)
    }

    @Test func uNetUpsamplingKeyDefaultsToTransposed() throws {
        // A model.json written before the key existed stores only the keys it was given.
        let old = try PluginConfiguration(json: Data(#"{"width": 4, "depth": 2}"#.utf8)).decode(UNet.Configuration.self)
        #expect(old.upsampling == .transposed && old.width == 4)
        let resize = try PluginConfiguration(json: Data(#"{"upsampling": "resize"}"#.utf8)).decode(UNet.Configuration.self)
        #expect(resize.upsampling == .resize)
        let error = #expect(throws: ConfigurationError.self) {
            try PluginConfiguration(json: Data(#"{"upsampling": "bilinear"}"#.utf8), source: "run.yaml").decode(UNet.Configuration.self)
        }
        #expect(error?.description == "run.yaml: key 'upsampling': 'bilinear' is not one of transposed, resize")
        let activation = #expect(throws: ConfigurationError.self) {
            try PluginConfiguration(json: Data(#"{"activation": "relu6"}"#.utf8), source: "model.json").decode(UNet.Configuration.self)
        }
        #expect(activation?.description.hasPrefix("model.json: key 'activation': 'relu6' is not one of softplus, relu") == true, "\(String(describing: activation))")
    }

    @Test func segNetMapsImagesAndTrainsThroughUnpooling() throws {
        var c = SegNet.Configuration()
        c.width = 4; c.depth = 2
        let net = try SegNet(inputChannels: 3, configuration: c, seed: 1)
        #expect(net.namedParameters().map(\.0).contains("encoder.0.1.weight"))  // conv 0, batch norm 1
        let x = randomTensor([2, 3, 10, 12], seed: 3)
        let a = try net.activation(x)
        #expect(a.shape == [2, 1, 10, 12])
        try sum(a).backward()
        #expect(net.parameters.allSatisfy { $0.grad != nil })
    }

    @Test func wrongChannelCountNamesTheNetwork() throws {
        let net = try UNet(inputChannels: 3, configuration: { var c = UNet.Configuration(); c.width = 2; c.depth = 1; return c }(), seed: 0)
        #expect(throws: ShapeError("unet", "input has 5 channels; the network was built for 3")) {
            try net.activation(Tensor(zeros: [1, 5, 8, 8]))
        }
    }

    @Test func sameSeedSameWeights() throws {
        var c = UNet.Configuration()
        c.width = 4; c.depth = 2
        let a = try UNet(inputChannels: 3, configuration: c, seed: 9).parameters.flatMap(\.scalars)
        let b = try UNet(inputChannels: 3, configuration: c, seed: 9).parameters.flatMap(\.scalars)
        #expect(a == b)
    }

    @Test func reflectPadAndCropGradients() throws {
        let x = randomTensor([1, 2, 3, 4], seed: 5)
        let failures = try gradientCheck([x]) { t in
            try crop(reflectPad(t[0], top: 1, bottom: 2, left: 2, right: 1), top: 1, left: 0, height: 4, width: 6)
        }
        #expect(failures.isEmpty, "\(failures)")
        let padded = try reflectPad(try Tensor(shape: [1, 1, 1, 3], scalars: [1, 2, 3]), top: 0, bottom: 0, left: 2, right: 1)
        #expect(padded.scalars == [3, 2, 1, 2, 3, 2])  // PyTorch's reflect: border not repeated
    }

    /// A pad wider than the image is reflected in rounds, so small images go through deep
    /// networks: a 2×3 image padded to 8×8 mirrors out from the middle, and the network's output
    /// is cropped back; an image one pixel high or wide has its pixels repeated along that axis.
    @Test func smallImagesArePaddedInRounds() throws {
        let row = try Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        var seen: [Float] = []
        let out = try withMultipleOfPowerOfTwo(row, depth: 3) { padded in
            #expect(padded.shape == [1, 1, 8, 8])
            seen = Array(padded.scalars[24..<32])  // row 3: the image's first row (3 rows above it)
            return padded
        }
        #expect(out.scalars == row.scalars)
        // 1 2 3 padded 2 left and 3 right: round one 2 and 2 (3 2 [1 2 3] 2 1), round two the last 1 (2).
        #expect(seen == [3, 2, 1, 2, 3, 2, 1, 2], "\(seen)")
        let failures = try gradientCheck([randomTensor([1, 2, 3, 2], seed: 3)]) { t in
            try withMultipleOfPowerOfTwo(t[0], depth: 3) { try multiply($0, $0) }
        }
        #expect(failures.isEmpty, "\(failures)")
        // An image one pixel high has its row repeated (nothing to reflect), then reflected sideways: 1×5 → 4×8.
        let line = try Tensor(shape: [1, 1, 1, 5], scalars: [1, 2, 3, 4, 5])
        let lineOut = try withMultipleOfPowerOfTwo(line, depth: 2) { padded in
            #expect(padded.shape == [1, 1, 4, 8])
            #expect(Array(padded.scalars[0..<8]) == [2, 1, 2, 3, 4, 5, 4, 3] && Array(padded.scalars[24..<32]) == [2, 1, 2, 3, 4, 5, 4, 3])
            return padded
        }
        #expect(lineOut.scalars == line.scalars)
        // Each repeated pixel passes its gradient back to the one it repeats.
        for shape: Shape in [[1, 2, 1, 3], [1, 1, 3, 1], [1, 1, 1, 1]] {
            let single = try gradientCheck([randomTensor(shape, seed: 4)]) { t in
                let p = try reflectPad(t[0], top: 2, bottom: 1, left: 1, right: 2)
                return try multiply(p, p)
            }
            #expect(single.isEmpty, "\(shape): \(single)")
        }
    }

    /// A run records the settings in effect (`ReportsConfiguration`): every key, defaults
    /// included, and an optional one set to nil as null, so that it reads back as nil and not as
    /// its default (a resumed run starts from the same bias).
    @Test func theConfigurationInEffectReadsBackAsItWas() throws {
        let given = PluginConfiguration(json: Data(#"{"width": 4, "depth": 2, "initialActivation": null}"#.utf8), source: "test")
        let unet = try UNet(inputChannels: 3, configuration: given.decode(UNet.Configuration.self), seed: 0)
        #expect(unet.configuration.initialActivation == nil)
        let recorded = try #require(unet.configurationValue?.objectValue)
        #expect(recorded["initialActivation"] == .null && recorded["upsampling"] == .string("transposed") && recorded["width"] == 4)
        let again = try PluginConfiguration(json: JSONValue.object(recorded).data, source: "model.json").decode(UNet.Configuration.self)
        #expect(again == unet.configuration)
        let segnet = try SegNet(inputChannels: 3, configuration: .init(), seed: 0)
        #expect(try PluginConfiguration(json: #require(segnet.configurationValue).data, source: "model.json")
                    .decode(SegNet.Configuration.self) == segnet.configuration)
    }

    /// `checkTopology` names a bad configuration through the plugin's check, without making the
    /// network (a width whose weights cannot fit is refused at once); a topology registered
    /// without a check is made once, for one input channel.
    @Test func checkTopologyUsesThePluginsCheckOrMakesItForOneChannel() throws {
        var registry = Registry()
        try UNet.register(in: &registry)
        func configuration(_ json: String) -> PluginConfiguration { PluginConfiguration(json: Data(json.utf8), source: "s.yaml") }
        try registry.checkTopology("U-Net", configuration(#"{"width": 4}"#))
        #expect(throws: ConfigurationError.self) { try registry.checkTopology("unet", configuration(#"{"width": 0}"#)) }
        #expect(throws: ConfigurationError.self) { try registry.checkTopology("unet", configuration(#"{"width": 4096, "depth": 8}"#)) }
        final class Calls: @unchecked Sendable { var channels: [Int] = [] }
        let calls = Calls()
        try registry.registerTopology(PluginInfo("plain", summary: "")) { channels, seed, c in
            calls.channels.append(channels)
            return try UNet(inputChannels: channels, configuration: c.decode(UNet.Configuration.self), seed: seed)
        }
        try registry.checkTopology("plain", configuration(#"{"width": 2, "depth": 1}"#))
        #expect(calls.channels == [1])
    }
}
