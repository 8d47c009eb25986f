import Foundation
import Testing

/// Threads and cores: the default thread count is the cores the process may use, and training
/// says when its threads wait for cores that other work holds.
@Suite struct ThreadsTests {
    @Test func coresTheProcessMayUse() throws {
        let cli = try CLI(), folder = try TemporaryFolder()
        defer { folder.remove() }
        let taskset = "/usr/bin/taskset"  // util-linux, an essential package of Debian
        try #require(FileManager.default.isExecutableFile(atPath: taskset), "\(taskset) is missing")
        func pinned(_ arguments: [String]) throws -> CLI.Result { try cli.run(["-c", "0", cli.binary.path] + arguments, through: taskset) }
        let bench = try pinned(["bench", "--size", "16", "--channels", "4", "--width", "4", "--depth", "2", "--batch", "1", "--steps", "1"])
        #expect(bench.status == 0 && bench.output.contains("\"threads\": 1,"), "\(bench.output)")

        // Two threads on one core wait for it about a fifth of the time (idle cores: under 1%), and training says so once.
        let r = try cli.run(["phantom", "--spots", "8", "--size", "32", "--bands", "40", "--out", folder.path("data")])
        #expect(r.status == 0, "\(r.output)")
        let trained = try pinned(["train", "--modality", "infrared", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"),
                                  "--epochs", "40", "--width", "8", "--depth", "2", "--threads", "2"])
        #expect(trained.status == 0, "\(trained.output)")
        // Where the kernel keeps no scheduling statistics (no /proc/self/schedstat), nothing is said.
        let measured = FileManager.default.isReadableFile(atPath: "/proc/self/schedstat")
        let warnings = trained.output.components(separatedBy: "warning: the cores are shared with other work: compseg's 2 threads waited for one ")
        #expect(warnings.count == (measured ? 2 : 1) && trained.output.contains("OMP_WAIT_POLICY=passive") == measured, "\(trained.output)")
    }
}
