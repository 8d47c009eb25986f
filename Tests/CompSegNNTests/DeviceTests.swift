import CompSegTestSupport
import Foundation
import Testing
@_spi(Emulation) @testable import CompSegNN

/// Choosing the device (`--device`, `--precision`) and checking a backend against the CPU's
/// (`BackendAgreement`). The CUDA backend's own check runs only where a GPU loads.
@Suite(.serialized) struct DeviceTests {
    /// The emulator's tests run where a C++ compiler is on PATH.
    static let emulated = Testing.ConditionTrait.enabled(if: CUDAEmulation.compiler != nil,
                                                         "no C++ compiler (clang++, c++, g++) on PATH to build the CUDA emulator")

    static let noCUDA: Result<CUDAEnvironment, CUDAUnavailable> = .failure(CUDAUnavailable("libcuda.so.1 not found"))
    static let fakeGPU: Result<CUDAEnvironment, CUDAUnavailable> = .success(CUDAEnvironment(
        deviceName: "Test GPU", memoryBytes: 1 << 30, computeCapability: (9, 0), versions: [:], libraries: [:]))
    static func failingBackend(_: CUDAEnvironment, _: Precision) throws -> any KernelBackend {
        throw DeviceUnavailable("its backend failed to start")
    }

    @Test func theCPUIsChosenWhereNoGPULoads() throws {
        let cpu = try DeviceChoice.resolve(.cpu, cuda: Self.noCUDA)
        #expect(cpu.backend === CPUBackend.shared && cpu.device == .cpu && cpu.precision == .fp32 && cpu.cpuReason == nil)
        let auto = try DeviceChoice.resolve(.auto, precision: .fp32, cuda: Self.noCUDA)
        #expect(auto.backend === CPUBackend.shared && auto.cpuReason == nil)
        #expect(auto.summary == "\(CPUBackend.shared.name), fp32")
    }

    @Test func cudaWithoutAGPUSaysWhy() {
        #expect { try DeviceChoice.resolve(.cuda, cuda: Self.noCUDA) } throws: { error in
            "\(error)" == "--device cuda: no GPU can be used: libcuda.so.1 not found; run with --device cpu or auto"
        }
        for precision in [Precision.tf32, .bf16] {
            for device in [ComputeDevice.auto, .cpu] {
                #expect { try DeviceChoice.resolve(device, precision: precision, cuda: Self.noCUDA) } throws: { error in
                    "\(error)".hasPrefix("--precision \(precision.rawValue) needs a GPU, and the CPU computes in fp32")
                        && "\(error)".hasSuffix("leave --precision out to run on the CPU")
                        && "\(error)".contains("libcuda.so.1 not found") == (device == .auto)
                }
            }
        }
    }

    @Test func aGPUWhoseBackendFailsIsLeftByAutoAndNamedByCUDA() throws {
        let auto = try DeviceChoice.resolve(.auto, cuda: Self.fakeGPU, makeCUDA: Self.failingBackend)
        #expect(auto.backend === CPUBackend.shared)
        #expect(auto.summary.hasSuffix("(GPU not used: Test GPU: its backend failed to start)"))
        #expect { try DeviceChoice.resolve(.cuda, cuda: Self.fakeGPU, makeCUDA: Self.failingBackend) } throws: { error in
            "\(error)" == "--device cuda: Test GPU found, but its backend failed to start"
        }
        let cuda = try DeviceChoice.resolve(.cuda, precision: .bf16, cuda: Self.fakeGPU) { _, _ in CPUBackend.shared }
        #expect(cuda.device == .cuda && cuda.precision == .bf16)
        let gpu = try DeviceChoice.resolve(.auto, precision: .tf32, cuda: Self.fakeGPU) { _, _ in CPUBackend.shared }
        #expect(gpu.device == .cuda && gpu.precision == .tf32 && gpu.cpuReason == nil)
        // A precision only a GPU has is not left for the CPU: the GPU's failure is the answer.
        #expect { try DeviceChoice.resolve(.auto, precision: .tf32, cuda: Self.fakeGPU, makeCUDA: Self.failingBackend) } throws: { error in
            "\(error)" == "--precision tf32: Test GPU found, but its backend failed to start"
        }
    }

    @Test func theCPUAgreesWithItselfExactlyOnEveryOp() throws {
        let rows = try BackendAgreement.compare(CPUBackend.shared, with: CPUBackend.shared)
        let failed = rows.filter { $0.difference != 0 }
        #expect(failed.isEmpty, "\(failed)")
        let ops = Set(rows.map(\.op))
        for op in ["conv 3×3, 16→24 on 20×20", "transposed conv 2×2/2, 16→8 on 8×8", "max pooling 2×2", "average pooling 2×2",
                   "relu", "softplus", "log", "clip", "binary add, multiply", "concat channels, slice", "batch norm", "batch norm running statistics",
                   "masked mean", "optimizers, 3 steps"] {
            #expect(ops.contains(op), "\(op) not checked")
        }
    }

    /// A backend that is the CPU's but for a wrong sigmoid derivative: the check names that row alone.
    @Test func aWrongGradientIsFound() throws {
        let rows = try BackendAgreement.compare(WrongSigmoidGradient(), with: CPUBackend.shared)
        let failed = rows.filter { !($0.difference <= BackendAgreement.tolerance) }
        #expect(failed.map { "\($0.op) \($0.output)" } == ["sigmoid dx"])
        #expect(failed.first.map { $0.difference > 1e-3 } == true)
    }

    @Test func relativeDifferenceIsToTheReferencesScale() {
        #expect(BackendAgreement.relativeDifference([2, -4], [2, -3.5]) == 0.125)
        #expect(BackendAgreement.relativeDifference([0, 0], [0, 0]) == 0)
        #expect(BackendAgreement.relativeDifference([1, .nan], [1, .nan]) == 0)
        #expect(BackendAgreement.relativeDifference([1, 2], [1, .nan]) == .infinity)
        #expect(BackendAgreement.relativeDifference([1, 2], [1]) == .infinity)
        // Measured against a larger scale where a's own is noise (a zero gradient's rounding).
        #expect(BackendAgreement.relativeDifference([0.25, -0.5], [0.75, 0]) == 1)
        #expect(BackendAgreement.relativeDifference([0.25, -0.5], [0.75, 0], scale: 4) == 0.125)
    }

    /// The CUDA backend on the emulated GPU (`CUDAEmulation`), with cuDNN and without: its own code
    /// and its kernels beside the CPU backend, op by op; the ops it runs as kernels ran as kernels.
    @Test(Self.emulated, arguments: [true, false])
    func theCUDABackendOnAnEmulatedGPUAgreesWithTheCPU(cudnn: Bool) throws {
        let environment = try (cudnn ? CUDAEmulation.environment : CUDAEmulation.environmentWithoutCuDNN).get()
        let cache = Self.cacheFile()
        defer { try? FileManager.default.removeItem(at: cache.deletingLastPathComponent()) }
        let backend = try CUDABackend(environment, algorithms: .fastest, cache: cache)
        #expect(backend.name == (cudnn ? "cuda (emulated GPU)" : "cuda (emulated GPU; convolutions on the CPU: cuDNN did not load)"))
        let shape: Shape = [2, 16, 20, 20], weight: Shape = [24, 16, 3, 3], g = ConvolutionGeometry(padding: 1)
        let layout = try backend.convolutionInputLayout(shape, weightShape: weight, withBias: true, geometry: g, epilogue: .training)
        #expect((layout == nil) == cudnn, "plain tensors with cuDNN, the CPU backend's layout without")
        let before = CUDAEmulation.launches
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        let failed = rows.filter { !($0.difference <= BackendAgreement.tolerance) }
        #expect(failed.isEmpty, "\(failed)")
        #expect(CUDAEmulation.launches - before >= 2 * 9 + 2, "element-wise and binary ops did not run as kernels")
        #expect(CUDAEmulation.forbiddenRuns == 0, "cuDNN was asked for an FFT-based or non-deterministic algorithm")
        // An empty mask is refused on the GPU as on the CPU, naming the image.
        try Backend.using(backend) {
            let a = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
            let mask = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 0, 1, 0, 0, 0, 0, 0])
            #expect(throws: ShapeError("maskedMean", "mask of image 1 is empty: no pixel to average over")) { try maskedMean(a, mask: mask) }
            // A batch is stacked where its samples lie: a kernel per sample.
            let before = CUDAEmulation.launches
            #expect(try stack([a, mask], views: [.identity, PlaneView(code: 5)]).scalars == [1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 0, 0, 0, 0, 0, 0])
            #expect(CUDAEmulation.launches - before == 2)
            // The trainer's range of activations on tissue: one kernel, two numbers per image back.
            let range = try maskedRange(a, mask: mask)
            #expect(range.lowest == 1 && range.highest == 3 && CUDAEmulation.launches - before == 3)
        }
    }

    /// The emulated GPU runs launched work when the host waits for it, as a GPU may run it any time
    /// after the launch: what the host reads without waiting is not yet written, so a missing wait
    /// in the backend shows in the tests that compare it with the CPU.
    @Test(Self.emulated)
    func launchedWorkRunsWhenTheHostWaits() throws {
        let backend = try CUDABackend(CUDAEmulation.environment.get())
        try Backend.using(backend) {
            let running = try Tensor(shape: [4], scalars: [0, 0, 0, 0]), batch = try Tensor(shape: [4], scalars: [1, 2, 3, 4])
            #expect(try backend.blend(running, toward: batch, momentum: 1, factor: 1))
            #expect(Array(UnsafeBufferPointer(start: running.storage.pointer, count: 4)) == [0, 0, 0, 0])
            #expect(running.scalars == [1, 2, 3, 4])
        }
    }

    /// `profiled` times each launch on the GPU (two events around it) and sums the times by name:
    /// a convolution's cuDNN call with its shapes and algorithm, and each kernel by its name.
    /// Nothing is timed after it, and what the work throws comes through.
    @Test(Self.emulated)
    func aProfileTimesEveryLaunchByName() throws {
        let backend = try CUDABackend(CUDAEmulation.environment.get())
        try Backend.using(backend) {
            let x = randomTensor([2, 3, 8, 8], seed: 1), w = randomTensor([4, 3, 3, 3], seed: 2), b = randomTensor([4], seed: 3)
            let profile = try backend.profiled {
                let y = try conv2d(x, weight: w, bias: b, padding: 1, then: .relu)
                _ = try sigmoid(sigmoid(y))
            }
            let calls = Dictionary(uniqueKeysWithValues: profile.entries.map { ($0.name, $0.calls) })
            #expect(calls["compseg_eltwise"] == 2 && calls["compseg_bias_activation"] == 1, "\(calls)")
            let convolutions = profile.entries.filter { $0.name.hasPrefix("cuDNN forward 2×3×8×8 * 4×3×3×3, algorithm ") }
            #expect(!convolutions.isEmpty, "\(calls)")
            #expect(profile.entries.allSatisfy { $0.seconds >= 0 } && profile.spanSeconds > 0)
            #expect(profile.busySeconds <= profile.spanSeconds * 1.001, "launches one after another on one stream")
            #expect(profile.entries.map(\.seconds) == profile.entries.map(\.seconds).sorted(by: >))
            #expect(backend.device.timer == nil)
            struct Stop: Error, Equatable {}
            #expect(throws: Stop()) { try backend.profiled { _ = try sigmoid(x); throw Stop() } }
            #expect(backend.device.timer == nil)
        }
    }

    /// When the GPU refuses an allocation, the buffers kept for reuse are freed and it is asked again.
    @Test(Self.emulated)
    func anAllocationTheGPURefusesFreesTheKeptBuffersFirst() throws {
        let memory = try CUDABackend(CUDAEmulation.environment.get()).memory
        memory.give(memory.take(1000), 1000)  // kept for reuse
        let frees = CUDAEmulation.frees
        CUDAEmulation.refuseAllocations(1)
        let p = memory.take(2000)
        #expect(CUDAEmulation.frees == frees + 1)
        memory.give(p, 2000)
    }

    /// Every kernel's parameters are read from its signature, so that a launch whose arguments
    /// differ in number or width is refused (`cuLaunchKernel` would pass the kernel wrong bytes).
    @Test func everyKernelsParametersAreKnown() {
        #expect(CUDAKernels.parameters.count == CUDAKernels.source.components(separatedBy: "__global__").count - 1)
        for (name, kinds) in CUDAKernels.parameters { #expect(!kinds.isEmpty && !kinds.contains(nil), "\(name): \(kinds)") }
        #expect(CUDAKernels.parameters["compseg_blend"] == [.pointer, .pointer, .int64, .float, .float])
        #expect(CUDAKernels.parameters["compseg_to_bf16_channels_last"] == [.pointer, .pointer, .int64, .int32, .int32])
    }

    @Test(Self.emulated)
    func aLaunchWithTheWrongArgumentsIsRefused() throws {
        let device = try CUDABackend(CUDAEmulation.environment.get()).device
        let before = CUDAEmulation.launches
        #expect(throws: CUDAUnavailable("compseg_blend takes (pointer, pointer, long long, float, float) but was launched "
                                        + "with (pointer, pointer, int, float, float)")) {
            try device.launch("compseg_blend", [.pointer(nil), .pointer(nil), .int32(0), .float(0), .float(0)])
        }
        #expect(throws: CUDAUnavailable("no kernel compseg_nothing in CUDAKernels")) {
            try device.launch("compseg_nothing", [])
        }
        #expect(CUDAEmulation.launches == before)
    }

    /// What a checkpoint carries (values and the optimizer's state, plain) moves between devices:
    /// two Adam steps on one, the third on the other, equal the three on the CPU.
    @Test(Self.emulated, arguments: [true, false])
    func optimizerStateMovesBetweenDevices(fromGPU: Bool) throws {
        let gpu = try CUDABackend(CUDAEmulation.environment.get()), cpu = CPUBackend.shared
        var g = SeededGenerator(seed: 3)
        let start = (0..<60).map { _ in g.nextNormal() }, gradients = (0..<3).map { _ in (0..<60).map { _ in g.nextNormal() } }
        func steps(_ range: Range<Int>, on backend: any KernelBackend, values: [Float], state: ([String: Tensor], [String: Int])?)
            throws -> (values: [Float], state: ([String: Tensor], [String: Int])) {
            try Backend.using(backend) {
                let p = try Tensor(shape: [3, 4, 5], scalars: values, requiresGrad: true)
                let adam = Adam(learningRate: 1e-2)
                if let state { try adam.importState([("p", p)], tensors: state.0, updates: state.1) }
                for k in range {
                    p.grad = try Tensor(shape: p.shape, scalars: gradients[k])
                    adam.step([p])
                }
                let exported = adam.exportState([("p", p)])
                return (p.scalars, (exported.tensors, exported.updates))
            }
        }
        let all = try steps(0..<3, on: cpu, values: start, state: nil)
        let first = try steps(0..<2, on: fromGPU ? gpu : cpu, values: start, state: nil)
        let moved = try steps(2..<3, on: fromGPU ? cpu : gpu, values: first.values, state: first.state)
        #expect(BackendAgreement.relativeDifference(all.values, moved.values) <= 1e-6)
        #expect(moved.state.1["p"] == 3)
        #expect(BackendAgreement.relativeDifference(all.state.0["p"]!.scalars, moved.state.0["p"]!.scalars) <= 1e-6)
    }

    /// A convolution cuDNN offers no algorithm for, or (`whenRun`) whose every offered algorithm
    /// says "not supported" when run, runs on the CPU over the same memory, is right, and is named
    /// (check-backend prints the list; bench counts them per step); no error stops the step.
    @Test(Self.emulated, arguments: [false, true])
    func aConvolutionWithoutACuDNNAlgorithmRunsOnTheCPUAndIsNamed(whenRun: Bool) throws {
        CUDAEmulation.refuseFilters(withOutputs: 1, whenRun: whenRun)
        defer { CUDAEmulation.refuseFilters(withOutputs: 0) }
        let backend = try CUDABackend(CUDAEmulation.environment.get())
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(backend.convolutionsOnTheCPU == ["backwardData of 2×16×12×12 * 1×16×1×1", "backwardFilter of 2×16×12×12 * 1×16×1×1",
                                                 "forward of 2×16×12×12 * 1×16×1×1"], "\(backend.convolutionsOnTheCPU)")
    }

    /// `COMPSEG_CUDNN_ALGORITHMS=fastest`: cuDNN times every algorithm once per problem, and the
    /// fastest deterministic, non-FFT one that ran is tried first (the emulator times the FFT and
    /// non-deterministic ones faster, and the one that fails slower), so the failing one is never
    /// tried, as it is in the heuristic order.
    @Test(Self.emulated)
    func theFastestAlgorithmIsTimedOncePerProblem() throws {
        let fastest = try CUDABackend(CUDAEmulation.environment.get(), algorithms: .fastest)
        #expect(fastest.name == "cuda (emulated GPU; cuDNN algorithms timed, not kept)")
        let (timings, failed) = (CUDAEmulation.timings, CUDAEmulation.failedRuns)
        let rows = try BackendAgreement.compare(fastest, with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(CUDAEmulation.forbiddenRuns == 0 && CUDAEmulation.failedRuns == failed)
        // 4 geometries × forward, backward data and backward filter: each problem timed once (the
        // forward with relu is the same problem as without).
        #expect(CUDAEmulation.timings - timings == 4 * 3, "\(CUDAEmulation.timings - timings) timings")
        let heuristic = try CUDABackend(CUDAEmulation.environment.get())
        #expect(heuristic.name == "cuda (emulated GPU; cuDNN's heuristic algorithms)")
        _ = try BackendAgreement.compare(heuristic, with: CPUBackend.shared)
        #expect(CUDAEmulation.failedRuns > failed, "the heuristic order tries the failing algorithm first")
    }

    /// A backend given up, once its last tensor is gone, gives back all it took on the GPU: the
    /// context, the kernels' module, its memory (kept buffers and cuDNN's workspace included),
    /// cuDNN's handle and descriptors, and at bf16 the kept channels-last copies.
    @Test(Self.emulated, arguments: [Precision.fp32, .bf16])
    func aBackendGivenUpReleasesTheGPU(precision: Precision) throws {
        let before = CUDAEmulation.held
        do {
            let backend = try CUDABackend(CUDAEmulation.environment.get(), precision: precision, algorithms: .fastest)
            _ = try BackendAgreement.compare(backend, with: CPUBackend.shared)
            let held = CUDAEmulation.held
            #expect(held.count == 5 && zip(held, before).allSatisfy { $0 > $1 }, "held \(held), before \(before)")
        }
        #expect(CUDAEmulation.held == before)
    }

    /// A fresh file for an `AlgorithmCache`, in a folder not made yet.
    static func cacheFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("cudnn-cache-\(UUID().uuidString)/algorithms.json")
    }

    /// The timings' choices are kept in the cache file, per machine and precision: a second backend
    /// (a later run) on the same file times nothing and runs what the first chose; another
    /// precision is another machine's key and is timed anew.
    @Test(Self.emulated)
    func timedAlgorithmsAreKeptForLaterRuns() throws {
        let file = Self.cacheFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let environment = try CUDAEmulation.environment.get()
        var timings = CUDAEmulation.timings
        _ = try BackendAgreement.compare(CUDABackend(environment, algorithms: .fastest, cache: file), with: CPUBackend.shared)
        #expect(CUDAEmulation.timings - timings == 12)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let machines = json?["machines"] as? [String: [String: Int]] ?? [:]
        let fp32 = "emulated GPU, compute capability 9.0, cuDNN 9.26, fp32"
        #expect(json?["format"] as? String == "compseg cuDNN algorithms 1" && Array(machines.keys) == [fp32], "\(machines)")
        #expect(machines[fp32]?.count == 12 && machines[fp32]?.values.allSatisfy { $0 == 1 } == true)
        #expect(machines[fp32]?["forward 2×16×20×20 * 24×16×3×3 → 2×24×20×20, padding 1×1, stride 1×1"] == 1, "\(machines)")

        timings = CUDAEmulation.timings
        let (failed, forbidden) = (CUDAEmulation.failedRuns, CUDAEmulation.forbiddenRuns)
        let later = try CUDABackend(environment, algorithms: .fastest, cache: file)
        let rows = try BackendAgreement.compare(later, with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(CUDAEmulation.timings == timings && CUDAEmulation.failedRuns == failed && CUDAEmulation.forbiddenRuns == forbidden)
        #expect(later.name == "cuda (emulated GPU)")

        _ = try BackendAgreement.compare(CUDABackend(environment, precision: .bf16, algorithms: .fastest, cache: file),
                                         with: CPUBackend.shared)
        #expect(CUDAEmulation.timings - timings == 12, "bf16 is timed for itself")
        let both = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        #expect((both?["machines"] as? [String: Any])?.keys.sorted() == [fp32.dropLast(4) + "bf16", fp32])
    }

    /// A kept algorithm cuDNN no longer offers for a problem is timed again, and one that fails
    /// when run is passed over for the fastest of the others (not cuDNN's heuristic runner-up),
    /// and either is replaced in the file by the one that ran: a stale cache (another cuDNN, an
    /// edited file) costs a timing, never a wrong, failed or slower step.
    @Test(Self.emulated)
    func aStaleKeptAlgorithmIsReplacedByTheFastestThatRuns() throws {
        let file = Self.cacheFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let environment = try CUDAEmulation.environment.get()
        _ = try BackendAgreement.compare(CUDABackend(environment, algorithms: .fastest, cache: file), with: CPUBackend.shared)
        let machine = "emulated GPU, compute capability 9.0, cuDNN 9.26, fp32"
        let forward = "forward 2×16×20×20 * 24×16×3×3 → 2×24×20×20, padding 1×1, stride 1×1"
        let backwardData = "backwardData 2×16×20×20 * 24×16×3×3 → 2×24×20×20, padding 1×1, stride 1×1"
        func kept() throws -> [String: Int] {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            return (json?["machines"] as? [String: [String: Int]])?[machine] ?? [:]
        }
        let first = try kept()
        #expect(first[forward] == 1 && first[backwardData] == 1, "\(first)")
        // The emulator's heuristics offer forward algorithm 2, which fails when run, then 3, then 1
        // (timed fastest); they never offer 77.
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var machines = try #require(json["machines"] as? [String: [String: Int]])
        machines[machine]?[forward] = 2
        machines[machine]?[backwardData] = 77
        json["machines"] = machines
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let (timings, failed) = (CUDAEmulation.timings, CUDAEmulation.failedRuns)
        let rows = try BackendAgreement.compare(CUDABackend(environment, algorithms: .fastest, cache: file), with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(CUDAEmulation.timings - timings == 2 && CUDAEmulation.failedRuns - failed == 1)
        let repaired = try kept()
        #expect(repaired[forward] == 1 && repaired[backwardData] == 1, "\(repaired)")
    }

    /// Where timing fails (cuDNN runs out of memory for it, say), cuDNN's heuristic order is
    /// taken, the step runs, and nothing is kept: a later run times again.
    @Test(Self.emulated)
    func aFailedTimingFallsBackToTheHeuristicsUnkept() throws {
        let file = Self.cacheFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        CUDAEmulation.failTimings(1000)
        defer { CUDAEmulation.failTimings(0) }
        let failed = CUDAEmulation.failedRuns
        let backend = try CUDABackend(CUDAEmulation.environment.get(), algorithms: .fastest, cache: file)
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(CUDAEmulation.failedRuns > failed, "the heuristic order tries the failing algorithm first")
        #expect(!FileManager.default.fileExists(atPath: file.path) && backend.name == "cuda (emulated GPU)")
    }

    /// A file at the cache's path that is not compseg's cache, or a path that cannot be written,
    /// is left as it is: the algorithms are timed for the process, and the backend's name says
    /// why they are not kept, from the start.
    @Test(Self.emulated)
    func aFileThatIsNotACacheIsLeftAlone() throws {
        let file = Self.cacheFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let notes = Data("{\"my\": \"notes\"}".utf8)
        try notes.write(to: file)
        let backend = try CUDABackend(CUDAEmulation.environment.get(), algorithms: .fastest, cache: file)
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        #expect(rows.allSatisfy { $0.difference <= BackendAgreement.tolerance })
        #expect(try Data(contentsOf: file) == notes)
        #expect(backend.name == "cuda (emulated GPU; cuDNN algorithms timed, not kept: \(file.path) is not compseg's cache of cuDNN "
                + "algorithms (a JSON object with \"format\": \"compseg cuDNN algorithms 1\"); left as it is)", "\(backend.name)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["algorithms.json"])
        // A cache whose folder would lie under a file.
        let under = file.appendingPathComponent("cache.json")
        let unwritable = try CUDABackend(CUDAEmulation.environment.get(), algorithms: .fastest, cache: under)
        #expect(unwritable.name == "cuda (emulated GPU; cuDNN algorithms timed, not kept: \(under.path) cannot be written: its "
                + "folder cannot be made or written)", "\(unwritable.name)")
        #expect(try BackendAgreement.compare(unwritable, with: CPUBackend.shared).allSatisfy { $0.difference <= BackendAgreement.tolerance })
    }

    /// Where the cache lies: `COMPSEG_CUDNN_CACHE` (or `off`), else under `XDG_CACHE_HOME`, else `~/.cache`.
    @Test func theCacheLiesWhereTheEnvironmentSays() {
        #expect(AlgorithmCache.location(["COMPSEG_CUDNN_CACHE": "/data/a.json", "XDG_CACHE_HOME": "/x"])?.path == "/data/a.json")
        #expect(AlgorithmCache.location(["COMPSEG_CUDNN_CACHE": "off"]) == nil)
        #expect(AlgorithmCache.location(["XDG_CACHE_HOME": "/x"])?.path == "/x/compseg/cudnn-algorithms.json")
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        #expect(AlgorithmCache.location(["XDG_CACHE_HOME": "relative"])?.path == home + "/.cache/compseg/cudnn-algorithms.json")
        #expect(AlgorithmCache.location([:])?.path == home + "/.cache/compseg/cudnn-algorithms.json")
    }

    @Test(Self.emulated)
    func tf32AndBF16NeedCuDNN() throws {
        for precision in [Precision.tf32, .bf16] {
            #expect { try CUDABackend(CUDAEmulation.environmentWithoutCuDNN.get(), precision: precision) } throws: { error in
                "\(error)" == "--precision \(precision.rawValue) needs cuDNN's convolutions (cuDNN did not load)"
            }
            #expect(try CUDABackend(CUDAEmulation.environment.get(), precision: precision).precision == precision)
        }
    }

    /// bf16: the convolutions run on channels-last bf16 copies (the emulated cuDNN checks types,
    /// formats and tensor-core math) and their results are rounded as bf16's 8-bit significands
    /// make them, beyond fp32's bound and within bf16's; every other op stays fp32.
    @Test(Self.emulated)
    func bf16ConvolutionsAgreeWithinTheirBound() throws {
        let backend = try CUDABackend(CUDAEmulation.environment.get(), precision: .bf16)
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        let failed = rows.filter { !($0.difference <= $0.tolerance(.bf16)) }
        #expect(failed.isEmpty, "\(failed)")
        let convolutions = rows.filter(\.throughConvolution)
        #expect(convolutions.count == 4 * 5)
        // The bias gradient sums the fp32 dy: no bf16 in it.
        let rounded = convolutions.filter { $0.output != "db" }
        #expect(rounded.allSatisfy { $0.difference > BackendAgreement.tolerance }, "\(rounded)")
        #expect(CUDAEmulation.forbiddenRuns == 0)
    }

    /// bf16 copies kept with their storage (a layer's input made by the layer before, weights and
    /// output gradients read twice) are what converting anew gives: three Adam steps of two
    /// convolutions (ReLU between, bias in both), a transposed one and a 1×1 end equal, bit for bit,
    /// the steps converting every operand anew, with fewer launches.
    @Test(Self.emulated)
    func bf16CopiesKeptWithTheirStorageChangeNoBit() throws {
        func train(keepingCopies: Bool) throws -> (values: [Float], launches: Int) {
            let backend = try CUDABackend(CUDAEmulation.environment.get(), precision: .bf16)
            backend.keepsBF16Copies = keepingCopies
            let before = CUDAEmulation.launches
            let values = try Backend.using(backend) {
                var g = SeededGenerator(seed: 9)
                let first = Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, generator: &g)
                let second = Conv2d(inputChannels: 8, outputChannels: 8, kernelSize: 3, stride: 2, padding: 1, generator: &g)
                let up = TransposedConv2d(inputChannels: 8, outputChannels: 4, generator: &g)
                let last = Conv2d(inputChannels: 4, outputChannels: 1, kernelSize: 1, generator: &g)
                let parameters = [first, second, last].flatMap { [$0.weight, $0.bias!] } + [up.weight, up.bias!]
                let adam = Adam(learningRate: 1e-2)
                let x = BackendAgreement.random([2, 3, 12, 12], &g), target = BackendAgreement.random([2, 1, 12, 12], &g)
                var losses: [Float] = []
                for _ in 0..<3 {
                    parameters.forEach { $0.grad = nil }
                    let y = try last(up(second(first(x, then: .relu), then: .relu)))
                    let loss = try sum(square(add(y, scale(target, by: -1))))
                    try loss.backward()
                    adam.step(parameters)
                    losses += loss.scalars
                }
                return losses + parameters.flatMap(\.scalars)
            }
            return (values, CUDAEmulation.launches - before)
        }
        let kept = try train(keepingCopies: true), anew = try train(keepingCopies: false)
        #expect(kept.values.map(\.bitPattern) == anew.values.map(\.bitPattern))
        #expect(kept.launches < anew.launches, "\(kept.launches) launches keeping copies, \(anew.launches) without")
    }

    /// The conversions around bf16 convolutions: to bf16 rounds to nearest, ties to even (checked
    /// against the nearer of the two bf16 neighbours), keeps NaN, infinities and signed zero, and
    /// transposes channels to last; back to fp32 is exact and transposes back. 2 images of 35
    /// channels × 3×11 pixels: partial 32×32 tiles both ways.
    @Test(Self.emulated)
    func bf16ConversionsRoundToNearestEvenAndTranspose() throws {
        let backend = try CUDABackend(CUDAEmulation.environment.get(), precision: .bf16)
        let (images, channels, pixels) = (2, 35, 33), count = 2 * 35 * 33
        var g = SeededGenerator(seed: 5)
        var values = (0..<count).map { _ in g.nextNormal() * 100 }
        let special: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 0x1p-8), .nan, .infinity, -.infinity, -0.0, 0x1p-130, 65_504]
        values.replaceSubrange(0..<special.count, with: special)
        let memory = backend.memory
        let x = Storage(count: count, zeroed: false, memory: memory)
        x.base.update(from: values, count: count)
        let half = Storage(count: (count + 1) / 2, zeroed: false, memory: memory), back = Storage(count: count, zeroed: false, memory: memory)
        let shape: [CUDADevice.Argument] = [.int64(Int64(images)), .int32(Int32(channels)), .int32(Int32(pixels))]
        try backend.device.launch("compseg_to_bf16_channels_last", grid: (7, 1),
                                  [.pointer(UnsafeMutableRawPointer(x.pointer)), .pointer(UnsafeMutableRawPointer(half.pointer))] + shape)
        try backend.device.launch("compseg_from_bf16_channels_last", grid: (3, 1),
                                  [.pointer(UnsafeMutableRawPointer(half.pointer)), .pointer(UnsafeMutableRawPointer(back.pointer))] + shape
                                  + [.pointer(nil), .int32(-1), .float(0), .float(0), .int32(0)])  // no bias, no activation
        let bits = UnsafeRawPointer(half.base).bindMemory(to: UInt16.self, capacity: count)
        let restored = Array(UnsafeBufferPointer(start: back.base, count: count))
        func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
        var wrong: [String] = []
        for n in 0..<images {
            for c in 0..<channels {
                for p in 0..<pixels {
                    let source = (n * channels + c) * pixels + p, value = values[source]
                    let stored = Float(bitPattern: UInt32(bits[(n * pixels + p) * channels + c]) << 16)
                    if !same(stored, Self.nearestBF16(value)) || !same(restored[source], stored) {
                        wrong.append("\(value) → \(stored) → \(restored[source]), not \(Self.nearestBF16(value))")
                    }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong, as \(wrong.prefix(3))")
        #expect(Self.nearestBF16(1 + 0x1p-8) == 1 && Self.nearestBF16(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
    }

    /// The bf16 value nearest to x (ties to the one with an even last bit), from its two
    /// neighbours: x's top 16 bits and the next bf16 away from zero.
    static func nearestBF16(_ x: Float) -> Float {
        guard x.isFinite else { return x }
        let low = x.bitPattern & 0xffff_0000
        let below = Float(bitPattern: low), above = Float(bitPattern: low + 0x1_0000)
        let d1 = abs(x - below), d2 = abs(above - x)
        if d1 != d2 { return d1 < d2 ? below : above }
        return (low >> 16) & 1 == 0 ? below : above
    }

    /// The CUDA backend beside the CPU's, op by op, where a GPU loads.
    @Test(.enabled(if: Self.gpu, "no GPU: CUDA does not load here (compseg --version says why)"))
    func theCUDABackendAgreesWithTheCPU() throws {
        let backend = try CUDABackend.make(CUDAEnvironment.current.get(), precision: .fp32)
        let rows = try BackendAgreement.compare(backend, with: CPUBackend.shared)
        let failed = rows.filter { !($0.difference <= BackendAgreement.tolerance) }
        #expect(failed.isEmpty, "\(failed)")
    }

    static var gpu: Bool { (try? CUDAEnvironment.current.get()) != nil }
}

/// The CPU backend with sigmoid's derivative off by 1%.
private final class WrongSigmoidGradient: KernelBackend, @unchecked Sendable {
    let cpu = CPUBackend.shared
    var name: String { "wrong sigmoid gradient" }
    var memory: any TensorMemory { cpu.memory }
    func eltwiseBackward(_ dy: Tensor, value: Tensor, _ function: Eltwise) throws -> Tensor {
        let dx = try cpu.eltwiseBackward(dy, value: value, function)
        return function == .sigmoid ? try cpu.eltwiseForward(dx, .linear(alpha: 1.01, beta: 0)) : dx
    }
    func reorder(_ x: Tensor, to layout: TensorLayout?) -> Tensor { cpu.reorder(x, to: layout) }
    func convolutionInputLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        try cpu.convolutionInputLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }
    func convolutionWeightLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                 epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        try cpu.convolutionWeightLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }
    func convolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                            epilogue: ConvolutionEpilogue) throws -> Tensor {
        try cpu.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue)
    }
    func convolutionBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape, geometry: ConvolutionGeometry) throws -> Tensor {
        try cpu.convolutionBackwardData(dy, weight: weight, inputShape: inputShape, geometry: geometry)
    }
    func convolutionBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                    withBias: Bool, geometry: ConvolutionGeometry) throws -> (weight: Tensor, bias: Tensor?) {
        try cpu.convolutionBackwardWeights(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                           withBias: withBias, geometry: geometry)
    }
    func poolingForward(_ x: Tensor, geometry: PoolingGeometry, training: Bool) throws -> (Tensor, PoolingWorkspace?) {
        try cpu.poolingForward(x, geometry: geometry, training: training)
    }
    func poolingBackward(_ dy: Tensor, workspace: PoolingWorkspace?, inputShape: Shape, geometry: PoolingGeometry) throws -> Tensor {
        try cpu.poolingBackward(dy, workspace: workspace, inputShape: inputShape, geometry: geometry)
    }
    func eltwiseForward(_ x: Tensor, _ function: Eltwise) throws -> Tensor { try cpu.eltwiseForward(x, function) }
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor { try cpu.binary(op, a, b) }
    func concat(_ xs: [Tensor], axis: Int) throws -> Tensor { try cpu.concat(xs, axis: axis) }
    func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor { try cpu.slice(x, axis: axis, range: range) }
    func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, statistics: BatchStatistics?,
                          epsilon: Float) throws -> (y: Tensor, statistics: BatchStatistics) {
        try cpu.batchNormForward(x, scale: scale, shift: shift, statistics: statistics, epsilon: epsilon)
    }
    func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics, frozen: Bool,
                           epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        try cpu.batchNormBackward(dy, x: x, scale: scale, statistics: statistics, frozen: frozen, epsilon: epsilon)
    }
}
