import Foundation

/// The engine's ops on an NVIDIA GPU (issue 22), first stage: every tensor lives in managed memory
/// (`ManagedMemory`); element-wise functions, binary ops, pooling, concat, slice and batch norm on
/// plain tensors run as `CUDAKernels` on the GPU, while the convolutions, and any op given a tensor
/// in the CPU backend's layout, run on the CPU backend over the same memory (the host waits for the
/// GPU before it reads). So each op is correct from the start and moves to the GPU (cuDNN's
/// convolutions next) one by one, checked by `BackendAgreement`.
///
/// Status: compiled everywhere, its kernels compiled by NVRTC in the tests where NVRTC is found;
/// not yet run on a GPU. fp32 only until the convolutions move to cuDNN.
public final class CUDABackend: KernelBackend, @unchecked Sendable {
    let device: CUDADevice
    private let managed: ManagedMemory
    private let cpu = CPUBackend.shared

    public var name: String { "cuda (\(device.environment.deviceName))" }
    public var memory: any TensorMemory { managed }

    init(_ environment: CUDAEnvironment) throws {
        device = try CUDADevice(environment)
        managed = ManagedMemory(device)
    }

    /// The backend for `environment`'s GPU at `precision`, made once per process (on the first
    /// environment given).
    /// - Throws: `DeviceUnavailable` for a precision other than fp32, or what failed on the GPU.
    public static func make(_ environment: CUDAEnvironment, precision: Precision) throws -> any KernelBackend {
        guard precision == .fp32 else {
            throw DeviceUnavailable("its backend computes in fp32 only so far (--precision \(precision.rawValue) "
                                    + "comes with cuDNN's convolutions); leave --precision out")
        }
        madeLock.lock()
        defer { madeLock.unlock() }
        if made == nil { made = Result { try CUDABackend(environment) } }
        return try made!.get()
    }

    private static let madeLock = NSLock()
    nonisolated(unsafe) private static var made: Result<CUDABackend, any Error>?

    /// Whether the GPU's kernels can read and write `tensors`: plain, in this backend's memory.
    private func onGPU(_ tensors: Tensor...) -> Bool {
        tensors.allSatisfy { $0.isPlain && $0.storage.memory === managed }
    }

    /// A plain tensor in this backend's memory, for a kernel to write whole.
    private func output(_ shape: Shape) -> Tensor {
        Tensor(shape: shape, layout: nil, storage: Storage(count: shape.count, zeroed: false, memory: managed))
    }

    private func address(_ t: Tensor) -> CUDADevice.Argument { .pointer(UnsafeMutableRawPointer(t.storage.pointer)) }

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
        try device.launch("compseg_pool_forward", grid: (device.blocks(y.shape.count), 1),
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
        try device.launch("compseg_max_pool_backward", grid: (device.blocks(inputShape.count), 1),
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
        try device.launch("compseg_copy_rows", grid: (device.blocks(rows * width), 1),
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
            stats = BatchStatistics(mean: output([x.shape.c]), variance: output([x.shape.c]))
            try device.launch("compseg_channel_statistics", grid: (x.shape.c, 1),
                              [address(x), .int64(n), .int32(c), .int64(plane), address(stats.mean), address(stats.variance)])
        }
        let y = output(x.shape)
        try device.launch("compseg_batch_norm", grid: (device.blocks(x.shape.count), 1),
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
        try device.launch("compseg_batch_norm_sums", grid: (x.shape.c, 1),
                          [address(dy), address(x), address(statistics.mean), address(statistics.variance), .float(epsilon),
                           .int64(n), .int32(c), .int64(plane), address(dshift), address(dscale)])
        try device.launch("compseg_batch_norm_backward", grid: (device.blocks(x.shape.count), 1),
                          [address(dy), address(x), address(statistics.mean), address(statistics.variance), address(scale),
                           address(dshift), address(dscale), .float(epsilon), .int32(frozen ? 1 : 0), .int64(n), .int32(c),
                           .int64(plane), address(dx)])
        return (dx, dscale, dshift)
    }

    // MARK: on the CPU, over managed memory (the CPU backend's layouts)

    public func reorder(_ x: Tensor, to layout: TensorLayout?) -> Tensor { cpu.reorder(x, to: layout) }

    public func convolutionInputLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                       epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        try cpu.convolutionInputLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }

    public func convolutionWeightLayout(_ input: Shape, weightShape: Shape, withBias: Bool, geometry: ConvolutionGeometry,
                                        epilogue: ConvolutionEpilogue) throws -> TensorLayout? {
        try cpu.convolutionWeightLayout(input, weightShape: weightShape, withBias: withBias, geometry: geometry, epilogue: epilogue)
    }

    public func convolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                   epilogue: ConvolutionEpilogue) throws -> Tensor {
        try cpu.convolutionForward(x, weight: weight, bias: bias, geometry: geometry, epilogue: epilogue)
    }

    public func convolutionBackwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape,
                                        geometry: ConvolutionGeometry) throws -> Tensor {
        try cpu.convolutionBackwardData(dy, weight: weight, inputShape: inputShape, geometry: geometry)
    }

    public func convolutionBackwardWeights(_ dy: Tensor, input: Tensor, weightShape: Shape, weightLayout: TensorLayout?,
                                           withBias: Bool, geometry: ConvolutionGeometry) throws -> (weight: Tensor, bias: Tensor?) {
        try cpu.convolutionBackwardWeights(dy, input: input, weightShape: weightShape, weightLayout: weightLayout,
                                           withBias: withBias, geometry: geometry)
    }
}

/// Max pooling's argmax on the GPU: each output's position in its input plane, as Int32.
final class CUDAPoolingIndices: PoolingWorkspace, @unchecked Sendable {
    let storage: Storage
    init(_ storage: Storage) { self.storage = storage }
}
