import CKernels
import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// Where the time of segmenting a set of samples went, in seconds. Reading and preprocessing run
/// on a thread of their own, ahead of the network, so the parts add up to more than `wall`.
public struct InferenceTimes: Sendable {
    public var samples = 0
    /// Reading files and the preprocessing steps (the modality's clock, summed over threads).
    public var reading = 0.0, preprocessing = 0.0
    /// The network's forward passes (inference mode, no graph).
    public var network = 0.0
    /// From the first sample asked for to the last map.
    public var wall = 0.0

    /// One line for the terminal: the wall time per sample and its parts per sample.
    public func summary(writing: Double? = nil) -> String {
        let n = Double(max(samples, 1))
        let parts = [("reading", reading), ("preprocessing", preprocessing), ("network", network)]
            + (writing.map { [("writing", $0)] } ?? [])
        return String(format: "%.3f s per sample", (wall + (writing ?? 0)) / n) + " ("
            + parts.map { String(format: "%@ %.3f s", $0.0, $0.1 / n) }.joined(separator: ", ")
            + "; reading and preprocessing run ahead of the network)"
    }
}

extension TrainedModel {
    /// Input values a batch holds when no batch size is given: 32 Mi (128 MB).
    public static let batchValues = 32 << 20

    /// Every sample of `store` with its activation map, in order. The next samples are read and
    /// preprocessed on a thread of their own while the network runs on the current batch
    /// (`batchSize` samples of one size); samples come back without their images
    /// (`Sample.withoutImage`), so memory holds a batch and the samples read ahead of it.
    /// - Throws: when a sample cannot be made, after trying the others (every bad file named at
    ///   once: the errors' descriptions, one per line); or when a sample's channels differ from the
    ///   network's. With `leavingOut`, such a sample is handed to it (its error's description) and
    ///   left out instead, and the others are segmented.
    public func segmented(_ store: SampleStore, batchSize: Int? = nil, leavingOut: ((String) -> Void)? = nil,
                          progress: ((_ done: Int, _ of: Int) -> Void)? = nil) throws
        -> (samples: [Sample], maps: [[Float]]) {
        let (samples, maps, _) = try segmentedTimed(store, batchSize: batchSize, leavingOut: leavingOut, progress: progress)
        return (samples, maps)
    }

    /// As `segmented(_:batchSize:)`, with the time spent (reading and preprocessing taken from
    /// `clock`). Without `batchSize`, a batch holds as many samples as fit in `batchValues` input
    /// values, 1 to 8 (measured on 20 spots of 256×256×450 with the paper's network, 2 cores:
    /// 1.03 s a spot and 1.2 GB at batch 1, 1.02 s and 1.7 GB at 2, 1.14 s and 2.8 GB at 4).
    /// `progress` hears after each batch how many of the store's samples are done (segmented or left out).
    public func segmentedTimed(_ store: SampleStore, batchSize: Int? = nil, clock: PreparationClock? = nil,
                               leavingOut: ((String) -> Void)? = nil, progress: ((_ done: Int, _ of: Int) -> Void)? = nil) throws
        -> (samples: [Sample], maps: [[Float]], times: InferenceTimes) {

        let before = clock?.seconds
        let start = DispatchTime.now().uptimeNanoseconds
        var times = InferenceTimes()
        var samples: [Sample] = [], maps: [[Float]] = [], problems: [String] = []
        var batch: [Sample] = [], skipped = 0  // samples left out
        func flush() throws {
            guard !batch.isEmpty else { return }
            let t = DispatchTime.now().uptimeNanoseconds
            maps += try activationMaps(batch, batchSize: batch.count)
            times.network += Double(DispatchTime.now().uptimeNanoseconds - t) * 1e-9
            if let range = description.inputRange {
                for sample in batch {
                    var counts = InputRangeCounts(id: sample.id, range: range)
                    counts.add(sample)
                    inputChecks.append(counts)
                }
            }
            samples += batch.map { $0.withoutImage() }
            batch = []
            progress?(samples.count + skipped, store.count)
        }
        var size = batchSize  // without one given: set by the first sample's size
        let prefetcher = SamplePrefetcher(store, ahead: max(1, batchSize ?? 1))
        defer { prefetcher.cancel() }
        while let outcome = prefetcher.next() {
            try Interruption.check()
            switch outcome {
            case .failure(let error):
                if error is Interrupted { throw error }  // no file's fault: never left out
                if let leavingOut { leavingOut("\(error)"); skipped += 1; continue }
                problems.append("\(error)")
                batch = []  // nothing more is computed; the other samples are still read, to name every bad one
            case .success(let read):
                // A sample on another spectral axis is named with the others that cannot be used.
                let sample: Sample
                do { sample = try aligned(read) } catch {
                    if let leavingOut { leavingOut("\(error)"); skipped += 1; continue }
                    problems.append("\(error)"); batch = []; continue
                }
                guard problems.isEmpty else { continue }
                if size == nil {
                    size = min(8, max(1, Self.batchValues / max(sample.image.shape.count, 1)))
                    prefetcher.ahead = size!
                }
                if let first = batch.first, first.image.shape != sample.image.shape { try flush() }
                batch.append(sample)
                if batch.count >= size! { try flush() }
            }
        }
        guard problems.isEmpty else {
            throw TrainingError(problems.count == 1 ? problems[0]
                                : "\(problems.count) samples cannot be used:\n" + problems.joined(separator: "\n"))
        }
        try flush()
        times.samples = samples.count
        times.wall = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if let before, let after = clock?.seconds {
            times.reading = after.reading - before.reading
            times.preprocessing = after.steps - before.steps
        }
        return (samples, maps, times)
    }
}

/// A store's samples made in order on a thread of their own, at most `ahead` of the one taken;
/// where no thread can be started (a process limit: a container's `pids.max`), each is made when
/// it is taken.
final class SamplePrefetcher: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Result<Sample, any Error>] = []
    private var taken = 0
    private var cancelled = false
    private let count: Int
    private var _ahead: Int
    /// The store, for `next` to make samples itself when the thread could not be started (nil otherwise).
    nonisolated(unsafe) private var unthreaded: SampleStore?
    /// How many made samples may wait to be taken.
    var ahead: Int {
        get { condition.withLock { _ahead } }
        set { condition.withLock { _ahead = max(1, newValue); condition.broadcast() } }
    }

    init(_ store: SampleStore, ahead: Int) {
        count = store.count
        _ahead = max(1, ahead)
        // Only this thread asks the store for samples until the last is made or `cancel` stops it.
        nonisolated(unsafe) let store = store
        let started = startThread(name: "compseg-reader") { [self] in
            for i in 0..<count {
                condition.lock()
                while ready.count >= _ahead && !cancelled { condition.wait() }
                let stop = cancelled
                condition.unlock()
                if stop { return }
                let outcome = Result { try store.sample(i) }
                condition.lock()
                ready.append(outcome)
                condition.broadcast()
                condition.unlock()
            }
        }
        if !started { unthreaded = store }
    }

    /// The next sample's outcome, waiting for it to be made; nil after the last.
    func next() -> Result<Sample, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        guard taken < count else { return nil }
        if let store = unthreaded {
            defer { taken += 1 }
            return Result { try store.sample(taken) }
        }
        while ready.isEmpty { condition.wait() }
        taken += 1
        condition.broadcast()
        return ready.removeFirst()
    }

    /// Stops making samples (those being made finish).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new detached thread called `name` (at most 15 bytes, as `top -H` and a
/// debugger show it); false, and `body` not run, where the system refuses the thread
/// (Foundation's `Thread.start` would fail unsaid, and whoever waits for the thread would wait for ever).
func startThread(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Body {
        let name: String, run: @Sendable () -> Void
        init(_ name: String, _ run: @escaping @Sendable () -> Void) { self.name = name; self.run = run }
    }
    let context = Unmanaged.passRetained(Body(name, body)).toOpaque()  // the C side cuts the name to 15 bytes
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
        _ = compseg_name_thread(body.name)
        body.run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        return false
    }
    pthread_detach(thread)
    return true
}
