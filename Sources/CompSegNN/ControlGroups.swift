import Foundation

/// Linux control groups (cgroups), v1 and v2: the limits a container, a batch scheduler (Slurm)
/// or systemd sets on this process's group and the groups above it.
public enum ControlGroups {
    /// The least of `limit`'s values over this process's group of `controller` ("cpu",
    /// "memory") and every group above it, up to the top of the tree it sees (a container sees
    /// its own group there); nil where none has one. `membership` is `/proc/self/cgroup`'s text.
    static func least(of controller: String, root: String = "/sys/fs/cgroup", membership: String? = nil,
                      limit: (_ folder: String) -> Double?) -> Double? {
        guard let lines = (membership ?? read("/proc/self/cgroup"))?.split(separator: "\n") else { return nil }
        var least: Double?
        for line in lines {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { continue }
            // Where the controller is mounted: v2's one tree, or v1's tree of that controller.
            let mounts: [String]
            if fields[1].isEmpty { mounts = [root] }
            else if fields[1].split(separator: ",").contains(Substring(controller)) { mounts = [root + "/" + fields[1], root + "/" + controller] }
            else { continue }
            let path = fields[2].split(separator: "/").map(String.init)
            for mount in mounts where FileManager.default.fileExists(atPath: mount) {
                for depth in stride(from: path.count, through: 0, by: -1) {
                    if let value = limit(([mount] + path.prefix(depth)).joined(separator: "/")) { least = min(least ?? value, value) }
                }
                break
            }
        }
        return least
    }

    /// The bytes of memory this process's group and the groups above it may use, the least of
    /// their limits (v2's `memory.max`, v1's `memory.limit_in_bytes`); nil where none has one.
    public static func memoryLimit(root: String = "/sys/fs/cgroup", membership: String? = nil) -> Double? {
        least(of: "memory", root: root, membership: membership) { folder in
            // "max" (v2), or v1's "no limit", a number near 2⁶³: none.
            guard let text = read(folder + "/memory.max") ?? read(folder + "/memory.limit_in_bytes"),
                  let bytes = Double(text), bytes > 0, bytes < 0x1p60 else { return nil }
            return bytes
        }
    }

    /// A control file's text, trimmed; nil where unreadable.
    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
