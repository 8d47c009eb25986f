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
        func pinned(_ arguments: [String]) throws -> CLI.Result {
            let process = Process(), pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: taskset)
            process.arguments = ["-c", "0", cli.binary.path] + arguments
            (process.standardOutput, process.standardError) = (pipe, pipe)
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CLI.Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        }
        let bench = try pinned(["bench", "--size", "16", "--channels", "4", "--width", "4", "--depth", "2", "--batch", "1", "--steps", "1"])
        #expect(bench.status == 0 && bench.output.contains("\"threads\": 1,"), "\(bench.output)")

        // Two threads on one core wait for it about a fifth of the time (idle cores: under 1%), and training says so once.
        let r = try cli.run(["phantom", "--spots", "8", "--size", "32", "--bands", "40", "--out", folder.path("data")])
        #expect(r.status == 0, "\(r.output)")
        let trained = try pinned(["train", "--modality", "infrared", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"),
                                  "--epochs", "40", "--width", "8", "--depth", "2", "--threads", "2"])
        #expect(trained.status == 0, "\(trained.output)")
        let warnings = trained.output.components(separatedBy: "warning: the cores are shared with other work: compseg's 2 threads waited for one ")
        #expect(warnings.count == 2 && trained.output.contains("OMP_WAIT_POLICY=passive"), "\(trained.output)")
    }
}
