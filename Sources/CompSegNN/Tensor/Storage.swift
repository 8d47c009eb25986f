import Foundation

/// An aligned, owned buffer of Float32; the physical memory behind a `Tensor`.
/// Its size may exceed the logical element count when a backend layout pads (blocked channels).
final class Storage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    /// Allocates `count` floats, 64-byte aligned, zero-filled.
    init(count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("CompSegNN: out of memory allocating \(bytes) bytes")
        }
        memset(raw, 0, bytes)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { free(base) }

    var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }
}
