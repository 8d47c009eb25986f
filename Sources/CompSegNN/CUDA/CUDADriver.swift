/// The CUDA driver's functions that compseg calls (the driver API of libcuda.so.1, resolved at
/// run time): device queries, the primary context, memory, modules and kernel launches.
final class CUDADriver: @unchecked Sendable {
    typealias IntOut = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias Pointer = OpaquePointer
    let initialize: @convention(c) (UInt32) -> Int32
    let driverVersion: IntOut
    let deviceCount: IntOut
    let device: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    let deviceName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
    let totalMemory: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Int32
    let attribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
    let primaryContext: @convention(c) (UnsafeMutablePointer<Pointer?>, Int32) -> Int32
    let releasePrimaryContext: @convention(c) (Int32) -> Int32
    let setContext: @convention(c) (Pointer?) -> Int32
    let currentContext: @convention(c) (UnsafeMutablePointer<Pointer?>) -> Int32
    let loadModule: @convention(c) (UnsafeMutablePointer<Pointer?>, UnsafeRawPointer) -> Int32
    let unloadModule: @convention(c) (Pointer?) -> Int32
    let function: @convention(c) (UnsafeMutablePointer<Pointer?>, Pointer?, UnsafePointer<CChar>) -> Int32
    let allocate: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Int32
    /// cuMemAllocManaged(pointer, bytes, flags): memory the GPU and the host both address.
    let allocateManaged: @convention(c) (UnsafeMutablePointer<UInt64>, Int, UInt32) -> Int32
    let free: @convention(c) (UInt64) -> Int32
    let copyToDevice: @convention(c) (UInt64, UnsafeRawPointer, Int) -> Int32
    let copyToHost: @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Int32
    let launch: @convention(c) (Pointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Pointer?,
                                UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    let synchronize: @convention(c) () -> Int32
    let errorString: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32
    /// CUDA events, for timing launches on the GPU (`GPUProfile`); nil where the driver lacks them.
    let events: Events?

    /// cuEventCreate, cuEventRecord (on the default stream), cuEventSynchronize, cuEventElapsedTime
    /// (its `_v2` where the driver has it, as CUDA 13's header names it) and cuEventDestroy_v2.
    struct Events {
        let create: @convention(c) (UnsafeMutablePointer<Pointer?>, UInt32) -> Int32
        let record: @convention(c) (Pointer?, Pointer?) -> Int32
        let synchronize: @convention(c) (Pointer?) -> Int32
        let elapsed: @convention(c) (UnsafeMutablePointer<Float>, Pointer?, Pointer?) -> Int32
        let destroy: @convention(c) (Pointer?) -> Int32

        init(_ lib: LoadedLibrary) throws(CUDAUnavailable) {
            create = try lib.function("cuEventCreate", as: type(of: create))
            record = try lib.function("cuEventRecord", as: type(of: record))
            synchronize = try lib.function("cuEventSynchronize", as: type(of: synchronize))
            if let v2 = try? lib.function("cuEventElapsedTime_v2", as: type(of: elapsed)) {
                elapsed = v2
            } else {
                elapsed = try lib.function("cuEventElapsedTime", as: type(of: elapsed))
            }
            destroy = try lib.function("cuEventDestroy_v2", as: type(of: destroy))
        }
    }

    init(_ lib: LoadedLibrary) throws(CUDAUnavailable) {
        initialize = try lib.function("cuInit", as: type(of: initialize))
        driverVersion = try lib.function("cuDriverGetVersion", as: IntOut.self)
        deviceCount = try lib.function("cuDeviceGetCount", as: IntOut.self)
        device = try lib.function("cuDeviceGet", as: type(of: device))
        deviceName = try lib.function("cuDeviceGetName", as: type(of: deviceName))
        totalMemory = try lib.function("cuDeviceTotalMem_v2", as: type(of: totalMemory))
        attribute = try lib.function("cuDeviceGetAttribute", as: type(of: attribute))
        primaryContext = try lib.function("cuDevicePrimaryCtxRetain", as: type(of: primaryContext))
        releasePrimaryContext = try lib.function("cuDevicePrimaryCtxRelease_v2", as: type(of: releasePrimaryContext))
        setContext = try lib.function("cuCtxSetCurrent", as: type(of: setContext))
        currentContext = try lib.function("cuCtxGetCurrent", as: type(of: currentContext))
        loadModule = try lib.function("cuModuleLoadData", as: type(of: loadModule))
        unloadModule = try lib.function("cuModuleUnload", as: type(of: unloadModule))
        function = try lib.function("cuModuleGetFunction", as: type(of: function))
        allocate = try lib.function("cuMemAlloc_v2", as: type(of: allocate))
        allocateManaged = try lib.function("cuMemAllocManaged", as: type(of: allocateManaged))
        free = try lib.function("cuMemFree_v2", as: type(of: free))
        copyToDevice = try lib.function("cuMemcpyHtoD_v2", as: type(of: copyToDevice))
        copyToHost = try lib.function("cuMemcpyDtoH_v2", as: type(of: copyToHost))
        launch = try lib.function("cuLaunchKernel", as: type(of: launch))
        synchronize = try lib.function("cuCtxSynchronize", as: type(of: synchronize))
        errorString = try lib.function("cuGetErrorString", as: type(of: errorString))
        events = try? Events(lib)
    }

    /// CUDA_ERROR_OUT_OF_MEMORY.
    static let outOfMemory: Int32 = 2

    /// Throws the driver's own words for a failed call.
    func check(_ result: Int32, _ call: String) throws(CUDAUnavailable) {
        guard result != 0 else { return }
        var text: UnsafePointer<CChar>?
        _ = errorString(result, &text)
        throw CUDAUnavailable("\(call) failed: \(text.map { String(cString: $0) } ?? "CUDA error \(result)")")
    }

    /// The kernel the self-test runs: y ← a·x + y.
    static let selfTestSource = """
        extern "C" __global__ void compseg_axpy(float a, const float *x, float *y, int n) {
            for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = a * x[i] + y[i];
        }
        """

    /// Compiles a small kernel with NVRTC for `device`, runs it on 1000 values and checks them:
    /// the path every kernel of a CUDA backend takes.
    func selfTest(device: Int32, nvrtc: NVRTC, architecture: (major: Int, minor: Int)) throws -> Void {
        var context: Pointer?, caller: Pointer?
        try check(currentContext(&caller), "cuCtxGetCurrent")
        try check(primaryContext(&context, device), "cuDevicePrimaryCtxRetain")
        // Released last (defers run in reverse), after the module and buffers it holds; the
        // caller's current context comes back.
        defer { _ = setContext(caller); _ = releasePrimaryContext(device) }
        try check(setContext(context), "cuCtxSetCurrent")
        let cubin = try nvrtc.cubin(Self.selfTestSource, name: "compseg_axpy.cu", architecture: architecture)
        var module: Pointer?
        try check(cubin.withUnsafeBytes { loadModule(&module, $0.baseAddress!) }, "cuModuleLoadData")
        defer { _ = unloadModule(module) }
        var kernel: Pointer?
        try check(function(&kernel, module, "compseg_axpy"), "cuModuleGetFunction")

        let n: Int32 = 1000, a: Float = 2
        let x = (0..<Int(n)).map { Float($0) }, y = (0..<Int(n)).map { Float($0) * 0.5 }
        let bytes = Int(n) * MemoryLayout<Float>.stride
        var dx: UInt64 = 0, dy: UInt64 = 0
        try check(allocate(&dx, bytes), "cuMemAlloc")
        defer { _ = free(dx) }
        try check(allocate(&dy, bytes), "cuMemAlloc")
        defer { _ = free(dy) }
        try check(copyToDevice(dx, x, bytes), "cuMemcpyHtoD")
        try check(copyToDevice(dy, y, bytes), "cuMemcpyHtoD")
        // cuLaunchKernel takes a pointer to each argument's value.
        let values = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        defer { values.deallocate() }
        values.storeBytes(of: a, toByteOffset: 0, as: Float.self)
        values.storeBytes(of: dx, toByteOffset: 8, as: UInt64.self)
        values.storeBytes(of: dy, toByteOffset: 16, as: UInt64.self)
        values.storeBytes(of: n, toByteOffset: 24, as: Int32.self)
        var arguments: [UnsafeMutableRawPointer?] = [values, values + 8, values + 16, values + 24]
        try check(launch(kernel, UInt32((Int(n) + 255) / 256), 1, 1, 256, 1, 1, 0, nil, &arguments, nil), "cuLaunchKernel")
        try check(synchronize(), "cuCtxSynchronize")
        var result = [Float](repeating: 0, count: Int(n))
        try check(result.withUnsafeMutableBytes { copyToHost($0.baseAddress!, dy, bytes) }, "cuMemcpyDtoH")
        if let i = result.indices.first(where: { result[$0] != 2 * x[$0] + y[$0] }) {
            throw CUDAError("compseg_axpy gave \(result[i]) at \(i), expected \(2 * x[i] + y[i])")
        }
    }
}
