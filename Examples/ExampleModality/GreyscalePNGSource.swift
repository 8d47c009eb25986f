import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// An example modality plugin: 8-bit greyscale PNG images, one sample per file, as one channel
/// scaled to [0, 1]. Tissue is every pixel brighter than `tissueThreshold` (by default every
/// non-zero pixel); the preview is the image itself in grey. `ReportsConfiguration` (through
/// `configuration`) lets `compseg plugins greyscale-png` list its settings and a run record them.
public struct GreyscalePNGSource: ImageSource, ReportsConfiguration {
    /// What the reader can be told (as JSON or YAML keys); `{}` gives the defaults.
    /// `DefaultedConfiguration`: absent keys keep their defaults (no `init(from:)` needed).
    public struct Configuration: DefaultedConfiguration, Sendable, Equatable {
        /// Pixels with a value above this (0…255) are tissue.
        public var tissueThreshold = 0

        public init() {}
    }

    public static let info = PluginInfo("greyscale-png", aliases: ["grey-png"],
                                        summary: "8-bit greyscale PNG images, one channel; tissue = non-zero pixels")

    /// The plugin's one entry point: adds the reader to `registry` under `info`'s names.
    public static func register(in registry: inout Registry) throws {
        try registry.registerModality(info) { configuration in
            try GreyscalePNGSource(configuration.decode(Configuration.self), source: configuration.source)
        }
    }

    public let configuration: Configuration

    /// - Parameter source: where the configuration was written (`lab.yaml: options`), for messages.
    /// - Throws: `ConfigurationError` when the threshold lies outside 0…254.
    public init(_ configuration: Configuration = .init(), source: String = "greyscale-png") throws {
        guard (0...254).contains(configuration.tissueThreshold) else {
            throw ConfigurationError(source: source,
                                     message: "tissueThreshold must lie in 0…254, got \(configuration.tissueThreshold)")
        }
        self.configuration = configuration
    }

    public func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        let png = try PNGImage(contentsOf: url)  // throws IOError naming the file
        guard png.channels == 1 else {
            throw IOError(file: url.path, "has \(png.channels) channels; expected an 8-bit greyscale PNG (1 channel)")
        }
        let (h, w) = (png.height, png.width)
        // An empty mask is no error here: training refuses such a sample, segment takes it (a blank core).
        let tissue = try Mask(height: h, width: w, pixels: png.pixels.map { Int($0) > configuration.tissueThreshold })
        return try Sample(id: Sample.id(of: url),
                          image: Tensor(shape: [1, h, w], scalars: png.pixels.map { Float($0) / 255 }),
                          channels: .bands(["grey"]),
                          tissue: tissue,
                          preview: try RGBImage(height: h, width: w, bytes: png.pixels.flatMap { [$0, $0, $0] }),
                          label: label,
                          metadata: ["file": url.path])
    }
}
