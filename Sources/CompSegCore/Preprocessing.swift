import CompSegNN
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
    /// Whether each output pixel depends on that input pixel alone (and fitted values), so a
    /// region of a sample comes out as the same region of the whole sample: `segment` then
    /// streams large images region by region. False unless a step says so.
    var isPixelwise: Bool { get }
    /// What the user should know about a fitted step's fit that does not stop training (a PCA
    /// component that holds almost no variance); `train` and `compare` print each as a warning. None by default.
    var fitWarnings: [String] { get }
}

extension SampleTransform {
    public func fitted(to training: SampleSequence) throws -> any SampleTransform { self }
    public var isPixelwise: Bool { false }
    public var fitWarnings: [String] { [] }
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

    /// Makes every sample and passes it through `body`, `parallel` samples at a time on as many
    /// threads, then hands each outcome (the sample's error or `body`'s result) to `consume` in
    /// sample order, so at most `parallel` samples are in memory at once. Outcomes depend on the
    /// sample alone, never on the thread count.
    public func forEach<T>(parallel: Int = Threads.count, _ body: @escaping @Sendable (Sample) throws -> T,
                           then consume: (Int, Result<T, any Error>) throws -> Void) throws {
        let width = max(1, parallel)
        for start in stride(from: 0, to: count, by: width) {
            let outcomes = Outcomes<T>(count: min(width, count - start))
            DispatchQueue.concurrentPerform(iterations: outcomes.values.count) { j in
                outcomes.set(j, Result { try body(try make(start + j)) })
            }
            for (j, outcome) in outcomes.values.enumerated() { try consume(start + j, outcome!) }
        }
    }

    /// `body` of every sample, in order, computed as `forEach` does.
    public func map<T>(parallel: Int = Threads.count, _ body: @escaping @Sendable (Sample) throws -> T) throws -> [Result<T, any Error>] {
        var results: [Result<T, any Error>] = []
        try forEach(parallel: parallel, body) { results.append($1) }
        return results
    }

    /// The same samples passed through `step`.
    public func through(_ step: any SampleTransform) -> SampleSequence { mapped { try step.apply($0) } }

    /// The same samples passed through `change`.
    public func mapped(_ change: @escaping @Sendable (Sample) throws -> Sample) -> SampleSequence {
        let make = self.make
        return SampleSequence(count: count) { try change(make($0)) }
    }
}

/// Results written by concurrent workers, each to its own index.
private final class Outcomes<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<T, any Error>) { lock.withLock { values[i] = value } }
}

/// A plugin or preprocessing step by identifier, with its configuration (a JSON object of the
/// plugin's Codable keys), as modality manifests and `model.json` record it:
/// `{"identifier": "unet", "configuration": {"width": 16}}`. Decoding also takes the JSON text
/// that `model.json` held before format 3.
public struct PluginDescription: Codable, Sendable, Equatable {
    public var identifier: String
    public var configuration: JSONValue
    public init(identifier: String, configuration: JSONValue = [:]) {
        self.identifier = identifier; self.configuration = configuration
    }

    enum CodingKeys: String, CodingKey { case identifier, configuration }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        identifier = try c.decode(String.self, forKey: .identifier)
        configuration = try c.decodeIfPresent(JSONValue.self, forKey: .configuration) ?? [:]
        if case .string(let text) = configuration {  // format 1 and 2: JSON text
            do { configuration = try JSONValue(parsing: text) } catch {
                throw DecodingError.dataCorruptedError(forKey: .configuration, in: c,
                                                       debugDescription: "'\(identifier)': not a JSON object: \(text)")
            }
        }
    }

    /// The configuration for the registry; `source` names where it came from, for messages.
    public func pluginConfiguration(source: String, folder: URL? = nil) -> PluginConfiguration {
        PluginConfiguration(json: configuration.data, source: source, folder: folder)
    }
}

/// A step's setting that its training data cannot meet (more components than the spectra have
/// bands), thrown by `fitted(to:)`: the chain names the step by its place in the manifest.
public struct StepSettingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What pixels outside the tissue mask hold in the network's input.
public enum OutsideTissue: String, ConfigurationChoice, Sendable {
    /// Set to 0 in every channel, after the reader and after every step: background noise never
    /// reaches the network as large normalized or whitened values at the tissue's edge.
    case zero
    /// Whatever the reader and the steps make of them (runs written before this choice existed).
    case keep
}

/// The steps of a modality's preprocessing, in order, and what non-tissue pixels hold after each.
public struct PreprocessingChain: Sendable {
    public let steps: [(description: PluginDescription, transform: any SampleTransform)]
    public let outside: OutsideTissue
    /// Where the steps came from, for messages (e.g. a manifest's path).
    let source: String

    /// Builds each step through the registry.
    /// - Parameters:
    ///   - source: where the steps came from, for messages (e.g. a manifest's path).
    ///   - folder: the folder of the file they were written in, which relative paths start from.
    /// - Throws: naming the step (by position and identifier) that is unknown or misconfigured.
    public init(_ descriptions: [PluginDescription], outside: OutsideTissue, registry: Registry, source: String,
                folder: URL? = nil) throws {
        self.outside = outside
        self.source = source
        steps = try descriptions.enumerated().map { i, d in
            let named = Self.place(of: i, d.identifier, in: source)
            let configuration = d.pluginConfiguration(source: named, folder: folder)
            do { return (d, try registry.transform(d.identifier, configuration)) } catch let e as RegistryError {
                throw ConfigurationError(source: "\(source): preprocessing step \(i + 1)", message: e.description)
            } catch let e as ConfigurationError {
                throw e
            } catch {  // a value the step refuses (a window that is not odd): named by its line too
                throw ConfigurationError(source: named, message: "\(error)")
            }
        }
    }

    private init(steps: [(description: PluginDescription, transform: any SampleTransform)], outside: OutsideTissue, source: String) {
        self.steps = steps; self.outside = outside; self.source = source
    }

    /// "lab.yaml: preprocessing step 3 'pca'": where a step is, for messages.
    static func place(of index: Int, _ identifier: String, in source: String) -> String {
        "\(source): preprocessing step \(index + 1) '\(identifier)'"
    }

    public var descriptions: [PluginDescription] { steps.map(\.description) }
    public var isEmpty: Bool { steps.isEmpty }
    /// Whether every step is pixelwise (`SampleTransform.isPixelwise`), so regions can be prepared on their own.
    public var isPixelwise: Bool { steps.allSatisfy { $0.transform.isPixelwise } }
    /// Each fitted step's `fitWarnings`, named by the step's place.
    public var fitWarnings: [String] {
        steps.enumerated().flatMap { i, step in step.transform.fitWarnings.map { "\(Self.place(of: i, step.description.identifier, in: source)): \($0)" } }
    }

    /// Fits the steps in order, each on the training samples passed through the fitted steps
    /// before it; returns the chain with fitted values in its descriptions.
    public func fitted(to training: SampleSequence) throws -> PreprocessingChain {
        var fitted: [(description: PluginDescription, transform: any SampleTransform)] = []
        let outside = outside
        var samples = training.mapped { $0.outside(outside) }
        for (i, (description, step)) in steps.enumerated() {
            let f: any SampleTransform
            // A setting the training data cannot meet (more components than bands) is named by the step's place.
            do { f = try step.fitted(to: samples) } catch let e as StepSettingError {
                var error = ConfigurationError(source: Self.place(of: i, description.identifier, in: source), message: e.description)
                error.unmetByData = true
                throw error
            }
            let configuration = try JSONDecoder().decode(JSONValue.self, from: f.configuration())
            fitted.append((PluginDescription(identifier: description.identifier, configuration: configuration), f))
            let place = Self.place(of: i, description.identifier, in: source)
            samples = samples.through(f).mapped { try Self.requireFinite($0.outside(outside), madeBy: place) }
        }
        return PreprocessingChain(steps: fitted, outside: outside, source: source)
    }

    /// The sample through every step. Zeroing outside the tissue writes in place only where the
    /// image is the chain's alone (a sample handed over, or a step's new image); a sample the
    /// caller still holds stays as it was.
    /// - Throws: `SampleError` naming the step that made a value of the sample NaN or infinite.
    public func apply(_ sample: consuming Sample) throws -> Sample {
        var s = consume sample
        if outside == .zero { s.zeroOutsideTissue() }
        for (i, (description, step)) in steps.enumerated() {
            s = try step.apply(s)
            if outside == .zero { s.zeroOutsideTissue() }  // in place: the step's image is the chain's own
            // Checked after the zeroing: what a step makes of the background that is then cleared never reaches the network.
            s = try Self.requireFinite(s, madeBy: Self.place(of: i, description.identifier, in: source))
        }
        return s
    }

    /// `made`, as the step at `place` made it.
    /// - Throws: `SampleError` naming the step that made NaN or infinite values (a baseline's
    ///   smoothness far too large overflows its arithmetic): they would reach the network and end
    ///   training with a NaN loss that names no cause.
    static func requireFinite(_ made: Sample, madeBy place: String) throws -> Sample {
        guard let first = made.image.withPlainBuffer(firstNonFiniteIndex) else { return made }
        let value = made.image.withPlainBuffer { $0[first] }
        // Said alike of every sample it strikes (a manifest error then names them once).
        throw SampleError(made.id, "\(place) made \(value.isNaN ? "NaN" : "infinite") values on the tissue: a setting beyond "
                          + "what the step's arithmetic holds (a baseline's lambda far too large, say)")
    }
}

/// The index of the first NaN or infinite value in `buffer`, if any: blocks of values are tested
/// 8 at a time without a branch (an exponent of all ones carries into the sign bit when its lowest
/// bit is added), and only a block that holds one is searched.
public func firstNonFiniteIndex(_ buffer: UnsafeBufferPointer<Float>) -> Int? {
    let block = 4096
    for start in stride(from: 0, to: buffer.count, by: block) {
        let end = min(buffer.count, start + block)
        var found = SIMD8<UInt32>()
        var i = start
        while i + 8 <= end {
            let bits = UnsafeRawPointer(buffer.baseAddress! + i).loadUnaligned(as: SIMD8<UInt32>.self)
            found |= (bits & 0x7F80_0000) &+ 0x0080_0000
            i += 8
        }
        var tail: UInt32 = 0
        for j in i..<end { tail |= (buffer[j].bitPattern & 0x7F80_0000) &+ 0x0080_0000 }
        if (found.max() | tail) & 0x8000_0000 != 0 { return (start..<end).first { !buffer[$0].isFinite } }
    }
    return nil
}

extension Sample {
    /// The sample with its non-tissue pixels as `policy` says.
    func outside(_ policy: OutsideTissue) -> Sample {
        switch policy {
        case .keep: self
        case .zero: zeroingOutsideTissue()
        }
    }
}
