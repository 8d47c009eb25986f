import CKernels
import Foundation
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
        if case .count(let v, _)? = environmentSetting { return v }
        return availableCores
    }()

    /// The cores this process may use, the default thread count: those its CPU affinity allows
    /// (`taskset`, a batch system's binding), fewer where its cgroup's CPU quota allows less (a
    /// container's `--cpus`, rounded up); at least 1.
    public static var availableCores: Int {
        let allowed = Int(compseg_affinity_cpus())
        var n = allowed > 0 ? allowed : sysconf(Int32(_SC_NPROCESSORS_ONLN))
        if let quota = cgroupCPUQuota() { n = min(n, Int(quota.rounded(.up))) }
        return max(1, n)
    }

    /// Seconds this process's threads have waited, ready to run, for a core (Linux's run delay in
    /// `/proc/self/task/*/schedstat`, summed over the threads there now); nil where unreadable.
    public static func secondsWaitedForCores() -> Double? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        var total = 0.0, read = false
        for task in tasks {
            guard let line = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8) else { continue }
            let fields = line.split(separator: " ")
            if fields.count >= 2, let delay = Double(fields[1]) { total += delay * 1e-9; read = true }
        }
        return read ? total : nil
    }

    /// The CPUs' worth of time this process's cgroup and the groups above it may use, the least
    /// of their quotas (quota ÷ period: cgroup v2's `cpu.max`, v1's `cpu.cfs_quota_us` and
    /// `cpu.cfs_period_us`); nil where none has a quota.
    static func cgroupCPUQuota(root: String = "/sys/fs/cgroup", membership: String? = nil) -> Double? {
        ControlGroups.least(of: "cpu", root: root, membership: membership) { folder in
            if let max = ControlGroups.read(folder + "/cpu.max")?.split(separator: " "), max.count == 2 {
                guard let quota = Double(max[0]), let period = Double(max[1]), quota > 0, period > 0 else { return nil }
                return quota / period
            }
            guard let quota = ControlGroups.read(folder + "/cpu.cfs_quota_us").flatMap(Double.init),
                  let period = ControlGroups.read(folder + "/cpu.cfs_period_us").flatMap(Double.init), quota > 0, period > 0 else { return nil }
            return quota / period
        }
    }

    /// What the environment says: COMPSEG_THREADS, else OMP_NUM_THREADS (which batch systems' job
    /// scripts set to the cores a job was given; its first count where it lists one per nesting
    /// level, "4,2"): a count in 1…maximum, or text that is none (ignored), with the variable's
    /// name; nil where neither is set.
    public enum EnvironmentSetting: Equatable { case count(Int, variable: String), ignored(String, variable: String) }
    public static var environmentSetting: EnvironmentSetting? {
        for variable in ["COMPSEG_THREADS", "OMP_NUM_THREADS"] {
            guard let text = getenv(variable).map({ String(cString: $0) }) else { continue }
            let first = variable == "OMP_NUM_THREADS" ? String(text.prefix { $0 != "," }) : text
            if let value = Int(first.trimmingCharacters(in: .whitespaces)), (1...maximum).contains(value) { return .count(value, variable: variable) }
            return .ignored(text, variable: variable)
        }
        return nil
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
