import Foundation
import Synchronization

/// Where tensors' memory comes from: the host's pool (the CPU backend), or memory that a device
/// and the host both reach (a GPU backend's managed memory), which the host may touch only after
/// the device's pending work on it is done.
public protocol TensorMemory: AnyObject, Sendable {
    /// `count` floats, 64-byte aligned, their values unset.
    func take(_ count: Int) -> UnsafeMutablePointer<Float>
    /// Takes back what `take` gave.
    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int)
    /// Sets `count` floats to zero, for the host to write next (a device's memory waits for the device first).
    func zero(_ pointer: UnsafeMutablePointer<Float>, _ count: Int)
    /// Returns once no device work that may read or write this memory is pending; the host
    /// calls it before every access (free for host memory).
    func synchronizeForHost()
}

/// An aligned, owned buffer of Float32; the physical memory behind a `Tensor`.
/// Its size may exceed the logical element count when a backend layout pads (blocked channels).
final class Storage: @unchecked Sendable {
    /// The memory as the backend that made it addresses it (no waiting for a device).
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// Where the memory came from and goes back to.
    let memory: any TensorMemory
    /// Counts writes through `Tensor.withMutablePlainBuffer`, so that copies made from these
    /// values (weights in a kernel's layout) know when they are stale.
    var version = 0
    /// A backend's copy of these values in another form (the CUDA backend's channels-last bf16),
    /// made at `version` and valid while that is still the storage's; released with it.
    var derived: (version: Int, copy: Storage)?
    /// The measurement that counts this storage, where one was running when it was made.
    private let meter: TensorMemoryUse.Meter?

    /// Takes `count` floats, 64-byte aligned, from `memory` (the current backend's); zero-filled
    /// when `zeroed` (a buffer that a kernel overwrites whole needs no zeroing).
    init(count: Int, zeroed: Bool = true, memory: any TensorMemory = Backend.current.memory) {
        self.count = count
        self.memory = memory
        pointer = memory.take(count)
        if zeroed { memory.zero(pointer, max(count, 1)) }
        meter = TensorMemoryUse.meter
        TensorMemoryUse.add(count * MemoryLayout<Float>.stride)
        meter?.add(count * MemoryLayout<Float>.stride)
    }

    deinit {
        memory.give(pointer, count)
        TensorMemoryUse.add(-count * MemoryLayout<Float>.stride)
        meter?.add(-count * MemoryLayout<Float>.stride)
    }

    /// The memory for the host to read or write: device work pending on it is waited for first.
    var base: UnsafeMutablePointer<Float> {
        memory.synchronizeForHost()
        return pointer
    }

    var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }
}

/// The bytes tensors hold, in all (`liveBytes`) and as made by one piece of work (`measuring`):
/// the trainer measures a step on a small image before training on large ones.
public enum TensorMemoryUse {
    /// Counts the tensors' bytes one piece of work makes: those it still holds, and the most at once.
    public final class Meter: @unchecked Sendable {
        private let lock = NSLock()
        private var live = 0, peak = 0
        func add(_ bytes: Int) {
            lock.lock()
            live += bytes
            peak = max(peak, live)
            lock.unlock()
        }
        /// The most bytes the work's tensors held at once.
        public var peakBytes: Int { lock.withLock { peak } }
    }

    private static let live = Atomic<Int>(0)
    @TaskLocal static var meter: Meter?

    static func add(_ bytes: Int) { live.wrappingAdd(bytes, ordering: .relaxed) }

    /// The bytes all tensors hold now.
    public static var liveBytes: Int { live.load(ordering: .relaxed) }
    /// The most bytes of freed tensors the host keeps for reuse, on top of those held.
    public static let reusedBytes = 1 << 30

    /// `body`'s result and the most bytes the tensors it made (on this thread; other work's go
    /// uncounted) held at once.
    public static func measuring<R>(_ body: () throws -> R) rethrows -> (result: R, peakBytes: Int) {
        let meter = Meter()
        let result = try $meter.withValue(meter) { try body() }
        return (result, meter.peakBytes)
    }
}

/// Freed buffers kept for reuse by size, at most `capacityBytes` of them: a training step
/// allocates the same sizes every iteration. Thread-safe.
final class IdleBuffers: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idleBytes = 0
    let capacityBytes: Int

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    /// A kept buffer of `count` floats, if any.
    func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        lock.lock()
        defer { lock.unlock() }
        guard let p = idle[count]?.popLast() else { return nil }
        idleBytes -= Self.bytes(count)
        return p
    }

    /// Every kept buffer, handed back and no longer kept (to be freed).
    func removeAll() -> [UnsafeMutablePointer<Float>] {
        lock.withLock {
            defer { idle = [:]; idleBytes = 0 }
            return idle.values.flatMap { $0 }
        }
    }

    /// Keeps `p` for reuse; false when that would pass the capacity (the caller frees it).
    func keep(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard idleBytes + Self.bytes(count) <= capacityBytes else { return false }
        idle[count, default: []].append(p)
        idleBytes += Self.bytes(count)
        return true
    }

    /// The bytes `count` floats take (at least one float's).
    static func bytes(_ count: Int) -> Int { max(count, 1) * MemoryLayout<Float>.stride }
}

/// The host's memory, freed buffers kept for reuse (`IdleBuffers`, 1 GiB): reuse spares the page
/// faults of fresh memory (measured: about half the time of a 1024→1024 layer at 16², whose 38 MB
/// weight copies were allocated each call).
final class StoragePool: TensorMemory, @unchecked Sendable {
    static let shared = StoragePool()
    private let idle = IdleBuffers(capacityBytes: TensorMemoryUse.reusedBytes)

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let p = idle.take(count) { return p }
        let bytes = IdleBuffers.bytes(count)
        var raw: UnsafeMutableRawPointer?
        // Buffers of 4 MB and more (activations, large weights) on 2 MB pages where the system
        // offers them on request (transparent huge pages in `madvise` mode): fewer TLB misses as
        // kernels sweep whole images (the paper's step 1–3% faster, 5 of 5 interleaved rounds).
        let huge = bytes >= 4 << 20
        guard posix_memalign(&raw, huge ? 2 << 20 : 64, bytes) == 0, let raw else {
            fatalError("CompSegNN: out of memory allocating \(bytes) bytes")
        }
        if huge { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if !idle.keep(p, count) { free(p) }
    }

    func zero(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) { pointer.update(repeating: 0, count: count) }

    func synchronizeForHost() {}
}
