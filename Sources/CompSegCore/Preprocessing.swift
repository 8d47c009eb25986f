import Foundation

/// One preprocessing step between a modality's reader and the network: fitted on the training
/// samples (e.g. PCA), saved with the model, and re-applied unchanged to every later sample.
/// Steps register by name in the `Registry`; a modality manifest lists them in order.
public protocol SampleTransform: Sendable {
    /// This step fitted to the training samples (each already through the steps before it).
    /// A step without fitted values returns itself.
    func fitted(to training: SampleSequence) throws -> any SampleTransform
    /// The configuration (a JSON object) that rebuilds this step through its factory, fitted
    /// values included.
    func configuration() throws -> Data
    /// The sample as the next step (or the network) sees it.
    /// - Throws: an error naming the sample and what the step expected.
    func apply(_ sample: Sample) throws -> Sample
}

extension SampleTransform {
    public func fitted(to training: SampleSequence) throws -> any SampleTransform { self }
}

extension SampleTransform where Self: Encodable {
    public func configuration() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self)
    }
}

/// Samples made one at a time on request (read from a file, passed through earlier steps), so
/// that fitting holds one raw sample in memory, not the whole training set.
public struct SampleSequence: Sendable {
    public let count: Int
    private let make: @Sendable (Int) throws -> Sample

    public init(count: Int, make: @escaping @Sendable (Int) throws -> Sample) {
        self.count = count; self.make = make
    }
    public init(_ samples: [Sample]) { self.init(count: samples.count) { samples[$0] } }

    public func sample(_ index: Int) throws -> Sample { try make(index) }

    /// The same samples passed through `step`.
    public func through(_ step: any SampleTransform) -> SampleSequence {
        let make = self.make
        return SampleSequence(count: count) { try step.apply(make($0)) }
    }
}

/// A plugin or preprocessing step by identifier, with its configuration as JSON text (its
/// Codable form), as modality manifests and `model.json` record it.
public struct PluginDescription: Codable, Sendable, Equatable {
    public var identifier: String
    public var configuration: String
    public init(identifier: String, configuration: String = "{}") {
        self.identifier = identifier; self.configuration = configuration
    }
}

/// The steps of a modality's preprocessing, in order.
public struct PreprocessingChain: Sendable {
    public let steps: [(description: PluginDescription, transform: any SampleTransform)]

    /// Builds each step through the registry.
    /// - Parameter source: where the steps came from, for messages (e.g. a manifest's path).
    /// - Throws: naming the step (by position and identifier) that is unknown or misconfigured.
    public init(_ descriptions: [PluginDescription], registry: Registry, source: String) throws {
        steps = try descriptions.enumerated().map { i, d in
            let configuration = PluginConfiguration(json: Data(d.configuration.utf8),
                                                    source: "\(source): preprocessing step \(i + 1) '\(d.identifier)'")
            do { return (d, try registry.transform(d.identifier, configuration)) } catch let e as RegistryError {
                throw ConfigurationError(source: "\(source): preprocessing step \(i + 1)", message: e.description)
            }
        }
    }

    private init(steps: [(description: PluginDescription, transform: any SampleTransform)]) { self.steps = steps }

    public var descriptions: [PluginDescription] { steps.map(\.description) }
    public var isEmpty: Bool { steps.isEmpty }

    /// Fits the steps in order, each on the training samples passed through the fitted steps
    /// before it; returns the chain with fitted values in its descriptions.
    public func fitted(to training: SampleSequence) throws -> PreprocessingChain {
        var fitted: [(description: PluginDescription, transform: any SampleTransform)] = []
        var samples = training
        for (description, step) in steps {
            let f = try step.fitted(to: samples)
            let json = String(decoding: try f.configuration(), as: UTF8.self)
            fitted.append((PluginDescription(identifier: description.identifier, configuration: json), f))
            samples = samples.through(f)
        }
        return PreprocessingChain(steps: fitted)
    }

    public func apply(_ sample: Sample) throws -> Sample {
        try steps.reduce(sample) { try $1.transform.apply($0) }
    }
}
