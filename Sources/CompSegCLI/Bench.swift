import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegNN
import Foundation

/// `compseg bench`: times the full CompSegNet training step (forward, pooling head, loss,
/// backward, RMSprop) and prints one JSON line, comparable with ../shared/bench/torch_compsegnet.py
/// run with the same arguments; apart from the step, making a batch from separate samples (`batch_s`). With `--inference`, times the network's forward pass alone as
/// `segment` runs it (no graph, inference mode), per image; tools/bench_inference_torch.py times
/// PyTorch's forward pass (`torch.no_grad`) with the same arguments.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the CompSegNet training step, or the inference forward pass, and print one JSON line.")

    @Option(parsing: .unconditional, help: "Input channels.") var channels = 450
    @Option(parsing: .unconditional, help: "Image side in pixels.") var size = 64
    @Option(parsing: .unconditional, help: "Network base width.") var width = 16
    @Option(parsing: .unconditional, help: "Pooling steps.") var depth = 4
    @Option(parsing: .unconditional, help: "Images per step.") var batch = 7
    @Option(help: "Topology identifier (the `plugins` command lists them).") var topology = "unet"
    @Option(parsing: .unconditional, help: "Timed steps (after two warm-up steps).") var steps = 5
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var compute: DeviceOptions
    @Flag(inversion: .prefixedNo, help: "Batch norm in the network (default: the topology's own; the U-Net's is off, the paper's network as torch_compsegnet.py). A topology without the key takes neither.")
    var batchNorm: Bool?
    @Flag(help: "Time the forward pass as segment runs it (no graph, inference mode): seconds per image.") var inference = false
    @Flag(help: "After the timed steps, one more with every GPU launch timed (CUDA events): gpu_busy_s, gpu_span_s and gpu_profile, the longest-running kernels and cuDNN calls. Needs the CUDA backend (--device cuda, or auto where a GPU loads).") var profile = false

    func validate() throws {
        // --width and --depth are the topology's settings, checked by it (status 1, as train's).
        for (name, v) in [("channels", channels), ("size", size), ("batch", batch), ("steps", steps)] where v <= 0 {
            throw ValidationError("--\(name) must be positive, got \(v)")
        }
    }

    func run() throws {
        threading.apply()
        try compute.apply()
        let gpu = Backend.current as? CUDABackend
        if profile && gpu == nil {
            throw CLIError("--profile times GPU launches, but the backend is \(Backend.current.name): use --device cuda")
        }
        // The batch, and as many samples to time its assembly: refused before either is made.
        try requireMemory(2 * Double(batch) * Double(channels) * Double(size) * Double(size) * 4,
                          for: "two batches of \(counted(batch, "image")) of \(size)×\(size) pixels × \(channels) channels", "a smaller --batch, --size or --channels")
        let registry = try CompSegTool.registry()
        var keys: [String: JSONValue] = ["width": JSONValue(width), "depth": JSONValue(depth)]
        keys["batchNorm"] = batchNorm.map { .bool($0) }  // only when given: a topology of a plugin may not have it
        let topologyConfig = PluginConfiguration(json: JSONValue.object(keys).data, source: "bench options")
        let net = try registry.topology(topology, inputChannels: channels, seed: 0, topologyConfig)
        if inference { return try timeInference(net, gpu: profile ? gpu : nil) }
        let head = try registry.head("compsegnet")
        let optimizer = RMSprop(learningRate: 1e-3)
        var g = SeededGenerator(seed: 0)
        let x = Tensor(zeros: [batch, channels, size, size])
        x.withMutablePlainBuffer { v in for i in v.indices { v[i] = g.nextNormal() } }
        let tissue = Tensor(repeating: 1, shape: [batch, 1, size, size])
        let labels = try Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % 2) })

        func step() throws {
            net.zeroGradients()
            let loss = try head.loss(activation: net.activation(x), tissue: tissue, labels: labels)
            try loss.backward()
            optimizer.step(net.parameters)
        }
        for _ in 0..<2 { try step() }
        Counters.reset()
        Counters.enabled = true
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        Backend.current.memory.synchronizeForHost()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps)
        Counters.enabled = false
        let flopsPerStep = Counters.convolutionFLOPs / Double(steps)
        let kernelSeconds = Counters.kernelSeconds / Double(steps)
        let (launches, waits) = (Double(Counters.gpuLaunches) / Double(steps), Double(Counters.hostWaits) / Double(steps))

        let batchSeconds = try timeBatchAssembly()
        let profiled = profile ? try gpu.map { try profileFields($0.profiled(step)) } ?? [] : []

        printJSON(net, [("step_s", String(format: "%.5f", seconds)),
                        ("batch_s", String(format: "%.5f", batchSeconds)),
                        ("kernel_s", String(format: "%.5f", kernelSeconds)),
                        ("images_per_s", String(format: "%.2f", Double(batch) / seconds)),
                        ("gflops", String(format: "%.1f", flopsPerStep / seconds * 1e-9)),
                        ("gflop_per_image", String(format: "%.3f", flopsPerStep / Double(batch) * 1e-9)),
                        ("gpu_launches_per_step", String(format: "%.0f", launches)),
                        ("host_waits_per_step", String(format: "%.0f", waits)),
                        ("cpu_convolutions_per_step", String(format: "%.0f", Double(Counters.convolutionsOnTheCPU) / Double(steps)))]
                  + profiled)
    }

    /// A profile's figures for the JSON line: the GPU's busy time and span, and its longest
    /// entries (`profileEntries` of them, the rest summed as "others").
    private func profileFields(_ p: GPUProfile) -> [(String, String)] {
        let shown = p.entries.prefix(Self.profileEntries), rest = p.entries.dropFirst(Self.profileEntries)
        func entry(_ name: String, _ calls: Int, _ seconds: Double) -> String {
            "{\"name\": \(jsonString(name)), \"calls\": \(calls), \"ms\": \(String(format: "%.4f", seconds * 1e3))}"
        }
        let entries = shown.map { entry($0.name, $0.calls, $0.seconds) }
            + (rest.isEmpty ? [] : [entry("others", rest.reduce(0) { $0 + $1.calls }, rest.reduce(0) { $0 + $1.seconds })])
        return [("gpu_busy_s", String(format: "%.5f", p.busySeconds)), ("gpu_span_s", String(format: "%.5f", p.spanSeconds)),
                ("gpu_profile", "[" + entries.joined(separator: ", ") + "]")]
    }

    /// How many of a profile's entries the JSON line names.
    static let profileEntries = 20

    /// Seconds to make a batch from `batch` separate samples, each seen through one of the
    /// square's symmetries, as `train` does before each step (with `--augment dihedral`):
    /// the mean of three, after one that brings the samples where the backend keeps them. Not in `step_s`.
    private func timeBatchAssembly() throws -> Double {
        let samples = (0..<batch).map { k in
            let t = Tensor(uninitialized: [channels, size, size])
            t.withMutablePlainBuffer { v in for i in v.indices { v[i] = Float((i + k) % 251) } }
            return t
        }
        let views = (0..<batch).map { PlaneView(code: $0 % 8) }
        var seconds = 0.0
        for round in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            let stacked = try stack(samples, views: views)
            Backend.current.memory.synchronizeForHost()
            withExtendedLifetime(stacked) {}
            if round > 0 { seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / 3 }
        }
        return seconds
    }

    /// Times `steps` forward passes of a batch in inference mode after one warm-up pass.
    private func timeInference(_ net: any SegmentingNetwork, gpu: CUDABackend?) throws {
        net.setTraining(false)
        var g = SeededGenerator(seed: 0)
        let x = Tensor(zeros: [batch, channels, size, size])
        x.withMutablePlainBuffer { v in for i in v.indices { v[i] = g.nextNormal() } }
        _ = try withoutGradients { try net.activation(x).scalars }
        Counters.reset()
        Counters.enabled = true
        var times: [Double] = []
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try withoutGradients { try net.activation(x).scalars }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        Counters.enabled = false
        let mean = times.reduce(0, +) / Double(steps), flops = Counters.convolutionFLOPs / Double(steps)
        let profiled = try gpu.map { gpu in try profileFields(gpu.profiled { _ = try withoutGradients { try net.activation(x) } }) } ?? []
        printJSON(net, [("mode", "\"inference\""),
                        ("image_s", String(format: "%.5f", mean / Double(batch))),
                        ("best_image_s", String(format: "%.5f", times.min()! / Double(batch))),
                        ("images_per_s", String(format: "%.2f", Double(batch) / mean)),
                        ("gflops", String(format: "%.1f", flops / mean * 1e-9)),
                        ("gflop_per_image", String(format: "%.3f", flops / Double(batch) * 1e-9))] + profiled)
    }

    /// One JSON line: the configuration, `figures`, and the process's peak memory.
    private func printJSON(_ net: any SegmentingNetwork, _ figures: [(String, String)]) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let fields: [(String, String)] = [
            ("topology", "\"\(topology)\""), ("channels", "\(channels)"), ("size", "\(size)"), ("width", "\(width)"),
            ("depth", "\(depth)"), ("batch", "\(batch)"), ("threads", "\(Threads.count)"),
            ("params", "\(net.parameterCount)"), ("device", jsonString(Backend.current.name)),
            ("precision", "\"\((compute.precision ?? .fp32).rawValue)\""),
        ] + figures + [("peak_mib", "\(usage.ru_maxrss / 1024)")]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}

/// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
private func jsonString(_ text: String) -> String {
    (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
}
