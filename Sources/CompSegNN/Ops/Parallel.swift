import CDNNL
import COpenBLAS

/// Splits `0..<count` into one contiguous chunk per thread and runs `body` on each, when the
/// work is large enough to pay for it; else runs it once on the calling thread. Chunks never
/// overlap and the split depends only on `count` and the thread count, so results repeat.
/// The chunks run on OpenMP's threads, the ones oneDNN's kernels use (between kernels they
/// spin-wait for work, and a second pool of threads would compete with them for the cores).
func parallelChunks(_ count: Int, minimumPerChunk: Int = 1 << 16, _ body: @Sendable (Range<Int>) -> Void) {
    let chunks = min(Threads.count, max(1, count / minimumPerChunk))
    if chunks <= 1 { body(0..<count); return }
    let size = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        var job = ChunkJob(body: body, count: count, size: size, chunks: chunks)
        withUnsafeMutablePointer(to: &job) { pointer in
            GOMP_parallel({ raw in
                let job = raw!.assumingMemoryBound(to: ChunkJob.self).pointee
                // A team smaller than asked for (a nested region) runs the remaining chunks in turn.
                let (thread, threads) = (Int(omp_get_thread_num()), Int(omp_get_num_threads()))
                for i in stride(from: thread, to: job.chunks, by: threads) {
                    let lower = i * job.size
                    job.body(lower..<min(job.count, lower + job.size))
                }
            }, pointer, UInt32(chunks), 0)
        }
    }
}

/// What each thread of `parallelChunks`' region reads.
private struct ChunkJob {
    let body: @Sendable (Range<Int>) -> Void
    let count: Int, size: Int, chunks: Int
}

/// A value handed to `parallelChunks` workers that write disjoint ranges of it.
struct DisjointAccess<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The thread count of both pools CompSeg uses: OpenMP's (oneDNN's kernels and CompSeg's own
/// loops) and OpenBLAS's. Only one pool is busy at a time, so each may use every thread.
public enum Threads {
    nonisolated(unsafe) public private(set) static var count: Int = {
        if case .count(let v)? = environmentSetting { return v }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// What COMPSEG_THREADS says: a count in 1…maximum, or text that is none (ignored); nil where unset.
    public enum EnvironmentSetting: Equatable { case count(Int), ignored(String) }
    public static var environmentSetting: EnvironmentSetting? {
        guard let text = getenv("COMPSEG_THREADS").map({ String(cString: $0) }) else { return nil }
        if let value = Int(text), (1...maximum).contains(value) { return .count(value) }
        return .ignored(text)
    }

    /// The most threads a pool may have (`--threads`' range; COMPSEG_THREADS outside 1…maximum is ignored).
    public static let maximum = 1024

    /// Sets the thread count of every pool. Call it from the thread that runs the network
    /// (OpenMP's setting belongs to the calling thread).
    public static func set(_ n: Int) {
        precondition(n > 0, "thread count must be positive, got \(n)")
        count = n
        omp_set_num_threads(Int32(n))
        openblas_set_num_threads(Int32(n))
    }
}

#if canImport(Glibc)
import Glibc
#endif
