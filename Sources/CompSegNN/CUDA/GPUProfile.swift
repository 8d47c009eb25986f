import Foundation

/// How long a GPU ran each kernel and cuDNN call of some work (`CUDABackend.profiled`), summed
/// by name: timed on the GPU by a pair of CUDA events around every launch. The launches' total
/// (`busySeconds`) against the work's span on the GPU (`spanSeconds`) says how much the GPU sat
/// idle waiting for the host. Where the GPU waits for the host, a launch's time also holds the
/// host's enqueueing of it (its first event is passed before the launch is queued), so
/// `busySeconds` then overstates the GPU's work.
public struct GPUProfile: Sendable {
    public struct Entry: Sendable, Equatable {
        /// The kernel's name, or the cuDNN call with its shapes and algorithm.
        public let name: String
        public let calls: Int
        public let seconds: Double
    }

    /// By name, longest total first.
    public let entries: [Entry]
    /// From the work's start to its end, on the GPU.
    public let spanSeconds: Double
    /// The sum of every launch's time.
    public var busySeconds: Double { entries.reduce(0) { $0 + $1.seconds } }
}

/// Records a pair of events around each launch while a profile is taken, and reads them back;
/// for work launched from one thread (launches from several at once would each include the
/// others' work between their events).
final class LaunchTimer: @unchecked Sendable {
    private let events: CUDADriver.Events
    private let driver: CUDADriver
    private let lock = NSLock()
    private var records: [(name: String, start: CUDADriver.Pointer?, end: CUDADriver.Pointer?)] = []
    /// Around the whole work: recorded by `init` and by `profile`.
    private let span: (start: CUDADriver.Pointer?, end: CUDADriver.Pointer?)

    /// Starts timing: the work's span begins here.
    init(_ driver: CUDADriver) throws(CUDAUnavailable) {
        guard let events = driver.events else { throw CUDAUnavailable("this CUDA driver has no event functions to time launches") }
        self.driver = driver
        self.events = events
        span = try Self.pair(events, driver)
        try driver.check(events.record(span.start, nil), "cuEventRecord")
    }

    /// Runs `enqueue`, which launches work on the default stream, between two recorded events.
    func around<T>(_ name: String, _ enqueue: () throws(CUDAUnavailable) -> T) throws(CUDAUnavailable) -> T {
        let (start, end) = try Self.pair(events, driver)
        lock.withLock { records.append((name, start, end)) }
        try driver.check(events.record(start, nil), "cuEventRecord")
        let result = try enqueue()
        try driver.check(events.record(end, nil), "cuEventRecord")
        return result
    }

    /// Ends the span, waits for the GPU to run everything launched, and gives the profile of the
    /// launches recorded; destroys every event.
    func profile() throws -> GPUProfile {
        let records = lock.withLock { self.records }
        defer { for e in [span.start, span.end] + records.flatMap({ [$0.start, $0.end] }) { _ = events.destroy(e) } }
        try driver.check(events.record(span.end, nil), "cuEventRecord")
        try driver.check(driver.synchronize(), "cuCtxSynchronize")
        var totals: [String: (calls: Int, seconds: Double)] = [:]
        for r in records {
            let seconds = try elapsed(r.start, r.end)
            totals[r.name, default: (0, 0)].calls += 1
            totals[r.name, default: (0, 0)].seconds += seconds
        }
        let entries = totals.map { GPUProfile.Entry(name: $0.key, calls: $0.value.calls, seconds: $0.value.seconds) }
        return GPUProfile(entries: entries.sorted { ($0.seconds, $1.name) > ($1.seconds, $0.name) },
                          spanSeconds: try elapsed(span.start, span.end))
    }

    private func elapsed(_ start: CUDADriver.Pointer?, _ end: CUDADriver.Pointer?) throws -> Double {
        var milliseconds: Float = 0
        try driver.check(events.elapsed(&milliseconds, start, end), "cuEventElapsedTime")
        return Double(milliseconds) * 1e-3
    }

    /// Two new events (CU_EVENT_DEFAULT: with timing); none is left when the second fails.
    private static func pair(_ events: CUDADriver.Events, _ driver: CUDADriver) throws(CUDAUnavailable)
        -> (CUDADriver.Pointer?, CUDADriver.Pointer?) {
        var start: CUDADriver.Pointer?, end: CUDADriver.Pointer?
        try driver.check(events.create(&start, 0), "cuEventCreate")
        do { try driver.check(events.create(&end, 0), "cuEventCreate") } catch {
            _ = events.destroy(start)
            throw error
        }
        return (start, end)
    }
}
