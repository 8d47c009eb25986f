import Foundation

/// Work counted by the engine while `Counters.enabled` (benchmarks: effective GFLOP/s).
public enum Counters {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var flops: Double = 0
    nonisolated(unsafe) private static var kernelNanoseconds: UInt64 = 0
    nonisolated(unsafe) private static var launches = 0, waits = 0, cpuConvolutions = 0
    private static let lock = NSLock()

    /// Multiply-adds ×2 of the convolutions run (forward, backward data and backward weights).
    public static var convolutionFLOPs: Double { lock.withLock { flops } }
    /// Seconds spent inside backend kernels (oneDNN executions); the rest of a step is the
    /// engine's own work between them.
    public static var kernelSeconds: Double { lock.withLock { Double(kernelNanoseconds) * 1e-9 } }
    /// Work handed to a GPU: kernels and cuDNN calls (each a launch's host overhead).
    public static var gpuLaunches: Int { lock.withLock { launches } }
    /// Times the host waited for a GPU to finish its work (to read a tensor, or to free memory).
    public static var hostWaits: Int { lock.withLock { waits } }
    /// Convolutions a GPU backend handed to the CPU (cuDNN had no usable algorithm for them).
    public static var convolutionsOnTheCPU: Int { lock.withLock { cpuConvolutions } }
    public static func reset() {
        lock.withLock { flops = 0; kernelNanoseconds = 0; launches = 0; waits = 0; cpuConvolutions = 0 }
    }

    static func addCPUConvolution() { count { cpuConvolutions += 1 } }
    static func addGPULaunch() { count { launches += 1 } }
    static func addHostWait() { count { waits += 1 } }
    static func addKernelTime(_ nanoseconds: UInt64) { count { kernelNanoseconds += nanoseconds } }
    static func addConvolution(_ value: Double) { count { flops += value } }

    /// Runs `update` under the lock while counting is enabled.
    private static func count(_ update: () -> Void) {
        guard enabled else { return }
        lock.withLock(update)
    }
}
