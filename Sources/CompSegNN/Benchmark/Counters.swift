import Foundation

/// Work counted by the engine while `Counters.enabled` (benchmarks: effective GFLOP/s).
public enum Counters {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var flops: Double = 0
    private static let lock = NSLock()

    /// Multiply-adds ×2 of the convolutions run (forward, backward data and backward weights).
    public static var convolutionFLOPs: Double { lock.withLock { flops } }
    public static func reset() { lock.withLock { flops = 0 } }

    static func addConvolution(_ value: Double) {
        guard enabled else { return }
        lock.withLock { flops += value }
    }
}
