import Foundation
import Testing

/// `compseg --version`: the version, the CPU kernels and how 3×3 convolutions run, and whether CUDA loads.
@Suite struct VersionTests {
    @Test func namesTheKernelsItRunsOn() throws {
        let r = try CLI().run(["--version"])
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("compseg ") == true, "\(r.output)")
        #expect(lines.contains { $0.hasPrefix("cpu: oneDNN ") && $0.contains(" kernels; 3×3 convolutions: ")
            && ($0.contains("Winograd") || $0.contains("direct")) }, "\(r.output)")
        #expect(lines.contains { $0.hasPrefix("cuda: ") }, "\(r.output)")
    }

    /// Output that cannot all be written (`> /dev/full`) fails the command, saying so: a script
    /// must not take a part for the whole. A reader that went away (`| head`) is no failure.
    @Test func outputThatCannotBeWrittenFailsTheCommand() throws {
        let cli = try CLI(), folder = try TemporaryFolder()
        defer { folder.remove() }
        func run(_ arguments: [String], into output: Any) throws -> (status: Int32, errors: String) {
            let process = Process(), errors = Pipe()
            (process.executableURL, process.arguments) = (cli.binary, arguments)
            (process.standardOutput, process.standardError) = (output, errors)
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let phantom = ["phantom", "--spots", "4", "--size", "16", "--bands", "20", "--out", folder.path("p")]
        for arguments in [["--version"], phantom] {
            let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
            let r = try run(arguments, into: full)
            #expect(r.status == 1 && r.errors.contains("the standard output could not be written"), "\(arguments): \(r)")
            let gone = Pipe()
            try gone.fileHandleForReading.close()
            let p = try run(arguments == phantom ? phantom.dropLast() + [folder.path("q")] : arguments, into: gone)
            #expect(p.status == 0 && p.errors.isEmpty, "\(arguments): \(p)")
        }
    }

    /// A closed standard output (`>&-`) is refused before any work; a closed input or error output
    /// is /dev/null, so that no file opened later takes their numbers and receives the output.
    @Test func closedStandardStreams() throws {
        let cli = try CLI(), folder = try TemporaryFolder()
        defer { folder.remove() }
        func shell(_ line: String) throws -> CLI.Result { try cli.run(["-c", line], through: "/bin/sh") }
        let phantom = "'\(cli.binary.path)' phantom --spots 4 --size 16 --bands 20 --out '\(folder.path("p"))'"
        let closed = try shell(phantom + " >&-")
        #expect(closed.status == 1 && closed.output.contains("Error: the standard output is closed (>&-)"), "\(closed.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("p")))
        let quiet = try shell(phantom + " <&- 2>&- > '\(folder.path("log"))'")
        #expect(quiet.status == 0, "\(quiet.output)")
        let log = try String(contentsOfFile: folder.path("log"), encoding: .utf8)
        #expect(log.contains("manifest.csv"), "\(log)")
        #expect(try String(contentsOfFile: folder.path("p/manifest.csv"), encoding: .utf8).hasPrefix("path,label,split"))
    }

    /// Limits a shell or a scheduler sets: a working directory removed under the command, a
    /// file-size limit, a low soft limit of open files.
    @Test func limitsOfTheProcess() throws {
        let cli = try CLI(), folder = try TemporaryFolder()
        defer { folder.remove() }
        func shell(_ line: String) throws -> CLI.Result { try cli.run(["-c", line], in: folder.url.path, through: "/bin/sh") }
        // Relative paths would be taken from the root: refused, and nothing written there.
        let name = "compseg-gone-\(UUID().uuidString)"
        let gone = try shell("mkdir gone && cd gone && rmdir ../gone && exec '\(cli.binary.path)' phantom --spots 2 --size 16 --bands 8 --out \(name)")
        #expect(gone.status == 1 && gone.output.contains("Error: the working directory cannot be read (No such file or directory)"), "\(gone.output)")
        #expect(!FileManager.default.fileExists(atPath: "/\(name)"))
        let phantom = "'\(cli.binary.path)' phantom --spots 4 --size 16 --bands 20 --out '\(folder.path("p"))'"
        // A write past `ulimit -f` fails by its file's name, not by a signal.
        let small = try shell("ulimit -f 8; exec " + phantom)
        #expect(small.status == 1 && small.output.contains("File too large"), "\(small.output)")
        // A soft limit of 4 open files (too few for a phantom) is raised to the hard one.
        let files = try shell("ulimit -S -n 4; exec " + phantom.replacingOccurrences(of: "/p'", with: "/q'"))
        #expect(files.status == 0, "\(files.output)")
    }
}

/// `--device` and `--precision` on the commands that run a network, and `check-backend`.
@Suite struct DeviceOptionTests {
    /// Whether CUDA loads for the binary (its `--version` line says so).
    static let cudaLoads: Bool = {
        (try? CLI().run(["--version"]).output.split(separator: "\n").contains { $0.hasPrefix("cuda: ") && !$0.hasPrefix("cuda: not available") }) ?? false
    }()

    @Test(.enabled(if: !cudaLoads, "CUDA loads here: the GPU's own check runs instead (check-backend --device cuda)"))
    func cudaWithoutAGPUIsRefusedWithTheReason() throws {
        let cli = try CLI()
        for command in [["bench", "--steps", "1", "--size", "16", "--channels", "2", "--width", "4", "--depth", "1"],
                        ["demo", "--out", "/nonexistent/never-written"], ["check-backend"]] {
            let r = try cli.run(command + ["--device", "cuda"])
            // "No GPU here" apart from bad data, or check-backend's "the GPU disagrees" (1): 69, EX_UNAVAILABLE.
            #expect(r.status == 69, "\(command): \(r.output)")
            #expect(r.output.contains("Error: --device cuda: no GPU can be used: "), "\(command): \(r.output)")
            #expect(r.output.contains("run with --device cpu or auto"), "\(command): \(r.output)")
        }
        // A settings file's device is named with the file, since the message speaks of the option.
        let settings = FileManager.default.temporaryDirectory.appendingPathComponent("device-\(getpid()).yaml")
        defer { try? FileManager.default.removeItem(at: settings) }
        try "modality: infrared\ndata: m.csv\nout: /nonexistent/never-written\ndevice: cuda\n".write(to: settings, atomically: true, encoding: .utf8)
        let fromFile = try cli.run(["train", "--config", settings.path])
        #expect(fromFile.status == 69 && fromFile.output.contains("Error: --device cuda: no GPU can be used: ")
                && fromFile.output.contains("(\(settings.path) gives device: cuda)"), "\(fromFile.output)")
        let bf16 = try cli.run(["bench", "--steps", "1", "--size", "16", "--channels", "2", "--precision", "bf16"])
        #expect(bf16.status == 69 && bf16.output.contains("Error: --precision bf16 needs a GPU"), "\(bf16.output)")
        // --device cpu with a GPU's precision contradicts itself: a usage error, found before any work.
        let contradiction = try cli.run(["train", "--device", "cpu", "--precision", "tf32", "--modality", "infrared", "--data", "m.csv", "--out", "r"])
        #expect(contradiction.status == 64 && contradiction.output.contains("--precision tf32 needs a GPU, and --device cpu computes in fp32"),
                "\(contradiction.output)")
        let wrong = try cli.run(["bench", "--device", "tpu"])
        #expect(wrong.status != 0 && wrong.output.contains("auto") && wrong.output.contains("cuda"), "\(wrong.output)")
    }

    @Test func autoRunsOnTheCPUWhereNoGPULoadsAndBenchSaysWhere() throws {
        let r = try CLI().run(["bench", "--steps", "1", "--size", "16", "--channels", "2", "--width", "4", "--depth", "1", "--batch", "2"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains(Self.cudaLoads ? "\"device\": \"cuda (" : "\"device\": \"cpu (oneDNN "), "\(r.output)")
        #expect(r.output.contains("\"precision\": \"fp32\""), "\(r.output)")
    }

    @Test func theSettingsFileNamesItsDeviceKeysValues() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let config = folder.path("settings.yaml")
        try "modality: infrared\ndata: \(folder.path("m.csv"))\nout: \(folder.path("run"))\ndevice: tpu\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI().run(["train", "--config", config])
        #expect(r.status == 1 && r.output.contains("\(config): key 'device': 'tpu' is not one of auto, cpu, cuda"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("run")))
    }

    @Test func theSettingsFilesRelativePathsAreTakenFromItsFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.path("settings"), withIntermediateDirectories: true)
        try "modality: lab.yaml\ndata: m.csv\nout: run\n".write(toFile: folder.path("settings/train.yaml"), atomically: true, encoding: .utf8)
        let r = try CLI().run(["train", "--config", folder.path("settings/train.yaml")])
        // Looked for beside the settings file, not in the working directory: the manifest, then the modality file.
        #expect(r.status != 0 && r.output.contains(folder.path("settings/m.csv")), "\(r.output)")
        try "path,label,split\nx.h5,1,train\ny.h5,0,train\n".write(toFile: folder.path("settings/m.csv"), atomically: true, encoding: .utf8)
        for f in ["x.h5", "y.h5"] { _ = FileManager.default.createFile(atPath: folder.path("settings/" + f), contents: Data()) }
        let modality = try CLI().run(["train", "--config", folder.path("settings/train.yaml")])
        #expect(modality.status != 0 && modality.output.contains(folder.path("settings/lab.yaml")), "\(modality.output)")
    }

    @Test func checkBackendOnTheCPUComparesItWithItself() throws {
        let r = try CLI().run(["check-backend", "--device", "cpu"])
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n")
        #expect(lines.first?.hasSuffix("(the CPU against itself: every difference must be 0)") == true, "\(r.output)")
        #expect(!r.output.contains("FAIL"))
        #expect(lines.contains { $0.hasPrefix("ok   U-Net step") && $0.contains("∂loss/∂") }, "\(r.output)")
        #expect(lines.last.map { $0.hasSuffix("within 0.0001") && $0.hasPrefix("\(lines.count - 2) of \(lines.count - 2)") } == true,
                "\(r.output)")
    }
}
