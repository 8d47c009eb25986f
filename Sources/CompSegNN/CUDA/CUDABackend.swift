import Foundation

/// The engine's ops on an NVIDIA GPU (issue 22). Every tensor lives in managed memory
/// (`ManagedMemory`); convolutions run on cuDNN (fp32; tf32 or bf16 with `--precision`: see
/// `CuDNN`; everything else, weights and optimizer state included, stays fp32), and
/// element-wise functions, binary ops, pooling, concat, slice, batch norm, the pooling head's
/// masked mean and the optimizers' updates as `CUDAKernels`, all on plain tensors. An op given a
/// tensor in the CPU backend's layout or in host memory runs on the CPU backend over the same
/// memory (the host waits for the GPU before it reads), as do the convolutions where cuDNN did not
/// start: so every op is correct wherever it runs, and `BackendAgreement` checks each against the CPU's.
///
/// Status: compiled everywhere; its own code and kernels run in the tests on an emulated GPU
/// (`DeviceTests`, with an emulated cuDNN and without); on an H200 (2026-12-04) `check-backend`
/// agreed at fp32, tf32 and bf16 and the demo's loss curve was the CPU's within 7.8e-7.
public final class CUDABackend: KernelBackend, @unchecked Sendable {
    let device: CUDADevice
    private let managed: ManagedMemory
    /// cuDNN's convolutions where its library loaded and started (nil: convolutions on the CPU backend).
    private let cudnn: CuDNN?
    /// Why cuDNN is not used, when it is not.
    private let withoutCuDNN: String?
    let precision: Precision
    private let cpu = CPUBackend.shared

    /// The GPU, and what differs from the default: convolutions not on cuDNN, cuDNN's algorithms
    /// untimed (heuristic) or timed but not kept between runs.
    public var name: String {
        var notes = withoutCuDNN.map { ["convolutions on the CPU: \($0)"] } ?? []
        if let cudnn {
            switch (algorithms, cudnn.cache) {
            case (.heuristic, _): notes.append("cuDNN's heuristic algorithms")
            case (.fastest, nil): notes.append("cuDNN algorithms timed, not kept")
            case (.fastest, let cache?): if let why = cache.unusable { notes.append("cuDNN algorithms timed, not kept: \(why)") }
            }
        }
        return "cuda (" + ([device.environment.deviceName] + notes).joined(separator: "; ") + ")"
    }
    /// How cuDNN's algorithms are chosen.
    let algorithms: AlgorithmChoice
    public var memory: any TensorMemory { managed }

    /// With bf16, whether the channels-last copies of operands are kept with their storage
    /// (`CuDNN.keepsCopies`; off converts every operand anew: for checking that keeping changes nothing).
    var keepsBF16Copies: Bool {
        get { cudnn?.keepsCopies ?? false }
        set { cudnn?.keepsCopies = newValue }
    }

    /// The convolutions (kind, input * filter) that ran on the CPU so far because cuDNN offered
    /// no usable algorithm for them: correct, but a round trip through host memory each time.
    public var convolutionsOnTheCPU: [String] { cudnn?.convolutionsWithoutAlgorithm ?? [] }

    /// The backend on `environment`'s GPU, choosing cuDNN's algorithms by `algorithms`; with
    /// `.fastest`, the timings' choices are kept in the file at `cache` (nil: for this process only).
    init(_ environment: CUDAEnvironment, precision: Precision = .fp32, algorithms: AlgorithmChoice = .heuristic,
         cache: URL? = nil) throws {
        let device = try CUDADevice(environment)
        self.device = device
        self.algorithms = algorithms
        managed = ManagedMemory(device)
        let kept = algorithms == .heuristic ? nil : cache.map {
            AlgorithmCache(url: $0, machine: "\(environment.deviceName), compute capability \(environment.computeCapability.major)."
                           + "\(environment.computeCapability.minor), cuDNN \(environment.versions[.cudnn] ?? "?"), \(precision.rawValue)")
        }
        // Without cuDNN the convolutions run on the CPU (slow, but right): only tf32 and bf16 need it.
        var reason: String?
        do {
            cudnn = try environment.libraries[.cudnn].map { [managed] in
                try CuDNN($0, device: device, memory: managed, precision: precision, algorithms: algorithms, cache: kept)
            }
            if cudnn == nil { reason = "cuDNN did not load" }
        } catch {
            cudnn = nil
            reason = "cuDNN failed to start: \(error)"
        }
        withoutCuDNN = reason
        if let reason, precision != .fp32 {
            throw DeviceUnavailable("--precision \(precision.rawValue) needs cuDNN's convolutions (\(reason))")
        }
        self.precision = precision
    }

    /// The backend for `environment`'s GPU at `precision`, made once per process and precision
    /// (on the first environment given), choosing cuDNN's algorithms as `COMPSEG_CUDNN_ALGORITHMS`
    /// says (`AlgorithmChoice`; default fastest), kept where `COMPSEG_CUDNN_CACHE` says
    /// (`AlgorithmCache.location`).
    /// - Throws: what failed on the GPU, or `DeviceUnavailable` for an unknown choice.
    public static func make(_ environment: CUDAEnvironment, precision: Precision) throws -> any KernelBackend {
        let algorithms = try AlgorithmChoice.named()
        madeLock.lock()
        defer { madeLock.unlock() }
        if made[precision] == nil {
            made[precision] = Result {
                try CUDABackend(environment, precision: precision, algorithms: algorithms, cache: AlgorithmCache.location())
            }
        }
        return try made[precision]!.get()
    }

    /// How `make` will choose cuDNN's algorithms, for `compseg --version`.
    public static var algorithmSummary: String {
        do {
            switch try AlgorithmChoice.named() {
            case .fastest:
                guard let cache = AlgorithmCache.location() else {
                    return "fastest by cuDNN's timing, not kept (\(AlgorithmCache.variable)=off)"
                }
                return "fastest by cuDNN's timing, kept in \(cache.path)"
            case .heuristic: return "cuDNN's heuristics (\(AlgorithmChoice.variable)=heuristic)"
            }
        } catch { return "\(error)" }
    }

    private static let madeLock = NSLock()
    nonisolated(unsafe) private static var made: [Precision: Result<CUDABackend, any Error>] = [:]

    /// Runs `body` with every kernel and cuDNN call it launches timed on the GPU (two CUDA events
    /// around each), and gives the timings once the GPU has run them. Work launched before `body`
    /// is waited for first, so that it is not counted. For work launched from one thread.
    /// - Throws: what `body` throws, or when the driver cannot time launches.
    public func profiled(_ body: () throws -> Void) throws -> GPUProfile {
        try device.synchronize()
        try device.bind()
        let timer = try LaunchTimer(device.driver)
        device.timer = timer
        let ran = Result { try body() }
        device.timer = nil
        let profile = Result { try timer.profile() }  // which destroys the events, whatever body did
        try ran.get()
        return try profile.get()
    }

    /// Whether the GPU's kernels can read and write `tensors`: plain, in this backend's memory.
    private func onGPU(_ tensors: Tensor...) -> Bool {
        tensors.allSatisfy { $0.isPlain && $0.storage.memory === managed }
    }

    /// A plain tensor in this backend's memory, for a kernel to write whole.
    private func output(_ shape: Shape) -> Tensor {
        Tensor(shape: shape, layout: nil, storage: Storage(count: shape.count, zeroed: false, memory: managed))
    }

    /// Where a tensor's values lie, for a kernel or cuDNN (no waiting).
    private func pointer(_ t: Tensor) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(t.storage.pointer) }

    private func address(_ t: Tensor) -> CUDADevice.Argument { .pointer(pointer(t)) }

    // MARK: on the GPU

    public func eltwiseForward(_ x: Tensor, _ function: Eltwise) throws -> Tensor {
        guard onGPU(x) else { return try cpu.eltwiseForward(x, function) }
        let y = output(x.shape), n = x.shape.count, (op, alpha, beta) = CUDAKernels.code(function)
        try device.launch("compseg_eltwise", grid: (device.blocks(n), 1),
                          [.int32(op), .float(alpha), .float(beta), address(x), address(y), .int64(Int64(n))])
        return y
    }

    public func eltwiseBackward(_ dy: Tensor, value: Tensor, _ function: Eltwise) throws -> Tensor {
        guard onGPU(dy, value) else { return try cpu.eltwiseBackward(dy, value: value, function) }
        let dx = output(dy.shape), n = dy.shape.count, (op, alpha, beta) = CUDAKernels.code(function)
        try device.launch("compseg_eltwise_backward", grid: (device.blocks(n), 1),
                          [.int32(op), .float(alpha), .float(beta), address(value), address(dy), address(dx),
                           .int64(Int64(n))])
        return dx
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard onGPU(a, b) else { return try cpu.binary(op, a, b) }
        let y = output(a.shape), n = a.shape.count
        try device.launch("compseg_binary", grid: (device.blocks(n), 1),
                          [.int32(op == .add ? 0 : 1), address(a), address(b), address(y), .int64(Int64(n))])
        return y
    }

    public func poolingForward(_ x: Tensor, geometry g: PoolingGeometry, training: Bool) throws -> (Tensor, PoolingWorkspace?) {
        guard onGPU(x) else { return try cpu.poolingForward(x, geometry: g, training: training) }
        let (planes, h, w, oh, ow) = (x.shape.n * x.shape.c, x.shape.h, x.shape.w, g.outputSize(x.shape.h), g.outputSize(x.shape.w))
        let y = output([x.shape.n, x.shape.c, oh, ow])
        let argmax = g.kind == .max && training ? CUDAPoolingIndices(Storage(count: y.shape.count, zeroed: false, memory: managed)) : nil
        try device.launch("compseg_pool_forward", grid: device.planes(planes, of: oh * ow),
                          [address(x), address(y), .pointer(argmax.map { UnsafeMutableRawPointer($0.storage.pointer) }),
                           .int64(Int64(planes)), .int32(Int32(h)), .int32(Int32(w)), .int32(Int32(oh)), .int32(Int32(ow)),
                           .int32(Int32(g.kernel)), .int32(Int32(g.stride)), .int32(g.kind == .average ? 1 : 0)])
        return (y, argmax)
    }

    public func poolingBackward(_ dy: Tensor, workspace: PoolingWorkspace?, inputShape: Shape,
                                geometry g: PoolingGeometry) throws -> Tensor {
        guard let argmax = workspace as? CUDAPoolingIndices, g.kind == .max, onGPU(dy) else {
            return try cpu.poolingBackward(dy, workspace: workspace, inputShape: inputShape, geometry: g)
        }
        let dx = output(inputShape)
        try device.launch("compseg_max_pool_backward", grid: device.planes(inputShape.n * inputShape.c, of: inputShape.h * inputShape.w),
                          [address(dy), .pointer(UnsafeMutableRawPointer(argmax.storage.pointer)), address(dx),
                           .int64(Int64(inputShape.n * inputShape.c)), .int32(Int32(inputShape.h)), .int32(Int32(inputShape.w)),
                           .int32(Int32(dy.shape.h)), .int32(Int32(dy.shape.w)), .int32(Int32(g.kernel)), .int32(Int32(g.stride))])
        return dx
    }

    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
        guard xs.allSatisfy({ onGPU($0) }) else { return try cpu.concat(xs, axis: axis) }
        var dims = xs[0].shape.dims
        dims[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let y = output(Shape(dims))
        let rows = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *)
        var start = 0
        for x in xs {
            let width = x.shape[axis] * inner
            try copyRows(from: x, stride: width, offset: 0, to: y, stride: dims[axis] * inner, offset: start * inner,
                         rows: rows, width: width)
            start += x.shape[axis]
        }
        return y
    }

    public func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor {
        guard onGPU(x) else { return try cpu.slice(x, axis: axis, range: range) }
        var dims = x.shape.dims
        dims[axis] = range.count
        let y = output(Shape(dims))
        let rows = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *)
        try copyRows(from: x, stride: x.shape[axis] * inner, offset: range.lowerBound * inner, to: y,
                     stride: range.count * inner, offset: 0, rows: rows, width: range.count * inner)
        return y
    }

    /// Copies `rows` runs of `width` floats from `src` (one every `stride`, from `offset`) into `dst`.
    private func copyRows(from src: Tensor, stride: Int, offset: Int, to dst: Tensor, stride dstStride: Int,
                          offset dstOffset: Int, rows: Int, width: Int) throws {
        try device.launch("compseg_copy_rows", grid: device.planes(rows, of: width),
                          [address(src), .int64(Int64(stride)), .int64(Int64(offset)), address(dst), .int64(Int64(dstStride)),
                           .int64(Int64(dstOffset)), .int64(Int64(rows)), .int64(Int64(width))])
    }

    public func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, statistics: BatchStatistics?,
                                 epsilon: Float) throws -> (y: Tensor, statistics: BatchStatistics) {
        guard onGPU(x, scale, shift), statistics.map({ onGPU($0.mean, $0.variance) }) ?? true else {
            return try cpu.batchNormForward(x, scale: scale, shift: shift, statistics: statistics, epsilon: epsilon)
        }
        let (n, c, plane) = (Int64(x.shape.n), Int32(x.shape.c), Int64(x.shape.h * x.shape.w))
        let stats: BatchStatistics
        if let statistics {
            stats = statistics
        } else {
            // The mean, then the biased variance from the mean in double.
            stats = BatchStatistics(mean: output([x.shape.c]), variance: output([x.shape.c]))
            let exactMean = output([2 * x.shape.c]), count = Double(x.shape.n * x.shape.h * x.shape.w)  // doubles
            try sumChannels(x, dividedBy: count, into: stats.mean, exact: exactMean)
            try sumChannels(x, center: exactMean, dividedBy: count, into: stats.variance)
        }
        let y = output(x.shape)
        try device.launch("compseg_batch_norm", grid: device.planes(x.shape.n * x.shape.c, of: x.shape.h * x.shape.w),
                          [address(x), address(stats.mean), address(stats.variance), address(scale), address(shift),
                           .float(epsilon), address(y), .int64(n), .int32(c), .int64(plane)])
        return (y, stats)
    }

    public func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics, frozen: Bool,
                                  epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        guard onGPU(dy, x, scale, statistics.mean, statistics.variance) else {
            return try cpu.batchNormBackward(dy, x: x, scale: scale, statistics: statistics, frozen: frozen, epsilon: epsilon)
        }
        let (n, c, plane) = (Int64(x.shape.n), Int32(x.shape.c), Int64(x.shape.h * x.shape.w))
        let dscale = output([x.shape.c]), dshift = output([x.shape.c]), dx = output(x.shape)
        let sums = ChannelSums(x.shape, count: 2, memory: managed)
        try device.launch("compseg_batch_norm_partials", grid: sums.grid,
                          [address(dy), address(x), address(statistics.mean), address(statistics.variance), .float(epsilon),
                           .int64(n), .int32(c), .int64(plane), .int32(Int32(sums.parts)), address(sums.partials[0]),
                           address(sums.partials[1])])
        try total(sums, 0, dividedBy: 1, into: dshift, exact: nil)
        try total(sums, 1, dividedBy: 1, into: dscale, exact: nil)
        try device.launch("compseg_batch_norm_backward", grid: device.planes(x.shape.n * x.shape.c, of: x.shape.h * x.shape.w),
                          [address(dy), address(x), address(statistics.mean), address(statistics.variance), address(scale),
                           address(dshift), address(dscale), .float(epsilon), .int32(frozen ? 1 : 0), .int64(n), .int32(c),
                           .int64(plane), address(dx)])
        return (dx, dscale, dshift)
    }

    /// How per-channel sums of an N×C×H×W tensor spread over the GPU: each image's plane of a
    /// channel in `parts` pieces, a block each (`grid`: x the image's piece, y the channel), whose
    /// sums (`count` of them, in double: `partials`, each `per` a channel) `total` adds up.
    private struct ChannelSums {
        let parts: Int, per: Int, grid: (x: Int, y: Int)
        let partials: [Tensor]

        init(_ shape: Shape, count: Int, memory: ManagedMemory) {
            parts = max(1, min(64, shape.h * shape.w / 2048))  // about 2048 values a block: 8 a thread
            per = shape.n * parts
            grid = (per, shape.c)
            let doubles = shape.c * per
            partials = (0..<count).map { _ in
                Tensor(shape: [2 * doubles], layout: nil, storage: Storage(count: 2 * doubles, zeroed: false, memory: memory))
            }
        }
    }

    /// out[c] = Σ over n, h, w of x[n, c, h, w] (minus center[c], squared, where given: doubles, as
    /// `exact` holds them) / divisor, summed in double over the GPU (`compseg_channel_partials`)
    /// and then per channel in a fixed order; in double into `exact` (2·C floats) where given.
    private func sumChannels(_ x: Tensor, center: Tensor? = nil, dividedBy divisor: Double = 1, into out: Tensor,
                             exact: Tensor? = nil) throws {
        let sums = ChannelSums(x.shape, count: 1, memory: managed)
        try device.launch("compseg_channel_partials", grid: sums.grid,
                          [address(x), .pointer(center.map(pointer)), .int64(Int64(x.shape.n)), .int32(Int32(x.shape.c)),
                           .int64(Int64(x.shape.h * x.shape.w)), .int32(Int32(sums.parts)), address(sums.partials[0])])
        try total(sums, 0, dividedBy: divisor, into: out, exact: exact)
    }

    /// out[c] = Σ of channel c's partials `k` of `sums` / divisor (float; in double into `exact`,
    /// 2·C floats, where given), added in a fixed order.
    private func total(_ sums: ChannelSums, _ k: Int, dividedBy divisor: Double, into out: Tensor, exact: Tensor?) throws {
        try device.launch("compseg_channel_totals", grid: (sums.grid.y, 1),
                          [address(sums.partials[k]), .int64(Int64(sums.per)), .double(divisor),
                           .pointer(exact.map(pointer)), address(out)])
    }

    // MARK: layouts: plain, or the CPU backend's for the tensors of the ops it runs

    public func reorder(_ x: Tensor, to layout: TensorLayout?) -> Tensor { cpu.reorder(x, to: layout) }

    // MARK: convolutions: cuDNN on plain tensors in managed memory, else the CPU backend

    public func convolutionInputLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                       epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        guard cudnn == nil else { return nil }
        return try cpu.convolutionInputLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }

    public func convolutionWeightLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                        epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        guard cudnn == nil else { return nil }
        return try cpu.convolutionWeightLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }

    /// The direct convolution cuDNN runs for this one: itself, or for a transposed convolution the
    /// direct one whose input has the transposed one's output shape (its weight I×O×kH×kW is then
    /// the direct one's K×C×kH×kW), with `kind` the cuDNN call that computes what is asked for.
    static func problem(_ kind: CuDNN.Problem.Kind, input: Shape, weight: Shape, output: Shape,
                        geometry g: ConvolutionGeometry) -> CuDNN.Problem {
        let (directInput, directOutput) = g.transposed ? (output, input) : (input, output)
        let directKind: CuDNN.Problem.Kind = switch (kind, g.transposed) {
        case (_, false): kind
        case (.forward, true): .backwardData
        case (.backwardData, true): .forward
        case (.backwardFilter, true): .backwardFilter
        }
        return CuDNN.Problem(kind: directKind, input: directInput, filter: weight, output: directOutput,
                             paddingH: g.paddingH, paddingW: g.paddingW, strideH: g.strideH, strideW: g.strideW)
    }

    public func convolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry,
                                   epilogue: ConvolutionEpilogue) throws -> Tensor {
        guard let cudnn, onGPU(x, weight), bias.map({ onGPU($0) }) ?? true else {
            return try cpu.convolutionForward(x, weight: weight, bias: bias, geometry: g, epilogue: epilogue)
        }
        let w = weight.shape
        let y = output(g.outputShape(input: x.shape, weight: w))
        let p = Self.problem(.forward, input: x.shape, weight: w, output: y.shape, geometry: g)
        // Transposed: cuDNN's backward data of the direct convolution, from the weight and x (its "dy").
        let (a, b) = g.transposed ? (weight.storage, x.storage) : (x.storage, weight.storage)
        guard try cudnn.convolve(p, a, b, into: y.storage, bias: bias.map { UnsafeRawPointer(pointer($0)) },
                                 activation: epilogue.activation) else {
            return try cpu.convolutionForward(x, weight: weight, bias: bias, geometry: g, epilogue: epilogue)
        }
        return y
    }

    public func convolutionBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape,
                                        geometry g: ConvolutionGeometry) throws -> Tensor {
        guard let cudnn, onGPU(dy, weight) else {
            return try cpu.convolutionBackwardData(dy, weight: weight, inputShape: inputShape, geometry: g)
        }
        let dx = output(inputShape)
        let p = Self.problem(.backwardData, input: inputShape, weight: weight.shape, output: dy.shape, geometry: g)
        // Transposed: the direct convolution's forward of dy.
        let (a, b) = g.transposed ? (dy.storage, weight.storage) : (weight.storage, dy.storage)
        guard try cudnn.convolve(p, a, b, into: dx.storage) else {
            return try cpu.convolutionBackwardData(dy, weight: weight, inputShape: inputShape, geometry: g)
        }
        return dx
    }

    public func convolutionBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                           withBias: Bool, geometry g: ConvolutionGeometry) throws -> (weight: Tensor, bias: Tensor?) {
        guard let cudnn, weightLayout == nil, onGPU(dy, input) else {
            return try cpu.convolutionBackwardWeights(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                                      withBias: withBias, geometry: g)
        }
        let dw = output(weightShape)
        let p = Self.problem(.backwardFilter, input: input.shape, weight: weightShape, output: dy.shape, geometry: g)
        // Transposed: the direct convolution's input is dy, its output gradient x.
        let (a, b) = g.transposed ? (dy.storage, input.storage) : (input.storage, dy.storage)
        guard try cudnn.convolve(p, a, b, into: dw.storage) else {
            return try cpu.convolutionBackwardWeights(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                                      withBias: withBias, geometry: g)
        }
        let db = withBias ? output([dy.shape.c]) : nil
        if let db { try sumChannels(dy, into: db) }  // not cuDNN's bias gradient, which read about 330 GB/s on an H200
        return (dw, db)
    }
}

/// Max pooling's argmax on the GPU: each output's position in its input plane, as Int32.
final class CUDAPoolingIndices: PoolingWorkspace, @unchecked Sendable {
    let storage: Storage
    init(_ storage: Storage) { self.storage = storage }
}

extension CUDABackend: DeviceKernels {
    public func update(_ rule: OptimizerRule, value: Tensor, gradient: Tensor, state: Tensor) throws -> Bool {
        guard onGPU(value, gradient, state) else { return false }
        let n = Int64(value.shape.count), grid = (device.blocks(value.shape.count), 1)
        let (p, g, s) = (address(value), address(gradient), address(state))
        switch rule {
        case let .rmsprop(alpha, lr, epsilon, decay, centered, momentum):
            try device.launch("compseg_rmsprop", grid: grid, [p, g, s, .int64(n), .float(alpha), .float(lr), .float(epsilon),
                                                              .float(decay), .int32(centered ? 1 : 0), .float(momentum)])
        case let .adam(beta1, beta2, stepSize, correction, epsilon, decay):
            try device.launch("compseg_adam", grid: grid, [p, g, s, .int64(n), .float(beta1), .float(beta2), .float(stepSize),
                                                           .float(correction), .float(epsilon), .float(decay)])
        case let .sgd(lr, momentum, dampening, nesterov, decay, step):
            try device.launch("compseg_sgd", grid: grid, [p, g, s, .int64(n), .float(lr), .float(momentum), .float(dampening),
                                                          .int32(nesterov ? 1 : 0), .float(decay), .int32(Int32(step))])
        }
        return true
    }

    public func maskedMean(_ a: Tensor, mask: Tensor) throws -> (means: Tensor, totals: Tensor)? {
        guard onGPU(a, mask) else { return nil }
        let n = a.shape.n, means = output([n]), totals = output([n])
        try device.launch("compseg_masked_mean", grid: (n, 1),
                          [address(a), address(mask), .int64(Int64(a.shape.count / n)), address(means), address(totals)])
        return (means, totals)
    }

    public func maskedMeanBackward(_ dmeans: Tensor, mask: Tensor, totals: Tensor) throws -> Tensor {
        let dy = dmeans.storage.memory === managed ? dmeans.plain() : dmeans.copy()
        let n = mask.shape.n, pixels = mask.shape.count / n, da = output(mask.shape)
        try device.launch("compseg_masked_mean_backward", grid: (min(device.blocks(pixels), 1024), n),
                          [address(dy), address(mask), address(totals), .int64(Int64(pixels)), address(da)])
        return da
    }

    public func stack(_ tensors: [Tensor], views: [PlaneView]) throws -> Tensor? {
        guard tensors.allSatisfy({ onGPU($0) }) else { return nil }
        let shape = tensors[0].shape, n = shape.count, (h, w) = (shape[shape.rank - 2], shape[shape.rank - 1])
        let y = output(Shape([tensors.count] + shape.dims))
        for (k, (t, view)) in zip(tensors, views).enumerated() {
            try device.launch("compseg_plane_view", grid: device.planes(n / (h * w), of: h * w),
                              [address(t), .pointer(pointer(y) + k * n * MemoryLayout<Float>.stride),
                               .int64(Int64(n / (h * w))), .int32(Int32(h)), .int32(Int32(w)), .int32(Int32(view.code))])
        }
        return y
    }

    public func maskedRange(_ a: Tensor, mask: Tensor) throws -> Tensor? {
        guard onGPU(a, mask) else { return nil }
        let n = a.shape.n, range = output([n, 2])
        try device.launch("compseg_masked_range", grid: (n, 1),
                          [address(a), address(mask), .int64(Int64(a.shape.count / n)), address(range)])
        return range
    }

    public func blend(_ running: Tensor, toward batch: Tensor, momentum: Float, factor: Float) throws -> Bool {
        guard onGPU(running, batch) else { return false }
        let n = running.shape.count
        try device.launch("compseg_blend", grid: (device.blocks(n), 1),
                          [address(running), address(batch), .int64(Int64(n)), .float(momentum), .float(factor)])
        return true
    }
}
