import CompSegIO
import CompSegNN
import CompSegTestSupport
import Foundation
import Testing

/// `compseg … --device cuda` end to end on the emulated GPU (`CUDAEmulation`: NVIDIA's libraries
/// replaced by a CPU stand-in, found through `COMPSEG_CUDA_LIBRARY_PATH`): the commands the GPU
/// machine runs (`tools/gpu-check.sh`), rehearsed wherever a C++ compiler is on PATH. They check
/// compseg's side (finding the libraries, the backend through the CLI, the training loop and its
/// checkpoints on the device), not NVIDIA's kernels or speed.
@Suite(.serialized) final class EmulatedGPUTests {
    static let emulated = ConditionTrait.enabled(if: CUDAEmulation.compiler != nil,
                                                 "no C++ compiler (clang++, c++, g++) on PATH to build the CUDA emulator")

    /// The test's own cache of cuDNN's algorithms (not the user's), removed after it.
    private let cache = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-cudnn-\(UUID().uuidString).json")
    deinit { try? FileManager.default.removeItem(at: cache) }

    /// The emulated GPU, with cuDNN's algorithms kept in the test's own cache.
    private func gpu() throws -> [String: String] {
        ["COMPSEG_CUDA_LIBRARY_PATH": try CUDAEmulation.folder.get().path, "COMPSEG_CUDNN_CACHE": cache.path]
    }

    @Test(Self.emulated)
    func versionFindsTheGPUAndEveryOpAgreesAtEachPrecision() throws {
        let cli = try CLI(), environment = try gpu()
        let version = try cli.run(["--version"], environment: environment)
        #expect(version.output.contains("cuda: emulated GPU, 1 GiB, compute capability 9.0; driver 13.0"), "\(version.output)")
        #expect(version.output.contains("\ncuDNN algorithms: fastest by cuDNN's timing, kept in \(cache.path)\n"),
                "\(version.output)")
        for precision in ["fp32", "tf32", "bf16"] {
            let check = try cli.run(["check-backend", "--precision", precision], environment: environment)
            let summary = check.output.split(separator: "\n").last.map(String.init) ?? ""
            let counts = summary.firstMatch(of: /^(\d+) of (\d+) within/)
            #expect(check.status == 0 && check.output.hasPrefix("checking cuda (emulated GPU), \(precision) against")
                        && counts != nil && counts?.1 == counts?.2, "\(check.output)")
        }
    }

    /// cuDNN's algorithms are timed and kept in `COMPSEG_CUDNN_CACHE`'s file by default;
    /// `COMPSEG_CUDNN_ALGORITHMS=heuristic` and `COMPSEG_CUDNN_CACHE=off` say so in the backend's
    /// name; an unknown value is refused naming the variable and the values it takes.
    @Test(Self.emulated)
    func cuDNNsAlgorithmsAreTimedAndKept() throws {
        let cli = try CLI(), environment = try gpu()
        let fastest = try cli.run(["check-backend"], environment: environment)
        #expect(fastest.status == 0 && fastest.output.hasPrefix("checking cuda (emulated GPU), fp32"), "\(fastest.output)")
        let kept = try JSONSerialization.jsonObject(with: Data(contentsOf: cache)) as? [String: Any]
        let machines = kept?["machines"] as? [String: [String: Int]] ?? [:]
        #expect(Array(machines.keys) == ["emulated GPU, compute capability 9.0, cuDNN 9.26, fp32"]
                    && machines.values.first?.isEmpty == false && machines.values.first?.values.allSatisfy { $0 == 1 } == true,
                "\(machines)")
        let written = try Data(contentsOf: cache)
        let heuristic = try cli.run(["check-backend"], environment: environment.merging(["COMPSEG_CUDNN_ALGORITHMS": "heuristic"]) { $1 })
        #expect(heuristic.status == 0 && heuristic.output.hasPrefix("checking cuda (emulated GPU; cuDNN's heuristic algorithms), fp32"),
                "\(heuristic.output)")
        let off = try cli.run(["check-backend"], environment: environment.merging(["COMPSEG_CUDNN_CACHE": "off"]) { $1 })
        #expect(off.status == 0 && off.output.hasPrefix("checking cuda (emulated GPU; cuDNN algorithms timed, not kept), fp32"),
                "\(off.output)")
        #expect(try Data(contentsOf: cache) == written, "heuristic and off leave the cache as it was")
        let wrong = try cli.run(["bench", "--device", "cuda", "--steps", "1", "--size", "16", "--channels", "2"],
                                environment: environment.merging(["COMPSEG_CUDNN_ALGORITHMS": "quick"]) { $1 })
        #expect(wrong.status == 1 && wrong.output.contains("COMPSEG_CUDNN_ALGORITHMS must be fastest or heuristic, got 'quick'"),
                "\(wrong.output)")
    }

    /// `bench --profile` adds the profiled step's GPU figures to the JSON line: busy time within
    /// the span, and the launches by name, longest first; on the CPU it is refused, saying why.
    @Test(Self.emulated, arguments: [false, true])
    func benchProfilesAStepOnTheGPU(inference: Bool) throws {
        let cli = try CLI()
        let bench = ["bench", "--steps", "1", "--size", "16", "--channels", "2", "--width", "4", "--depth", "2", "--profile"]
            + (inference ? ["--inference"] : [])
        let r = try cli.run(bench + ["--device", "cuda"], environment: try gpu())
        let line = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
        let busy = line?["gpu_busy_s"] as? Double, span = line?["gpu_span_s"] as? Double
        let entries = line?["gpu_profile"] as? [[String: Any]] ?? []
        #expect(r.status == 0 && busy != nil && span != nil && busy! > 0 && busy! <= span! + 1e-5, "\(r.output)")
        let ms = entries.compactMap { $0["ms"] as? Double }
        #expect(ms.count == entries.count && ms.count <= 21 && ms.dropLast().elementsEqual(ms.dropLast().sorted(by: >)))
        // Every launch of the step, named: kernels by name, cuDNN's calls with shapes and algorithm.
        let names = entries.compactMap { $0["name"] as? String }, calls = entries.compactMap { $0["calls"] as? Int }
        #expect(names.count == entries.count && names.allSatisfy { $0 == "others" || $0.hasPrefix("compseg_") || $0.hasPrefix("cuDNN ") })
        #expect(names.contains { $0.hasPrefix("cuDNN ") && $0.contains(", algorithm ") }, "\(names)")
        if let launches = line?["gpu_launches_per_step"] as? Double { #expect(Double(calls.reduce(0, +)) == launches) }
        let cpu = try cli.run(bench + ["--device", "cpu"])
        #expect(cpu.status != 0 && cpu.output.contains("--profile times GPU launches, but the backend is cpu"), "\(cpu.output)")
    }

    /// Three epochs of the demo on the CPU and on the GPU: the same loss curves (fp32: 1.8e-6
    /// measured, bound 1e-5, where gpu-check.sh asks 1e-3 of a real GPU). With bf16 convolutions
    /// (operands rounded to 8-bit significands) the training losses of three epochs at lr 0.01 drift
    /// by 1.1e-2 here: bound 5e-2. Not the validation losses: epoch 3 is where this network starts
    /// to separate the classes, and how far it has got there turns on rounding (bf16's validation
    /// loss 0.189, fp32's 0.302, after a change that moved only the bias gradients' last bits).
    @Test(Self.emulated)
    func theDemosLossCurveOnTheGPUIsTheCPUs() throws {
        let cli = try CLI(), environment = try gpu(), folder = try TemporaryFolder()
        defer { folder.remove() }
        let demo = ["demo", "--epochs", "3", "--spots", "30", "--size", "40", "--width", "8", "--depth", "2", "--lr", "0.01"]
        var curves: [String: [[Double]]] = [:]
        for (name, options) in [("cpu", ["--device", "cpu"]), ("cuda", ["--device", "cuda"]),
                                ("bf16", ["--device", "cuda", "--precision", "bf16"])] {
            let r = try cli.run(demo + options + ["--out", folder.path(name)], environment: environment)
            #expect(r.status == 0, "\(r.output)")
            curves[name] = try losses(folder.path("\(name)/run/history.csv"))
            let model = try String(contentsOfFile: folder.path("\(name)/run/model.json"), encoding: .utf8)
            #expect(model.contains(name == "cpu" ? "\"device\" : \"cpu" : "\"device\" : \"cuda (emulated GPU)"))
        }
        let cpu = try #require(curves["cpu"])
        #expect(cpu.count == 3 && cpu[2][0] < cpu[0][0] - 0.01, "the demo should learn in 3 epochs: \(cpu)")
        #expect(largestRelativeDifference(cpu, curves["cuda"]) <= 1e-5)
        #expect(largestRelativeDifference(cpu.map { [$0[0]] }, curves["bf16"]?.map { [$0[0]] }) <= 5e-2)
    }

    /// A run trained on the GPU resumes on the CPU and the reverse (checkpoints hold plain fp32
    /// values and the optimizer's state): both end where three epochs on the CPU end, losses within
    /// 1e-5 and weights within 1e-4 of the network's largest weight (a bias before batch norm has a
    /// true gradient of 0, so its own scale is rounding noise).
    @Test(Self.emulated)
    func checkpointsMoveBetweenDevices() throws {
        let cli = try CLI(), environment = try gpu(), folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 7)
        func train(_ run: String, epochs: Int, device: String) throws {
            let r = try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", folder.path(run),
                                 "--epochs", "\(epochs)", "--width", "4", "--depth", "2", "--device", device], environment: environment)
            #expect(r.status == 0, "\(r.output)")
        }
        func resume(_ run: String, device: String) throws {
            let r = try cli.run(["train", "--resume", folder.path(run), "--epochs", "3", "--device", device], environment: environment)
            #expect(r.status == 0, "\(r.output)")
        }
        try train("cpu", epochs: 3, device: "cpu")
        try train("gpu-then-cpu", epochs: 2, device: "cuda")
        try resume("gpu-then-cpu", device: "cpu")
        try train("cpu-then-gpu", epochs: 2, device: "cpu")
        try resume("cpu-then-gpu", device: "cuda")
        let reference = try losses(folder.path("cpu/history.csv"))
        let weights = try Safetensors(contentsOf: URL(fileURLWithPath: folder.path("cpu/weights.safetensors")))
        for run in ["gpu-then-cpu", "cpu-then-gpu"] {
            #expect(largestRelativeDifference(reference, try losses(folder.path("\(run)/history.csv"))) <= 1e-5, "\(run)")
            let moved = try Safetensors(contentsOf: URL(fileURLWithPath: folder.path("\(run)/weights.safetensors")))
            #expect(Set(moved.tensors.keys) == Set(weights.tensors.keys))
            let keys = weights.tensors.keys.sorted()
            let a = try keys.flatMap { try weights.tensor($0, in: "cpu").scalars }, b = try keys.flatMap { try moved.tensor($0, in: run).scalars }
            #expect(relativeError(b, a).error <= 1e-4, "\(run)")
        }
    }

    /// history.csv's training and validation losses, epoch by epoch.
    private func losses(_ path: String) throws -> [[Double]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return [Double(fields[1]) ?? .nan, Double(fields[2]) ?? .nan]
        }
    }

    private func largestRelativeDifference(_ a: [[Double]], _ b: [[Double]]?) -> Double {
        guard let b, a.count == b.count else { return .infinity }
        return zip(a.joined(), b.joined()).map { x, y in abs(x - y) / max(abs(x), 1e-12) }.max() ?? 0
    }
}
