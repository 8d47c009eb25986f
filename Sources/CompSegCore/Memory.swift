import CompSegNN
import Foundation

/// Work that would need more memory than this machine has: said before allocating, where the
/// allocation itself would end the process.
public struct MemoryShortage: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Throws `MemoryShortage` unless `bytes` fit in this machine's physical memory (and the limits
/// of `usableMemory`: the control group's, `ulimit -v`), naming `what` needs them (as "a spot of
/// 8192×8192 pixels × 100000 bands") and `advice`.
public func requireMemory(_ bytes: Double, for what: String, _ advice: String,
                          available: UInt64 = ProcessInfo.processInfo.physicalMemory,
                          groupLimit: Double? = ControlGroups.memoryLimit()) throws {
    let usable = usableMemory(available: available, groupLimit: groupLimit)
    guard bytes > Double(usable.bytes) else { return }
    throw MemoryShortage(description: "\(what) needs \(byteCount(bytes)) of memory, more than \(usable.words); \(advice)")
}

/// The memory this process may take: `available` (the machine's), or less where its control
/// group's limit (a container's, a Slurm job's: `groupLimit`) or `ulimit -v` caps it; and that
/// in words ("this machine's 24 GB").
public func usableMemory(available: UInt64 = ProcessInfo.processInfo.physicalMemory,
                         groupLimit: Double? = ControlGroups.memoryLimit()) -> (bytes: UInt64, words: String) {
    var usable = (available, "this machine's ")
    if let group = groupLimit, group < Double(usable.0) { usable = (UInt64(group), "this process's control group (a container's or job's memory limit) allows ") }
    var limit = rlimit()
    if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max, UInt64(limit.rlim_cur) < usable.0 {
        usable = (UInt64(limit.rlim_cur), "this process may take (ulimit -v) ")
    }
    return (usable.0, usable.1 + byteCount(Double(usable.0)))
}

/// "512 MB", "23.4 GB", "26.8 TB" (powers of 1000).
public func byteCount(_ bytes: Double) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
    var value = bytes, unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(Int(value)) bytes" : String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
}

/// Throws `MemoryShortage` unless about `weights` float weights fit in memory, naming the network
/// (`what`): a bound any use needs (training needs about four times as much, with gradients and
/// optimizer state), checked before a weight is made.
public func requireWeightMemory(_ weights: Double, of what: String, _ advice: String = "choose a smaller width or depth") throws {
    try requireMemory(weights * 4, for: "\(what) (about \(Int(min(weights / 1e6, 9e15))) million weights)", advice)
}

/// `requireWeightMemory` for a network of `weights` besides its first convolution, a 3×3 one from
/// `inputChannels` to `width` channels: a cube of millions of bands is refused before it is built.
public func requireNetworkMemory(_ weights: Double, inputChannels: Int, width: Int, of what: String) throws {
    let first = 9 * Double(inputChannels) * Double(width)
    guard first > weights else { return try requireWeightMemory(weights + first, of: what) }
    try requireWeightMemory(weights + first, of: "\(what) on \(inputChannels) input channels",
                            "fewer input channels (a preprocessing step such as crop, resample or pca), or a smaller width")
}
