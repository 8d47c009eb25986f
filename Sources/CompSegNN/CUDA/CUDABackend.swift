/// The engine's ops on an NVIDIA GPU (issue 22), first stage: every tensor lives in managed memory
/// (`ManagedMemory`), element-wise functions and binary ops on plain tensors run as `CUDAKernels`
/// on the GPU, and every other op runs on the CPU backend over the same memory (the host waits for
/// the GPU before it reads). So each op is correct from the start and moves to the GPU (cuDNN for
/// convolution, pooling and batch norm) one by one, checked by `BackendAgreement` on the GPU.
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

    /// The backend for `environment`'s GPU at `precision`, made once per process.
    /// - Throws: `DeviceUnavailable` for a precision other than fp32, or what failed on the GPU.
    public static func make(_ environment: CUDAEnvironment, precision: Precision) throws -> any KernelBackend {
        guard precision == .fp32 else {
            throw DeviceUnavailable("its backend computes in fp32 only so far (--precision \(precision.rawValue) "
                                    + "comes with cuDNN's convolutions); leave --precision out")
        }
        return try shared.get()
    }

    private static let shared = Result<CUDABackend, any Error> {
        try CUDABackend(CUDAEnvironment.current.get())
    }

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

    public func poolingForward(_ x: Tensor, geometry: PoolingGeometry, training: Bool) throws -> (Tensor, PoolingWorkspace?) {
        try cpu.poolingForward(x, geometry: geometry, training: training)
    }

    public func poolingBackward(_ dy: Tensor, workspace: PoolingWorkspace?, inputShape: Shape,
                                geometry: PoolingGeometry) throws -> Tensor {
        try cpu.poolingBackward(dy, workspace: workspace, inputShape: inputShape, geometry: geometry)
    }

    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor { try cpu.concat(xs, axis: axis) }

    public func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor { try cpu.slice(x, axis: axis, range: range) }

    public func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, statistics: BatchStatistics?,
                                 epsilon: Float) throws -> (y: Tensor, statistics: BatchStatistics) {
        try cpu.batchNormForward(x, scale: scale, shift: shift, statistics: statistics, epsilon: epsilon)
    }

    public func batchNormBackward(_ dy: Tensor, x: Tensor, scale: Tensor, statistics: BatchStatistics, frozen: Bool,
                                  epsilon: Float) throws -> (dx: Tensor, dscale: Tensor, dshift: Tensor) {
        try cpu.batchNormBackward(dy, x: x, scale: scale, statistics: statistics, frozen: frozen, epsilon: epsilon)
    }
}
