import Foundation

/// How long a GPU ran each kernel and cuDNN call of some work (`CUDABackend.profiled`), summed
/// by name: timed on the GPU by a pair of CUDA events around every launch. The launches' total
/// (`busySeconds`) against the work's span on the GPU (`spanSeconds`) says how much the GPU sat
/// idle waiting for the host.
public struct GPUProfile: Sendable {
    public struct Entry: Sendable, Equatable {
        /// The kernel's name, or the cuDNN call with its shapes and algorithm.
        public let name: String
        public let calls: Int
        public let seconds: Double
    }

    /// By name, longest total first.
    public let entries: [Entry]
    /// From the start of the first launch to the end of the last, on the GPU.
    public let spanSeconds: Double
    /// The sum of every launch's time.
    public var busySeconds: Double { entries.reduce(0) { $0 + $1.seconds } }
}

/// Records a pair of events around each launch while a profile is taken, and reads them back.
/// Launches from several threads at once may each include the others' work between their events.
final class LaunchTimer: @unchecked Sendable {
    private let events: CUDADriver.Events
    private let driver: CUDADriver
    private let lock = NSLock()
    private var records: [(name: String, start: CUDADriver.Pointer?, end: CUDADriver.Pointer?)] = []

    init(_ driver: CUDADriver) throws(CUDAUnavailable) {
        guard let events = driver.events else { throw CUDAUnavailable("this CUDA driver has no event functions to time launches") }
        self.driver = driver
        self.events = events
    }

    /// Runs `enqueue`, which launches work on the default stream, between two recorded events.
    func around<T>(_ name: String, _ enqueue: () throws(CUDAUnavailable) -> T) throws(CUDAUnavailable) -> T {
        let start = try event(), end = try event()
        lock.withLock { records.append((name, start, end)) }
        try driver.check(events.record(start, nil), "cuEventRecord")
        let result = try enqueue()
        try driver.check(events.record(end, nil), "cuEventRecord")
        return result
    }

    /// The profile of the launches recorded, once the GPU has run them; destroys the events.
    func profile() throws -> GPUProfile {
        let records = lock.withLock { self.records }
        defer { for r in records { _ = events.destroy(r.start); _ = events.destroy(r.end) } }
        guard let last = records.last else { return GPUProfile(entries: [], spanSeconds: 0) }
        try driver.check(events.synchronize(last.end), "cuEventSynchronize")
        var totals: [String: (calls: Int, seconds: Double)] = [:], order: [String] = []
        for r in records {
            let seconds = try elapsed(r.start, r.end)
            if totals[r.name] == nil { order.append(r.name) }
            totals[r.name, default: (0, 0)].calls += 1
            totals[r.name, default: (0, 0)].seconds += seconds
        }
        let entries = order.map { GPUProfile.Entry(name: $0, calls: totals[$0]!.calls, seconds: totals[$0]!.seconds) }
        return GPUProfile(entries: entries.sorted { $0.seconds > $1.seconds },
                          spanSeconds: try elapsed(records[0].start, last.end))
    }

    private func elapsed(_ start: CUDADriver.Pointer?, _ end: CUDADriver.Pointer?) throws -> Double {
        var milliseconds: Float = 0
        try driver.check(events.elapsed(&milliseconds, start, end), "cuEventElapsedTime")
        return Double(milliseconds) * 1e-3
    }

    private func event() throws(CUDAUnavailable) -> CUDADriver.Pointer? {
        var e: CUDADriver.Pointer?
        try driver.check(events.create(&e, 0), "cuEventCreate")  // CU_EVENT_DEFAULT: with timing
        return e
    }
}
