import CompSegCore
import CompSegIO
import Foundation

/// A modality as a run uses it: the manifest's reader plugin and its preprocessing chain,
/// fitted on the training split by `train` and rebuilt from `model.json` by `segment`.
public struct PreparedModality: Sendable {
    public let manifest: ModalityManifest
    public let reader: any ImageSource
    public let chain: PreprocessingChain
    /// Time spent reading files and in the chain's steps, summed over threads.
    public let clock: PreparationClock
    /// Training samples as read while fitting, kept for the store pass that follows.
    let reads: ReadCache
    /// The physical size of the files' full-resolution pixels as the user gives it (`--pixel-size`),
    /// taken instead of what the files record; nil to take the files'.
    public var pixelSizeGiven: PixelSize? = nil

    /// The manifest's reader and (unfitted, or already fitted) chain.
    /// - Throws: naming the manifest and the reader or step that is unknown or misconfigured.
    public init(_ manifest: ModalityManifest, registry: Registry) throws {
        self.manifest = manifest
        let unknown = manifest.unknownPlugins(in: registry)
        if unknown.count > 1 { throw RegistryError(listed(problems: unknown)) }
        do { reader = try registry.modality(manifest.reader, manifest.readerConfiguration) } catch let e as RegistryError {
            throw ConfigurationError(source: manifest.source, message: "key 'reader': \(e.description)")
        }
        chain = try PreprocessingChain(manifest.preprocessing, outside: manifest.outside, registry: registry,
                                       source: manifest.source, folder: manifest.folder)
        clock = PreparationClock()
        reads = ReadCache()
    }

    private init(manifest: ModalityManifest, reader: any ImageSource, chain: PreprocessingChain, clock: PreparationClock,
                 reads: ReadCache) {
        self.manifest = manifest; self.reader = reader; self.chain = chain; self.clock = clock; self.reads = reads
    }

    /// The physical size of the pixels of a `height`×`width` image its reader recorded `metadata`
    /// for: `pixelSizeGiven` where set, else the file's (`Sample.pixelSize`), scaled to the image's pixels.
    public func pixelSize(in metadata: [String: String], height: Int, width: Int) -> PixelSize? {
        var metadata = metadata
        if let given = pixelSizeGiven { metadata[Sample.pixelSizeKey] = given.text }
        return Sample.pixelSize(in: metadata, height: height, width: width)
    }

    /// Reads a manifest row as the reader delivers it (before preprocessing), with the row's
    /// tissue-mask override and split.
    public func read(_ row: Manifest.Row) throws -> Sample {
        var sample = try oriented(clock.timing(\.reading) { try load(row.path, label: row.label) })
        if let split = row.split { sample.metadata["split"] = split.rawValue }
        if let maskFile = row.mask {
            do {
                sample.tissue = try Mask(height: sample.height, width: sample.width,
                                     pixels: try MaskFile.mask(contentsOf: maskFile, height: sample.height, width: sample.width,
                                                               fullResolution: sample.fullResolution))
            } catch { throw MaskFileError(underlying: error) }
            if sample.tissue.count == 0 {
                sample.metadata[Sample.noTissueKey] = "its mask \(maskFile.lastPathComponent) (the manifest's mask column) marks no pixel: "
                    + "that column takes the tissue (white where tissue), and a tumor annotation goes in the truth column"
            }
        }
        return sample
    }

    /// A row's mask that cannot be used, said as "mask FILE: why" (as truth files are).
    struct MaskFileError: Error, CustomStringConvertible {
        let underlying: any Error
        var description: String { "mask \(underlying)" }
    }

    /// Reads a sample file (no manifest row: no label, no mask override) as the reader delivers it.
    public func read(_ file: URL) throws -> Sample {
        try oriented(clock.timing(\.reading) { try load(file, label: nil) })
    }

    /// The reader's sample in `url`; an error of the reader's that names neither the file nor its
    /// name (a lab reader's own error type) is said with both the file and the reader.
    private func load(_ url: URL, label: SampleLabel?) throws -> Sample {
        do {
            var sample = try reader.load(url, label: label)
            if let given = pixelSizeGiven {
                sample.metadata[Sample.pixelSizeKey] = given.text
                sample.metadata[Sample.pixelSizeSourceKey] = "--pixel-size"
            }
            return sample
        } catch {
            let text = "\(error)"
            guard !(error is IOError || error is Interrupted || error is MemoryShortage),
                  !text.contains(url.path), !text.contains(url.lastPathComponent) else { throw error }
            throw IOError(file: url.path, "reader '\(manifest.reader)': \(text)")
        }
    }

    /// `sample` with its spectral axis in the training files' direction, where recorded.
    func oriented(_ sample: Sample) -> Sample {
        manifest.descendingAxis.map { sample.oriented(descending: $0) } ?? sample
    }

    /// The chain fitted on `rows` (the training split), read a few files at a time. The samples as
    /// read are kept while they fit in `cacheBudget` bytes, so that the `store` of the same rows
    /// that follows reads each file once; it releases them as it goes.
    /// - Parameter others: rows read after the fit (the validation split), checked too when it
    ///   fails, so that their problems are named with the training rows'.
    /// - Throws: `ManifestError` listing every row that cannot be read, or the step's error.
    public func fitted(on rows: [Manifest.Row], manifest: Manifest, cacheBudget: Int = SampleStore.defaultCacheBudget,
                       alsoChecking others: [Manifest.Row] = []) throws -> PreparedModality {
        // The first training file's direction, recorded: files stored the other way are reversed as read.
        reads.budget = cacheBudget
        var first: Sample?
        if self.manifest.descendingAxis == nil, let row = rows.first, let sample = try? read(row) {
            reads.keep(sample, line: row.line)  // as stored, which is the recorded direction
            first = sample
        }
        let me = first.map { recording(descendingAxis: $0.descendingAxis) } ?? self
        guard !chain.isEmpty else { return me }
        let ids = Self.uniqueIDs(rows.map(\.path))  // so that a step's refusal names one row
        let training = SampleSequence(count: rows.count) { i in
            let sample = try me.reads.take(line: rows[i].line) ?? me.read(rows[i])
            me.reads.keep(sample, line: rows[i].line)
            var named = sample
            named.id = ids[i]
            return named
        }
        do { return try clock.timing(\.fitting) { try me.fitted(to: training) } } catch {
            // A bad file: name every one, not just the first; a step's refusal by its row's line too,
            // up to 20 rows' (each row's chain fitted on it alone tells whether a step refuses that
            // row; a refusal across samples, such as an axis unlike the first sample's, shows only
            // for the row the whole fit met).
            // The other rows take no part in the fit: checked only where a row is at fault (a file or a step's refusal).
            let trainingProblems = readProblems(rows)
            let others = error is SampleError || !trainingProblems.isEmpty ? others : []
            let checked = rows + others, checkedIDs = ids + Self.uniqueIDs(others.map(\.path), reserving: ids)
            var problems = trainingProblems + readProblems(others)
            if error is SampleError {
                for (i, row) in checked.enumerated() where !problems.contains(where: { $0.line == row.line }) && problems.count < 20 {
                    let alone = SampleSequence(count: 1) { _ in var s = try me.read(row); s.id = checkedIDs[i]; return s }
                    do { _ = try chain.fitted(to: alone) } catch let e as SampleError where e.sample == checkedIDs[i] {
                        problems.append((row.line, "line \(row.line): \(e)"))
                    } catch {}  // not this row's own problem (a fit on one sample may be too short)
                }
            }
            if let e = error as? SampleError, let row = ids.firstIndex(of: e.sample).map({ rows[$0] }),
               !problems.contains(where: { $0.line == row.line }) {
                problems.append((row.line, "line \(row.line): \(e)"))
            }
            guard !problems.isEmpty else { throw error }
            throw ManifestError(file: manifest.url.path, problems: problems.sorted { $0.line < $1.line }.map(\.message))
        }
    }

    /// The same modality with `descendingAxis` recorded in its manifest.
    func recording(descendingAxis: Bool?) -> PreparedModality {
        var m = manifest
        m.descendingAxis = descendingAxis
        var me = PreparedModality(manifest: m, reader: reader, chain: chain, clock: clock, reads: reads)
        me.pixelSizeGiven = pixelSizeGiven
        return me
    }

    /// The chain fitted on training samples as the reader delivers them (e.g. a phantom made in memory).
    public func fitted(to training: SampleSequence) throws -> PreparedModality {
        let fitted = try chain.fitted(to: training)
        var m = self.manifest
        m.preprocessing = fitted.descriptions
        var me = PreparedModality(manifest: m, reader: reader, chain: fitted, clock: clock, reads: reads)
        me.pixelSizeGiven = pixelSizeGiven
        return me
    }

    /// A sample as read, through the fitted chain (in place where the caller hands over the only
    /// reference to its image, as a sample just read is).
    public func prepare(_ sample: consuming Sample) throws -> Sample {
        var handed: Sample? = consume sample
        return try clock.timing(\.steps) { try chain.apply(handed.take()!) }
    }

    /// Reads every row, so that a bad file is reported with all the others: each problem by line
    /// (an empty tissue mask too, which `store` refuses: a fit on no tissue fails for want of pixels).
    /// These are the rows `--skip-unreadable` leaves out. `preparing`: the chain is fitted already
    /// (a run fine-tuned from another's), and a row it refuses is one too.
    public func readProblems(_ rows: [Manifest.Row], preparing: Bool = false) -> [(line: Int, message: String)] {
        rows.compactMap { row in
            do {
                var sample = try read(row)
                sample.id = Sample.id(of: row.path)
                try Self.requireTissue(sample)
                if preparing { _ = try prepare(sample) }
                return nil
            } catch { return (row.line, "line \(row.line): \(error)") }
        }
    }

    /// The rows as a store. Each row is read and preprocessed once now, so that every bad row is
    /// reported before any work starts, and kept in memory while `cacheBudget` bytes allow; the
    /// others are read again whenever a batch needs them.
    /// - Throws: `ManifestError` listing every row whose file the reader or a step rejects, whose
    ///   tissue mask is empty, or whose channel count or size after preprocessing differs from the
    ///   first sample's (one error for all of them).
    public func store(_ rows: [Manifest.Row], manifest: Manifest, cacheBudget: Int = SampleStore.defaultCacheBudget) throws -> SampleStore {
        let (store, problems, _) = try checkedStore(rows, cacheBudget: cacheBudget)
        guard problems.isEmpty else { throw ManifestError(file: manifest.url.path, problems: problems.map(\.message)) }
        return store
    }

    /// As `store(_:manifest:cacheBudget:)`, returning the problems (with their manifest lines)
    /// instead of throwing them, and the first sample made; with `reference`, every sample must
    /// have its shape and axis.
    /// `digesting`: the store takes each sample's `PixelDigest` as first read (a run's train and val rows).
    func checkedStore(_ rows: [Manifest.Row], like reference: Sample? = nil, cacheBudget: Int, measuringInputs: Bool = false,
                      digesting: Bool = false) throws -> (store: SampleStore, problems: [(line: Int, message: String)], first: Sample?) {
        let me = self, stamps = FileStamps(), digests = digesting ? PixelDigests() : nil
        let (store, problems, first) = try store(count: rows.count, where: { "line \(rows[$0].line)" }, sameChannels: true,
                                                 like: reference, names: rows.map { Sample.id(of: $0.path) }, cacheBudget: cacheBudget,
                                                 measuringInputs: measuringInputs) { i in
            // A sample read again (one the cache could not keep) must come from the files read first.
            try stamps.check(i, me.reader.files(of: rows[i].path) + [rows[i].mask].compactMap { $0 })
            let sample = try me.reads.take(line: rows[i].line) ?? me.read(rows[i])
            digests?.note(i, sample)
            return try me.prepare(consume sample)
        }
        store.pixelDigests = digests
        return (store, problems.map { (rows[$0.index].line, $0.message) }, first)
    }

    /// Sample files given by path (no manifest, no labels; sizes may differ) as a store, checked
    /// and cached as `store(_:manifest:cacheBudget:)` does.
    /// - Throws: `TrainingError` listing every file the reader or a step rejects or whose tissue mask is empty.
    public func store(files: [URL], cacheBudget: Int = SampleStore.defaultCacheBudget) throws -> SampleStore {
        let me = self
        let (store, found, _) = try store(count: files.count, where: { files[$0].path }, sameChannels: false,
                                          names: files.map(Sample.id(of:)), cacheBudget: cacheBudget) { i in
            try me.prepare(me.read(files[i]))
        }
        let problems = found.map(\.message)
        guard problems.isEmpty else {
            throw TrainingError(problems.count == 1 ? problems[0]
                                : "\(problems.count) sample files cannot be used:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return store
    }

    /// The rows as a store that reads each sample only when it is asked for, with no pass over the
    /// files first and no cache: for commands that use each sample once (segment, evaluate,
    /// overlay), so memory holds only the samples in flight. Ids are the files' names without
    /// extension, made unique as `store(_:manifest:cacheBudget:)` makes them; a sample that cannot
    /// be made throws `ManifestError` naming its line. `requiringTissue` (the default) makes a
    /// sample whose tissue mask is empty one that cannot be made; `segment` and `overlay` take
    /// such samples (a blank core of a microarray): their mask is empty and their fraction undefined.
    /// `reserving`: the names of other inputs, which no id of these may take.
    /// `digesting`: the store takes each sample's `PixelDigest` as read (`SampleStore.pixelDigest`).
    public func onceStore(_ rows: [Manifest.Row], manifest: Manifest, requiringTissue: Bool = true,
                          reserving others: [String] = [], digesting: Bool = false) -> SampleStore {
        let me = self, ids = Self.uniqueIDs(rows.map(\.path), reserving: others), file = manifest.url.path
        let digests = digesting ? PixelDigests() : nil
        let store = SampleStore(ids: ids, labels: rows.map(\.label), shape: nil, cacheBudget: 0) { i in
            do {
                let read = try me.read(rows[i])
                digests?.note(i, read)
                var sample = try me.prepare(consume read)
                sample.id = ids[i]
                if requiringTissue { try Self.requireTissue(sample) }
                return sample
            } catch {
                throw ManifestError(file: file, problems: ["line \(rows[i].line): \(error)"])
            }
        }
        store.pixelDigests = digests
        return store
    }

    /// Sample files (no labels) as a store read on demand, as `onceStore(_:manifest:)` makes it.
    public func onceStore(files: [URL], requiringTissue: Bool = true, reserving others: [String] = []) -> SampleStore {
        let me = self, ids = Self.uniqueIDs(files, reserving: others)
        return SampleStore(ids: ids, labels: files.map { _ in nil }, shape: nil, cacheBudget: 0) { i in
            var sample: Sample
            // A step names the sample by its id, which two files may share: the path says which.
            do { sample = try me.prepare(me.read(files[i])) } catch let e as SampleError { throw TrainingError("\(files[i].path): \(e)") }
            sample.id = ids[i]
            guard requiringTissue else { return sample }
            do { try Self.requireTissue(sample) } catch { throw TrainingError("\(files[i].path): \(error)") }
            return sample
        }
    }

    /// Throws unless `sample` has tissue: the pooling head, and every measure per sample, averages over it.
    static func requireTissue(_ sample: Sample) throws {
        guard sample.tissue.count == 0 else { return }
        throw emptyTissue(sample.id, why: sample.metadata[Sample.noTissueKey])
    }

    /// The refusal of a sample whose tissue mask is empty (training and evaluation average over
    /// tissue), saying why where its reader did (`Sample.noTissueKey`).
    public static func emptyTissue(_ id: String, why: String? = nil) -> TrainingError {
        if let why { return TrainingError("sample \(id) has an empty tissue mask: \(why); the pooling head averages over tissue") }
        return TrainingError("sample \(id) has an empty tissue mask; the pooling head averages over tissue (images "
                             + "taken inside tissue: the built-in readers' option tissue: {method: all}; or give a mask column)")
    }

    /// The files' names without extension, made unique.
    static func uniqueIDs(_ files: [URL], reserving others: [String] = []) -> [String] {
        let names = files.map(Sample.id(of:))
        var ids = UniqueIDs(reserving: names + others)
        return names.map { ids.make($0) }
    }

    /// Reads and preprocesses every sample once, on all cores, a few at a time. Samples whose
    /// files share a name (`A/s.h5`, `B/s.h5`) get unique ids (`s`, `s-2`, never one of `names`,
    /// the files' own), so their outputs never overwrite each other. With `measuringInputs`, the
    /// store's `inputRange` is measured on the samples as they are read.
    private func store(count: Int, where location: (Int) -> String, sameChannels: Bool, like reference: Sample? = nil, names: [String],
                       cacheBudget: Int, measuringInputs: Bool = false, make: @escaping @Sendable (Int) throws -> Sample)
        throws -> (SampleStore, problems: [(index: Int, message: String)], first: Sample?) {
        var ids: [String] = [], labels: [SampleLabel?] = [], problems: [(index: Int, message: String)] = []
        var made = UniqueIDs(reserving: names)
        var first = reference, allSameShape = true, largest = (height: 0, width: 0)
        var cache = SampleCache(budget: cacheBudget)
        var warned = ReaderWarnings()
        var sampler: InputRangeSampler?
        try SampleSequence(count: count, make: make).forEach({ $0 }) { i, outcome in
            do {
                var sample = try outcome.get()
                sample.id = made.make(sample.id)
                ids.append(sample.id); labels.append(sample.label)
                warned.add(sample)
                if measuringInputs {
                    sampler = sampler ?? InputRangeSampler(channels: (first ?? sample).image.shape[0], samples: count)
                    sampler?.add(sample)
                }
                do { try Self.requireTissue(sample) } catch { problems.append((i, "\(location(i)): \(error)")) }
                if let first, sample.image.shape != first.image.shape { allSameShape = false }
                largest = (max(largest.height, sample.height), max(largest.width, sample.width))
                if sameChannels, let first, sample.image.shape.dims[0] != first.image.shape.dims[0] {
                    problems.append((i, "\(location(i)): \(sample.id) has \(sample.image.shape.dims[0]) channels after preprocessing "
                                    + "but \(first.id) has \(first.image.shape.dims[0]); the samples of one run must have the same channels"))
                } else if sameChannels, let first, case .spectral(let mine, _) = sample.channels,
                          case .spectral(let theirs, _) = first.channels, !ChannelAxis.matches(mine, theirs) {
                    // The network takes bands by position: training samples on one axis, in one order.
                    problems.append((i, "\(location(i)): \(sample.id)'s channels (\(sample.channels.summary)) after preprocessing are not "
                                    + "\(first.id)'s (\(first.channels.summary)); put a 'resample' step first to bring every file onto one axis"))
                }
                first = first ?? sample
                cache.keep(sample, at: i)
            } catch {
                problems.append((i, "\(location(i)): \(error)"))
            }
        }
        let unique = ids
        let store = SampleStore(ids: ids, labels: labels, shape: allSameShape && !ids.isEmpty ? first?.image.shape : nil,
                                channels: ids.isEmpty ? nil : first?.image.shape.dims[0], cache: cache,
                                make: { i in var s = try make(i); s.id = unique[i]; return s })
        store.readerWarnings = warned
        store.inputRange = sampler?.range()
        if !ids.isEmpty { store.largest = largest }
        return (store, problems, first)
    }
}

/// Where a run's sample preparation went: seconds reading files and in the preprocessing steps
/// (each summed over the threads that prepare samples), and fitting the chain (wall clock).
public final class PreparationClock: @unchecked Sendable {
    public struct Seconds { public var reading = 0.0, steps = 0.0, fitting = 0.0 }
    private let lock = NSLock()
    private var totals = Seconds()

    public init() {}

    public var seconds: Seconds { lock.withLock { totals } }

    /// Runs `body`, adding its time to `part`.
    func timing<T>(_ part: WritableKeyPath<Seconds, Double>, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let t = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            lock.withLock { totals[keyPath: part] += t }
        }
        return try body()
    }
}

/// Samples as read, by manifest line, kept while their bytes fit in `budget`; each is handed out once.
final class ReadCache: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [Int: Sample] = [:]
    private var bytes = 0
    var budget = 0

    func keep(_ sample: Sample, line: Int) {
        let size = sample.image.shape.count * MemoryLayout<Float>.size
        lock.withLock {
            guard samples[line] == nil, bytes + size <= budget else { return }
            samples[line] = sample
            bytes += size
        }
    }

    func take(line: Int) -> Sample? {
        lock.withLock {
            guard let s = samples.removeValue(forKey: line) else { return nil }
            bytes -= s.image.shape.count * MemoryLayout<Float>.size
            return s
        }
    }
}

/// Sample ids that never repeat, so that outputs never overwrite each other: a name already
/// taken gets -2, -3, … (`A/s.h5`, `B/s.h5` → s, s-2), skipping the names of the other inputs
/// (`reserving`), so that an id is never another file's own name (`a.tif`, `a.png`, `a-2.png` →
/// a, a-3, a-2, whatever their order).
public struct UniqueIDs {
    /// Names as `key` folds them.
    private var taken: Set<String>
    private let reserved: Set<String>
    public init(taken: some Sequence<String> = [String](), reserving: some Sequence<String> = [String]()) {
        self.taken = Set(taken.map(Self.key)); reserved = Set(reserving.map(Self.key))
    }

    /// `name`, or the first of name-2, name-3, … neither taken nor reserved; it is taken from now on.
    /// Names that differ only in case are one name here (`Case` and `case` make `case-2`): their
    /// output files would be one file on the disks of Windows and macOS, where outputs are copied.
    public mutating func make(_ name: String) -> String {
        var id = name, n = 1
        while taken.contains(Self.key(id)) || (id != name && reserved.contains(Self.key(id))) { n += 1; id = "\(name)-\(n)" }
        taken.insert(Self.key(id))
        return id
    }

    private static func key(_ name: String) -> String { name.lowercased() }
}

/// The size, modification time and inode of each sample's files when they were first read, so
/// that a sample read again (a training epoch's, where the cache keeps it not) is known to come
/// from the same files: one written over while a run trains would change what it learns unsaid.
final class FileStamps: @unchecked Sendable {
    private var first: [Int: [String]] = [:]
    private let lock = NSLock()

    /// Records the files of sample `index` at its first read; at a later one, throws `IOError`
    /// naming the first file that changed since.
    func check(_ index: Int, _ files: [URL]) throws {
        let now = files.map(Self.stamp)
        let before: [String]? = lock.withLock {
            if let seen = first[index] { return seen }
            first[index] = now
            return nil
        }
        guard let before, let k = zip(before, now).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else { return }
        throw IOError(file: files[k].path, "changed while the run used it (its size, time or inode are others than when it was first "
                      + "read), so the epoch would mix two files' data; put it back as it was, or train anew on the new files")
    }

    private static func stamp(_ url: URL) -> String {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return "gone" }
        return "\(status.st_size) \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec) \(status.st_dev):\(status.st_ino)"
    }
}
