import Foundation

/// cuDNN's convolutions through its legacy API (still in cuDNN 9), resolved at run time from
/// `libcudnn.so.9`: tensors NCHW fp32, filters K×C×kH×kW (PyTorch's layouts), cross-correlation
/// as PyTorch computes it. With bf16 the operands are copied into channels-last bf16 (NHWC,
/// K×kH×kW×C: the layout of cuDNN's tensor-core kernels) for the call and its result read back
/// into fp32; products are summed in fp32 (cuDNN's compute type), as PyTorch's autocast does.
/// Each copy is kept with the storage it copies (`Storage.derived`) while that is unchanged, and
/// a result keeps its bf16 form (after bias and activation): a layer's input, made by the layer
/// before, and the weights and output gradient that two calls read are converted once. A kept
/// copy is what a new conversion would give, bit for bit.
///
/// Algorithms are deterministic ones only, so the same inputs give the same bits, and none
/// FFT-based (their rounding grows with the transformed plane; Winograd's stays bounded per tile,
/// as in our CPU kernels): by default the fastest by cuDNN's timing on a problem's first call,
/// kept per machine in an `AlgorithmCache` so that later runs take the same one untimed; or the
/// first of cuDNN's heuristics (`_v7`) that runs (`AlgorithmChoice`). One is kept per shape. A
/// forward convolution's bias and activation run in one kernel of compseg's after it (with bf16,
/// in the one that reads the result back).
final class CuDNN: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias Descriptor = OpaquePointer
    private typealias AlgorithmQuery = @convention(c) (Handle?, Descriptor?, Descriptor?, Descriptor?, Descriptor?, Int32,
                                                       UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer) -> Int32
    private typealias WorkspaceQuery = @convention(c) (Handle?, Descriptor?, Descriptor?, Descriptor?, Descriptor?, Int32,
                                                       UnsafeMutablePointer<Int>) -> Int32
    /// (handle, α, aDesc, a, bDesc, b, conv, algo, workspace, bytes, β, outDesc, out): cudnnConvolutionForward,
    /// BackwardData and BackwardFilter alike.
    private typealias Convolve = @convention(c) (Handle?, UnsafeRawPointer, Descriptor?, UnsafeRawPointer?, Descriptor?,
                                                 UnsafeRawPointer?, Descriptor?, Int32, UnsafeMutableRawPointer?, Int,
                                                 UnsafeRawPointer, Descriptor?, UnsafeMutableRawPointer?) -> Int32
    /// (handle, aDesc, a, bDesc, b, conv, outDesc, out, requested, &returned, results, workspace,
    /// bytes): cudnnFindConvolution{Forward,BackwardData,BackwardFilter}AlgorithmEx.
    private typealias Time = @convention(c) (Handle?, Descriptor?, UnsafeRawPointer?, Descriptor?, UnsafeRawPointer?, Descriptor?,
                                             Descriptor?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>,
                                             UnsafeMutableRawPointer, UnsafeMutableRawPointer?, Int) -> Int32

    private let handle: Handle?
    private let destroy: @convention(c) (Handle?) -> Int32
    private let forwardAlgorithms, backwardDataAlgorithms, backwardFilterAlgorithms: AlgorithmQuery
    private let forwardWorkspace, backwardDataWorkspace, backwardFilterWorkspace: WorkspaceQuery
    private let forward, backwardData, backwardFilter: Convolve
    /// With `AlgorithmChoice.fastest`, cuDNN's timing of every algorithm, by kind.
    private let timeForward, timeBackwardData, timeBackwardFilter: Time?
    private let choice: AlgorithmChoice
    /// Where the timings' choices are kept between runs (nil: for this process only, or untimed).
    let cache: AlgorithmCache?
    private let device: CUDADevice
    /// The tensors' memory, whose kept buffers are freed when a workspace does not fit.
    private let memory: ManagedMemory
    /// The descriptors of the problems and biases met so far.
    private let descriptors: CuDNNDescriptors
    /// Convolutions on channels-last bf16 copies of their operands.
    private var bf16: Bool { descriptors.bf16 }
    private let lock = NSLock()
    /// Held through each call's work on the handle: cuDNN's handle is for one thread at a time, the
    /// workspace a call was handed must not be freed (grown by another) before its convolution is
    /// queued, and the bf16 copies kept with storages (`Storage.derived`) are read and set under it.
    private let calls = NSLock()
    /// Per problem, the algorithm that ran (with its workspace), or before any ran, the candidates.
    private var algorithms: [Problem: [(Int32, Int)]] = [:]
    private var workspace: (address: UInt64, bytes: Int) = (0, 0)
    /// With bf16, whether copies are kept with their storage (off: each call converts anew).
    var keepsCopies = true

    /// Opens cuDNN's functions and a handle on the default stream (the one compseg's kernels use).
    init(_ lib: LoadedLibrary, device: CUDADevice, memory: ManagedMemory, precision: Precision,
         algorithms choice: AlgorithmChoice = .heuristic, cache: AlgorithmCache? = nil) throws {
        self.device = device
        self.memory = memory
        self.choice = choice
        self.cache = cache
        let timed = choice == .fastest
        timeForward = timed ? try lib.function("cudnnFindConvolutionForwardAlgorithmEx", as: Time.self) : nil
        timeBackwardData = timed ? try lib.function("cudnnFindConvolutionBackwardDataAlgorithmEx", as: Time.self) : nil
        timeBackwardFilter = timed ? try lib.function("cudnnFindConvolutionBackwardFilterAlgorithmEx", as: Time.self) : nil
        descriptors = try CuDNNDescriptors(lib, precision: precision)
        forwardAlgorithms = try lib.function("cudnnGetConvolutionForwardAlgorithm_v7", as: AlgorithmQuery.self)
        backwardDataAlgorithms = try lib.function("cudnnGetConvolutionBackwardDataAlgorithm_v7", as: AlgorithmQuery.self)
        backwardFilterAlgorithms = try lib.function("cudnnGetConvolutionBackwardFilterAlgorithm_v7", as: AlgorithmQuery.self)
        forwardWorkspace = try lib.function("cudnnGetConvolutionForwardWorkspaceSize", as: WorkspaceQuery.self)
        backwardDataWorkspace = try lib.function("cudnnGetConvolutionBackwardDataWorkspaceSize", as: WorkspaceQuery.self)
        backwardFilterWorkspace = try lib.function("cudnnGetConvolutionBackwardFilterWorkspaceSize", as: WorkspaceQuery.self)
        forward = try lib.function("cudnnConvolutionForward", as: Convolve.self)
        backwardData = try lib.function("cudnnConvolutionBackwardData", as: Convolve.self)
        backwardFilter = try lib.function("cudnnConvolutionBackwardFilter", as: Convolve.self)
        let create = try lib.function("cudnnCreate", as: (@convention(c) (UnsafeMutablePointer<Handle?>) -> Int32).self)
        destroy = try lib.function("cudnnDestroy", as: type(of: destroy))
        let setStream = try lib.function("cudnnSetStream", as: (@convention(c) (Handle?, OpaquePointer?) -> Int32).self)
        try device.bind()
        var handle: Handle?
        let status = create(&handle)
        guard status == 0 else {  // before self.handle is set, so `check` cannot be used yet
            throw CUDAError("cudnnCreate failed: \(descriptors.message(status))")
        }
        self.handle = handle
        try check(setStream(handle, nil), "cudnnSetStream")
    }

    /// Destroys the handle and frees the workspace, once the GPU is done with them.
    deinit {
        try? device.synchronize()
        try? device.bind()
        _ = destroy(handle)
        if workspace.address != 0 { _ = device.driver.free(workspace.address) }
    }

    /// Which of cuDNN's three convolutions, on which shapes: the key of the chosen algorithms.
    struct Problem: Hashable {
        enum Kind: Hashable { case forward, backwardData, backwardFilter }
        let kind: Kind
        /// The direct convolution's input (N×C×H×W), filter (K×C×kH×kW) and output (N×K×OH×OW).
        let input: Shape, filter: Shape, output: Shape
        let paddingH: Int, paddingW: Int, strideH: Int, strideW: Int

        /// The problem in words, its key in an `AlgorithmCache`: spelled out here, not by the
        /// types' descriptions, so that a change to those does not orphan the kept choices.
        var key: String {
            let name = switch kind {
            case .forward: "forward"
            case .backwardData: "backwardData"
            case .backwardFilter: "backwardFilter"
            }
            func dims(_ s: Shape) -> String { s.dims.map(String.init).joined(separator: "×") }
            return "\(name) \(dims(input)) * \(dims(filter)) → \(dims(output)), padding \(paddingH)×\(paddingW), "
                + "stride \(strideH)×\(strideW)"
        }

        /// The shapes of `convolve`'s a, b and result.
        var operands: (a: Shape, b: Shape, out: Shape) {
            switch kind {
            case .forward: (input, filter, output)
            case .backwardData: (filter, output, input)
            case .backwardFilter: (input, output, filter)
            }
        }
    }

    /// out ← the `problem`'s convolution of `a` and `b` (forward: x and w; backward data: w and dy;
    /// backward filter: x and dy), then `activation` of it plus `bias` (per channel of out) where
    /// given. The storages are in device-accessible (managed) memory. Tries cuDNN's deterministic
    /// candidates (the kept or the fastest first, with `.fastest`) and keeps the first that runs.
    /// - Returns: false when cuDNN has no deterministic algorithm for it, or every one it offered
    ///   says "not supported" when run (the caller computes it elsewhere).
    func convolve(_ problem: Problem, _ a: Storage, _ b: Storage, into out: Storage,
                  bias: UnsafeRawPointer? = nil, activation: Eltwise? = nil) throws -> Bool {
        calls.lock()
        defer { calls.unlock() }
        try device.bind()
        let d = try descriptors.described(problem)
        let (x, y, w, convolution) = (d.x, d.y, d.w, d.convolution)
        let shapes = problem.operands
        // With bf16, what cuDNN reads and writes: copies, alive until their last kernel is launched
        // (a copy given back earlier could be taken by the next one and overwritten before cuDNN reads it).
        let copies = bf16 ? [try channelsLast(a, shapes.a), try channelsLast(b, shapes.b),
                             Storage(count: (shapes.out.count + 1) / 2, zeroed: false, memory: out.memory)] : []
        defer { withExtendedLifetime(copies) {} }
        let (a, b, result) = bf16
            ? (UnsafeRawPointer(copies[0].pointer), UnsafeRawPointer(copies[1].pointer), UnsafeMutableRawPointer(copies[2].pointer))
            : (UnsafeRawPointer(a.pointer), UnsafeRawPointer(b.pointer), UnsafeMutableRawPointer(out.pointer))
        var (order, known) = try candidates(problem, d)
        // With `.fastest`, a problem's first call tries the kept algorithm first, else the timed
        // order (where timing fails, for want of memory say, cuDNN's heuristic order, not kept).
        var timed = false, keptFirst = false
        if choice == .fastest && !known && order.count > 1 {
            if let kept = cache?.algorithm(for: problem.key), let i = order.firstIndex(where: { $0.0 == kept }) {
                order.insert(order.remove(at: i), at: 0)
                keptFirst = true
            } else if let fastest = try? fastestFirst(order, problem, d, a, b, result) {
                order = fastest
                timed = true
            }
        }
        var failures: [String] = [], unsupported = 0, index = 0
        while index < order.count {
            // A kept algorithm that no longer runs: the others in the timed order.
            if keptFirst && index == 1 && order.count > 2,
               let fastest = try? fastestFirst(Array(order.dropFirst()), problem, d, a, b, result) {
                order = [order[0]] + fastest
                timed = true
            }
            let (algorithm, bytes) = order[index]
            index += 1
            let space: UnsafeMutableRawPointer?
            do { space = try workspace(bytes) } catch {
                failures.append("algorithm \(algorithm): \(error)")
                continue
            }
            var one: Float = 1, zero: Float = 0
            let status = try device.launching("cuDNN \(problem.kind) \(problem.input) * \(problem.filter), algorithm \(algorithm)") {
                switch problem.kind {
                case .forward: forward(handle, &one, x, a, w, b, convolution, algorithm, space, bytes, &zero, y, result)
                case .backwardData: backwardData(handle, &one, w, a, y, b, convolution, algorithm, space, bytes, &zero, x, result)
                case .backwardFilter: backwardFilter(handle, &one, x, a, y, b, convolution, algorithm, space, bytes, &zero, w, result)
                }
            }
            if status == 0 {
                remember(problem, [(algorithm, bytes)])
                if timed || keptFirst { cache?.keep(algorithm, for: problem.key) }
                try finish(out, shapes.out, bf16Result: copies.last, bias: bias, activation: activation)
                return true
            }
            failures.append("algorithm \(algorithm): \(descriptors.message(status))")
            if Self.notCovering.contains(status) { unsupported += 1 }
        }
        // Offered but not covering this problem when run, every one: as if none was offered, and
        // not tried again. Any other failure is an error (a driver, run time or sub-library cuDNN
        // could not use says so with 3005–3009: it must not pass as a slow but right answer).
        guard failures.count == unsupported else {
            throw CUDAError("cudnnConvolution \(problem.kind) \(problem.input) * \(problem.filter): " + failures.joined(separator: "; "))
        }
        if unsupported > 0 { remember(problem, []) }
        lock.withLock { _ = withoutAlgorithm.insert("\(problem.kind) of \(problem.input) * \(problem.filter)") }
        Counters.addCPUConvolution()
        return false
    }

    /// `out` after cuDNN's call: plus `bias`, through `activation` where given; with bf16, read
    /// back from `bf16Result` (cuDNN's output), which then holds `out` in bf16 and is kept with it.
    private func finish(_ out: Storage, _ s: Shape, bf16Result: Storage?, bias: UnsafeRawPointer?, activation: Eltwise?) throws {
        let (op, alpha, beta) = activation.map(CUDAKernels.code) ?? (-1, 0, 0)
        let target = UnsafeMutableRawPointer(out.pointer), epilogue = bias != nil || activation != nil
        let arguments: [CUDADevice.Argument] = [.pointer(bias.map { UnsafeMutableRawPointer(mutating: $0) }),
                                                .int32(op), .float(alpha), .float(beta)]
        if let bf16Result {
            try convert("compseg_from_bf16_channels_last", UnsafeRawPointer(bf16Result.pointer), into: target, s,
                        arguments + [.int32(epilogue ? 1 : 0)])
            if keepsCopies { out.derived = (out.version, bf16Result) }
        } else if epilogue {
            try device.launch("compseg_bias_activation", grid: device.planes(s[0] * s[1], of: s[2] * s[3]),
                              [.pointer(target), arguments[0], .int64(Int64(s[0] * s[1])), .int32(Int32(s[1])),
                               .int64(Int64(s[2] * s[3]))] + arguments[1...])
        }
    }

    /// The convolutions cuDNN offered no usable algorithm for (their callers ran them on the CPU).
    var convolutionsWithoutAlgorithm: [String] { lock.withLock { withoutAlgorithm.sorted() } }
    private var withoutAlgorithm: Set<String> = []

    /// `values` (fp32, d0×d1×d2×d3) as channels-last bf16: the copy kept with it while it is
    /// unchanged, or a new one (then kept).
    private func channelsLast(_ values: Storage, _ shape: Shape) throws -> Storage {
        if let kept = values.derived, kept.version == values.version, keepsCopies { return kept.copy }
        let copy = Storage(count: (shape.count + 1) / 2, zeroed: false, memory: values.memory)
        try convert("compseg_to_bf16_channels_last", UnsafeRawPointer(values.pointer), into: UnsafeMutableRawPointer(copy.pointer), shape)
        if keepsCopies { values.derived = (values.version, copy) }
        return copy
    }

    /// Runs one of the channels-last conversions of `CUDAKernels` over a d0×d1×d2×d3 tensor (d0
    /// matrices of d1 rows, channels, and d2·d3 columns, pixels), with the kernel's `more` arguments.
    private func convert(_ kernel: String, _ from: UnsafeRawPointer, into to: UnsafeMutableRawPointer, _ shape: Shape,
                         _ more: [CUDADevice.Argument] = []) throws {
        let (images, rows, cols) = (shape[0], shape[1], shape[2] * shape[3])
        // Blocks y: an image's bands of 32 rows; blocks x: up to 64 tiles of 32 columns along a band
        // (tiles of 32×64, 8 values a thread, ran 20% slower on an H200).
        let grid = (min((cols + 31) / 32, 64), min(images * ((rows + 31) / 32), 65_535))
        try device.launch(kernel, grid: grid,
                          [.pointer(UnsafeMutableRawPointer(mutating: from)), .pointer(to), .int64(Int64(images)),
                           .int32(Int32(rows)), .int32(Int32(cols))] + more)
    }

    /// The deterministic, non-FFT algorithms of cuDNN's heuristics for `p` that fit a workspace of
    /// `workspaceLimit`, in cuDNN's order, with their workspaces; once one has run, that one alone
    /// (`known`).
    private func candidates(_ p: Problem, _ d: CuDNNDescriptors.Described) throws -> (found: [(Int32, Int)], known: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let known = algorithms[p] { return (known, true) }
        let (x, y, w, convolution) = (d.x, d.y, d.w, d.convolution)
        // cudnnConvolution*AlgoPerf_t: algo, status (int32), time (float), memory (size_t at 16),
        // determinism (int32 at 24), mathType, reserved[3]: 48 bytes.
        let stride = 48, capacity = 16
        let results = UnsafeMutableRawPointer.allocate(byteCount: stride * capacity, alignment: 8)
        defer { results.deallocate() }
        var count: Int32 = 0
        let status = switch p.kind {
        case .forward: forwardAlgorithms(handle, x, w, convolution, y, Int32(capacity), &count, results)
        case .backwardData: backwardDataAlgorithms(handle, w, y, convolution, x, Int32(capacity), &count, results)
        case .backwardFilter: backwardFilterAlgorithms(handle, x, y, convolution, w, Int32(capacity), &count, results)
        }
        try check(status, "choosing a \(p.kind) algorithm for \(p.input) * \(p.filter)")
        // FFT and FFT tiling, by kind (cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t).
        let fft: Set<Int32> = switch p.kind {
        case .forward: [4, 5]
        case .backwardData: [2, 3]
        case .backwardFilter: [2, 6]
        }
        var found: [(Int32, Int)] = []
        for k in 0..<Int(count) {
            let r = results + k * stride
            let algorithm = r.load(as: Int32.self), ok = r.load(fromByteOffset: 4, as: Int32.self) == 0
            guard ok, r.load(fromByteOffset: 24, as: Int32.self) == 1, !fft.contains(algorithm) else { continue }  // CUDNN_DETERMINISTIC
            var bytes = 0
            let sized = switch p.kind {
            case .forward: forwardWorkspace(handle, x, w, convolution, y, algorithm, &bytes)
            case .backwardData: backwardDataWorkspace(handle, w, y, convolution, x, algorithm, &bytes)
            case .backwardFilter: backwardFilterWorkspace(handle, x, y, convolution, w, algorithm, &bytes)
            }
            if sized == 0 && bytes <= Self.workspaceLimit { found.append((algorithm, bytes)) }
        }
        return (found, false)
    }

    /// `candidates` (deterministic, non-FFT, in cuDNN's heuristic order) with those cuDNN's timing
    /// ran, fastest first, ahead of the others: cuDNN runs every algorithm on these operands once
    /// (overwriting `out`, which the call then writes again).
    private func fastestFirst(_ candidates: [(Int32, Int)], _ p: Problem, _ d: CuDNNDescriptors.Described, _ a: UnsafeRawPointer,
                              _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer) throws -> [(Int32, Int)] {
        let time: Time? = switch p.kind {
        case .forward: timeForward
        case .backwardData: timeBackwardData
        case .backwardFilter: timeBackwardFilter
        }
        guard let time else { return candidates }
        let bytes = candidates.map(\.1).max() ?? 0, space = try workspace(bytes)
        let (aDescriptor, bDescriptor, outDescriptor) = switch p.kind {
        case .forward: (d.x, d.w, d.y)
        case .backwardData: (d.w, d.y, d.x)
        case .backwardFilter: (d.x, d.y, d.w)
        }
        let stride = 48, capacity = 16  // cudnnConvolution*AlgoPerf_t, as in `candidates`
        let results = UnsafeMutableRawPointer.allocate(byteCount: stride * capacity, alignment: 8)
        defer { results.deallocate() }
        var count: Int32 = 0
        let what = "timing \(p.kind) algorithms for \(p.input) * \(p.filter)"
        let status = try device.launching("cuDNN " + what) {
            time(handle, aDescriptor, a, bDescriptor, b, d.convolution, outDescriptor, out, Int32(capacity), &count, results,
                 space, bytes)
        }
        try check(status, what)
        // The results come fastest first; those that ran (status 0) and are candidates lead.
        let ran = (0..<Int(count)).map { results + $0 * stride }
            .filter { $0.load(fromByteOffset: 4, as: Int32.self) == 0 }.map { $0.load(as: Int32.self) }
        let timed = ran.compactMap { algorithm in candidates.first { $0.0 == algorithm } }
        return timed + candidates.filter { c in !timed.contains { $0.0 == c.0 } }
    }

    /// The statuses that say an algorithm does not cover a problem: CUDNN_STATUS_NOT_SUPPORTED and
    /// its graph pattern, shape, data type, layout, shared memory, padding and launch kinds.
    static let notCovering: Set<Int32> = [3000, 3001, 3002, 3003, 3004, 3010, 3011, 3012]

    /// The largest workspace an algorithm may ask for.
    static let workspaceLimit = 4 << 30

    private func remember(_ p: Problem, _ chosen: [(Int32, Int)]) {
        lock.lock()
        algorithms[p] = chosen
        lock.unlock()
    }

    /// Device memory of at least `bytes`, kept and grown for the process (nil for none).
    private func workspace(_ bytes: Int) throws -> UnsafeMutableRawPointer? {
        guard bytes > 0 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if workspace.bytes < bytes {
            try device.synchronize()  // the old one may still be in use
            try device.bind()
            if workspace.address != 0 { _ = device.driver.free(workspace.address) }
            workspace = (0, 0)
            var address: UInt64 = 0
            try device.driver.check(memory.releasingKept { device.driver.allocate(&address, bytes) },
                                    "cuMemAlloc (cuDNN workspace of \(bytes) bytes)")
            workspace = (address, bytes)
        }
        return UnsafeMutableRawPointer(bitPattern: UInt(workspace.address))
    }

    private func check(_ status: Int32, _ what: String) throws(CUDAError) { try descriptors.check(status, what) }
}

/// How a convolution's algorithm is chosen, once per problem, among cuDNN's deterministic, non-FFT
/// ones (`COMPSEG_CUDNN_ALGORITHMS`).
public enum AlgorithmChoice: String, CaseIterable, Sendable {
    static let variable = "COMPSEG_CUDNN_ALGORITHMS"

    /// The choice `COMPSEG_CUDNN_ALGORITHMS` names in `environment` (default `.fastest`).
    /// - Throws: `DeviceUnavailable` naming the variable and its values, for any other value.
    static func named(in environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AlgorithmChoice {
        let text = environment[variable] ?? fastest.rawValue
        guard let choice = AlgorithmChoice(rawValue: text) else {
            throw DeviceUnavailable("\(variable) must be " + allCases.map(\.rawValue).joined(separator: " or ") + ", got '\(text)'")
        }
        return choice
    }

    /// The fastest, timed by cuDNN on the problem's first call (as PyTorch's `cudnn.benchmark`)
    /// and kept in the `AlgorithmCache` (where there is one), which later runs take it from: the
    /// same algorithm, and the same bits, run after run on one machine. The default.
    case fastest
    /// cuDNN's heuristic order: the same algorithm on every run and machine with the same GPU and
    /// cuDNN, untimed, but often a slower one (fp32 on an H200: 78 images/s against 105 timed).
    case heuristic
}
