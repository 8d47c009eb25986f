import Dispatch

/// Splits `0..<count` into one contiguous chunk per core and runs `body` on each, when the work
/// is large enough to pay for it; else runs it once on the calling thread. Chunks never overlap
/// and the split depends only on `count` and the core count, so results are deterministic.
func parallelChunks(_ count: Int, minimumPerChunk: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = min(Threads.count, max(1, count / minimumPerChunk))
    if chunks <= 1 { body(0..<count); return }
    let size = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { i in
        let lower = i * size
        body(lower..<min(count, lower + size))
    }
}

/// The number of threads CompSegNN's own loops use (oneDNN and OpenBLAS keep their own pools,
/// which are never busy at the same time as these loops).
public enum Threads {
    nonisolated(unsafe) public static var count: Int = {
        if let v = getenv("COMPSEG_THREADS").flatMap({ Int(String(cString: $0)) }), v > 0 { return v }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()
}

#if canImport(Glibc)
import Glibc
#endif
