import Foundation
@testable import CompSegNN
import Testing

/// The default thread count: the cores the process may use, a cgroup's CPU quota included.
@Suite struct CoreCountTests {
    /// A cgroup tree in a temporary folder: `files` by path under it.
    func tree(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root.path
    }

    @Test func quotaOfCgroupV2AndV1() throws {
        // v2: the group's cpu.max, "quota period" or "max period".
        let v2 = try tree(["job/cpu.max": "150000 100000\n"])
        #expect(Threads.cgroupCPUQuota(root: v2, membership: "0::/job\n") == 1.5)
        let unlimited = try tree(["job/cpu.max": "max 100000\n"])
        #expect(Threads.cgroupCPUQuota(root: unlimited, membership: "0::/job\n") == nil)
        // A container sees its own group at the mount's top, though its membership names the host's path.
        let container = try tree(["cpu.max": "200000 100000\n"])
        #expect(Threads.cgroupCPUQuota(root: container, membership: "0::/system.slice/docker-1.scope\n") == 2)
        // v1: the cpu controller's cfs files (-1: no quota); other controllers' lines are passed over.
        let v1 = try tree(["cpu,cpuacct/batch/cpu.cfs_quota_us": "300000\n", "cpu,cpuacct/batch/cpu.cfs_period_us": "100000\n"])
        #expect(Threads.cgroupCPUQuota(root: v1, membership: "4:memory:/batch\n3:cpu,cpuacct:/batch\n") == 3)
        let none = try tree(["cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"])
        #expect(Threads.cgroupCPUQuota(root: none, membership: "1:cpu:/\n0::/\n") == nil)
        // A quota set on a group above the process's (a slice, a pod): the least of them counts.
        let nested = try tree(["slice/cpu.max": "100000 100000\n", "slice/job/cpu.max": "max 100000\n",
                               "other/cpu.max": "50000 100000\n"])
        #expect(Threads.cgroupCPUQuota(root: nested, membership: "0::/slice/job\n") == 1)
        for root in [v2, unlimited, container, v1, none, nested] { try? FileManager.default.removeItem(atPath: root) }
        #expect(Threads.cgroupCPUQuota(root: "/nonexistent", membership: "0::/\n") == nil)
        #expect(Threads.availableCores >= 1 && Threads.availableCores <= ProcessInfo.processInfo.activeProcessorCount)
    }

    /// A container's or job's memory limit: v2's memory.max ("max": none), v1's
    /// memory.limit_in_bytes (a number near 2⁶³: none), the least of the group and those above it.
    @Test func memoryLimitOfCgroupV2AndV1() throws {
        let v2 = try tree(["slurm/job/memory.max": "max\n", "slurm/memory.max": "4294967296\n"])
        #expect(ControlGroups.memoryLimit(root: v2, membership: "0::/slurm/job\n") == 4_294_967_296)
        let v1 = try tree(["memory/batch/memory.limit_in_bytes": "1600000000\n", "memory/memory.limit_in_bytes": "9223372036854771712\n"])
        #expect(ControlGroups.memoryLimit(root: v1, membership: "4:memory:/batch\n1:cpu:/\n0::/\n") == 1.6e9)
        let none = try tree(["memory/memory.limit_in_bytes": "9223372036854771712\n", "memory.max": "max\n"])
        #expect(ControlGroups.memoryLimit(root: none, membership: "4:memory:/\n0::/\n") == nil)
        for root in [v2, v1, none] { try? FileManager.default.removeItem(atPath: root) }
    }
}
