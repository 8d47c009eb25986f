import CompSegCore
import CompSegNN

/// The samples of one split, handed out a batch at a time: each is read and preprocessed when a
/// batch asks for it, so that without a cache at most the current batch is in memory. Samples are
/// kept after their first reading, in order, while their bytes fit within the cache budget.
public final class SampleStore {
    public let ids: [String]
    public let labels: [SampleLabel?]
    /// Channels×height×width when every sample has it; nil when the store is empty or sizes differ.
    public let shape: Shape?
    /// The samples' channel count (a manifest's samples all have the first's); nil when the store is empty.
    public let channels: Int?
    /// The largest height and the largest width among the samples (a batch pads to both), where
    /// known: from `shape`, or as the samples were first read; nil otherwise.
    public internal(set) var largest: (height: Int, width: Int)?
    public var count: Int { ids.count }
    /// The bytes of the samples kept in memory.
    public var cachedBytes: Int { cache.bytes }
    public var cachedCount: Int { cache.samples.count }
    /// The cache budget `train`, `compare`, `segment`, `evaluate` and `overlay` use unless told otherwise: 4 GiB.
    public static let defaultCacheBudget = 4 << 30
    /// What the reader found doubtful in the samples as they were first read; empty where not read yet.
    public internal(set) var readerWarnings = ReaderWarnings()
    /// The samples' inputs as they were first read, where the store was asked to measure them (a run's training split).
    public internal(set) var inputRange: InputRange?

    /// Each sample's `PixelDigest` as first read, where the store was asked to take them (a run's train and val rows).
    var pixelDigests: PixelDigests?

    public func pixelDigest(_ i: Int) -> String? { pixelDigests?.digest(i) }

    private let make: (Int) throws -> Sample
    private var cache: SampleCache

    /// A store over samples already in memory.
    public convenience init(_ samples: [Sample]) {
        let first = samples.first?.image.shape
        self.init(ids: samples.map(\.id), labels: samples.map(\.label),
                  shape: samples.allSatisfy { $0.image.shape == first } ? first : nil, channels: first?.dims[0], cacheBudget: 0) { samples[$0] }
    }

    /// - Parameters:
    ///   - make: reads and preprocesses sample `i`; called again each time an uncached sample is needed.
    ///   - cacheBudget: bytes of samples to keep in memory (0: none).
    ///   - channels: the samples' channel count where `shape` does not give it (sizes differ).
    public convenience init(ids: [String], labels: [SampleLabel?], shape: Shape?, channels: Int? = nil, cacheBudget: Int,
                            make: @escaping (Int) throws -> Sample) {
        self.init(ids: ids, labels: labels, shape: shape, channels: channels, cache: SampleCache(budget: cacheBudget), make: make)
    }

    /// A store whose cache already holds samples (those kept while the rows were first read).
    init(ids: [String], labels: [SampleLabel?], shape: Shape?, channels: Int? = nil, cache: SampleCache,
         make: @escaping (Int) throws -> Sample) {
        self.ids = ids; self.labels = labels; self.shape = shape; self.channels = channels ?? shape?.dims[0]
        largest = shape.map { ($0.dims[1], $0.dims[2]) }
        self.cache = cache; self.make = make
    }

    /// Sample `i`, from the cache or made anew.
    /// - Throws: the reader's or a step's error, or `TrainingError` when the sample's shape is no
    ///   longer the store's (its file changed since the store was made).
    public func sample(_ i: Int) throws -> Sample {
        if let s = cache.samples[i] { return s }
        let s = try make(i)
        if let shape, s.image.shape != shape {  // (where sizes differ, the run's checks of each batch stand)
            throw TrainingError("sample \(s.id) is now \(s.image.shape) (channels×height×width) but was \(shape) "
                                + "when the run started; did its file change?")
        }
        cache.keep(s, at: i)
        return s
    }

    public func samples(_ indices: [Int]) throws -> [Sample] { try indices.map(sample) }
}

/// Samples by index, kept while their bytes fit within `budget`.
struct SampleCache {
    let budget: Int
    private(set) var samples: [Int: Sample] = [:]
    private(set) var bytes = 0

    init(budget: Int) { self.budget = budget }

    /// Keeps `sample` when it is not kept yet and the budget allows.
    mutating func keep(_ sample: Sample, at i: Int) {
        let size = sample.image.shape.count * MemoryLayout<Float>.size + sample.preview.bytes.count + sample.tissue.pixels.count
        guard samples[i] == nil, bytes + size <= budget else { return }
        samples[i] = sample
        bytes += size
    }
}

/// What readers found doubtful in samples (`Sample.warningKey`): each warning once, with the ids
/// of the samples it concerns, in the order met.
public struct ReaderWarnings: Sendable {
    public private(set) var groups: [(warning: String, ids: [String])] = []

    public init() {}
    public init(_ samples: [Sample]) { for s in samples { add(s) } }

    public mutating func add(_ sample: Sample) {
        if let warning = sample.metadata[Sample.warningKey] { add(warning, ids: [sample.id]) }
    }

    public mutating func add(_ warning: String, ids: [String]) {
        if let k = groups.firstIndex(where: { $0.warning == warning }) { groups[k].ids += ids } else { groups.append((warning, ids)) }
    }

    /// These and `other`'s, a warning both hold once.
    public func merged(_ other: ReaderWarnings) -> ReaderWarnings {
        var all = self
        for (warning, ids) in other.groups { all.add(warning, ids: ids) }
        return all
    }
}
