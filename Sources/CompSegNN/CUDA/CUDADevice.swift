import Foundation

/// One GPU as the CUDA backend uses it: its primary context, the module of `CUDAKernels` compiled
/// for it, launches on the default stream, and whether launched work may still be running.
final class CUDADevice: @unchecked Sendable {
    let driver: CUDADriver
    let environment: CUDAEnvironment
    private let context: CUDADriver.Pointer?
    private var module: CUDADriver.Pointer?
    private var functions: [String: CUDADriver.Pointer] = [:]
    private let lock = NSLock()
    /// Launches so far, and how many of them a finished synchronization covered.
    private var launches = 0, finished = 0

    /// Retains the GPU's primary context and compiles and loads the backend's kernels.
    init(_ environment: CUDAEnvironment) throws {
        self.environment = environment
        driver = try CUDADriver(environment.libraries[.driver]!)
        var device: Int32 = 0, context: CUDADriver.Pointer?
        try driver.check(driver.device(&device, 0), "cuDeviceGet")
        try driver.check(driver.primaryContext(&context, device), "cuDevicePrimaryCtxRetain")
        self.context = context
        try driver.check(driver.setContext(context), "cuCtxSetCurrent")
        // Host loops read tensors between kernels: managed memory the host may touch while other
        // kernels run (Linux, Pascal and newer) is what this backend is built on.
        for (attribute, what) in [(83, "managed memory"), (89, "concurrent managed access")] {
            var value: Int32 = 0
            try driver.check(driver.attribute(&value, Int32(attribute), device), "cuDeviceGetAttribute(\(attribute))")
            guard value == 1 else { throw CUDAUnavailable("\(environment.deviceName) lacks \(what), which compseg's CUDA backend needs") }
        }
        let cubin = try NVRTC(environment.libraries[.nvrtc]!)
            .cubin(CUDAKernels.source, name: "compseg_kernels.cu", architecture: environment.computeCapability)
        var module: CUDADriver.Pointer?
        try driver.check(cubin.withUnsafeBytes { driver.loadModule(&module, $0.baseAddress!) }, "cuModuleLoadData")
        self.module = module
    }

    /// Unloads the kernels and releases the context, once the GPU is done (the memory and cuDNN,
    /// which hold this, are released first).
    deinit {
        try? synchronize()
        try? bind()
        if module != nil { _ = driver.unloadModule(module) }
        if context != nil { _ = driver.releasePrimaryContext(0) }
    }

    /// Makes the context current on the calling thread (a context is current per thread, and ops,
    /// frees and the loader's tensors come from several).
    func bind() throws(CUDAUnavailable) { try driver.check(driver.setContext(context), "cuCtxSetCurrent") }

    /// Waits for every launched kernel and cuDNN call; throws what failed among them.
    /// The lock is not held while waiting, so that other threads launch meanwhile.
    func synchronize() throws(CUDAUnavailable) {
        let covered = lock.withLock { launches > finished ? launches : nil }
        guard let covered else { return }
        Counters.addHostWait()
        try bind()
        try driver.check(driver.synchronize(), "cuCtxSynchronize")  // waits for every launch made before it
        lock.withLock { finished = max(finished, covered) }
    }

    /// Runs `enqueue`, which launches work on the default stream (a kernel, a cuDNN call), and
    /// notes it for the next `synchronize`; while a profile is taken (`timer`), timed as `name`.
    func launching<T>(_ name: @autoclosure () -> String, _ enqueue: () throws(CUDAUnavailable) -> T) throws(CUDAUnavailable) -> T {
        defer {
            Counters.addGPULaunch()
            lock.withLock { launches += 1 }
        }
        guard let timer = lock.withLock({ timerSet }) else { return try enqueue() }
        return try timer.around(name(), enqueue)
    }

    /// Times every launch while set (`CUDABackend.profiled`).
    var timer: LaunchTimer? {
        get { lock.withLock { timerSet } }
        set { lock.withLock { timerSet = newValue } }
    }
    private var timerSet: LaunchTimer?

    /// A kernel argument, as `cuLaunchKernel` reads it: the value's bytes.
    enum Argument {
        case int32(Int32), int64(Int64), float(Float), double(Double), pointer(UnsafeMutableRawPointer?)

        /// What a kernel's parameter must be for this argument: `cuLaunchKernel` copies as many
        /// bytes as the parameter has, whatever was stored.
        enum Kind: String { case int32 = "int", int64 = "long long", float, double, pointer }
        var kind: Kind {
            switch self {
            case .int32: .int32
            case .int64: .int64
            case .float: .float
            case .double: .double
            case .pointer: .pointer
            }
        }
    }

    /// Launches `kernel` of `CUDAKernels` over `grid` blocks of `CUDAKernels.blockSize` threads.
    /// - Throws: when `arguments` do not match the kernel's parameters in number and kind (a
    ///   mismatch would pass the kernel wrong bytes), or what the driver says.
    func launch(_ kernel: String, grid: (x: Int, y: Int) = (1, 1), _ arguments: [Argument]) throws(CUDAUnavailable) {
        guard let parameters = CUDAKernels.parameters[kernel] else { throw CUDAUnavailable("no kernel \(kernel) in CUDAKernels") }
        let kinds = arguments.map(\.kind)
        guard parameters == kinds else {
            throw CUDAUnavailable("\(kernel) takes (\(parameters.map { $0?.rawValue ?? "?" }.joined(separator: ", "))) "
                                  + "but was launched with (\(kinds.map(\.rawValue).joined(separator: ", ")))")
        }
        try bind()
        let function = try self.function(kernel)
        let values = UnsafeMutableRawPointer.allocate(byteCount: 8 * max(arguments.count, 1), alignment: 8)
        defer { values.deallocate() }
        var slots: [UnsafeMutableRawPointer?] = []
        for (k, argument) in arguments.enumerated() {
            let slot = values + 8 * k
            switch argument {
            case .int32(let v): slot.storeBytes(of: v, as: Int32.self)
            case .int64(let v): slot.storeBytes(of: v, as: Int64.self)
            case .float(let v): slot.storeBytes(of: v, as: Float.self)
            case .double(let v): slot.storeBytes(of: v, as: Double.self)
            case .pointer(let v): slot.storeBytes(of: v, as: UnsafeMutableRawPointer?.self)
            }
            slots.append(slot)
        }
        let status = try launching(kernel) {
            driver.launch(function, UInt32(grid.x), UInt32(grid.y), 1, UInt32(CUDAKernels.blockSize), 1, 1, 0, nil, &slots, nil)
        }
        try driver.check(status, "cuLaunchKernel(\(kernel))")
    }

    /// Blocks for an element-wise kernel over `n` values: enough to fill the GPU, each thread
    /// looping over the rest (`FOR_EACH`).
    func blocks(_ n: Int) -> Int { max(1, min((n + CUDAKernels.blockSize - 1) / CUDAKernels.blockSize, 65_535)) }

    /// The grid of a kernel that runs over `count` planes of `plane` values (`FOR_EACH_PLANE`):
    /// about 8 values a thread along a plane (one a thread ran slower on an H200 than the flat loop).
    func planes(_ count: Int, of plane: Int) -> (x: Int, y: Int) {
        (blocks((plane + 7) / 8), max(1, min(count, 65_535)))
    }

    private func function(_ name: String) throws(CUDAUnavailable) -> CUDADriver.Pointer {
        lock.lock()
        defer { lock.unlock() }
        if let f = functions[name] { return f }
        var f: CUDADriver.Pointer?
        try driver.check(driver.function(&f, module, name), "cuModuleGetFunction(\(name))")
        functions[name] = f!
        return f!
    }
}

/// Managed memory (`cuMemAllocManaged`): the GPU's kernels and the host's loops address the same
/// pointers, so ops not yet on the GPU run on the CPU over it unchanged; `Storage.base` waits for
/// the GPU first. Freed buffers are kept for reuse (`IdleBuffers`, up to half the GPU's memory),
/// since allocating managed memory costs far more than a kernel.
final class ManagedMemory: TensorMemory, @unchecked Sendable {
    let device: CUDADevice
    /// Freed buffers kept for reuse, up to half the GPU's memory: a training step frees and takes
    /// the same sizes again (at the paper's scale several GiB a step), and each buffer freed past
    /// the cap costs a wait for the GPU and `cuMemFree`.
    private let idle: IdleBuffers

    init(_ device: CUDADevice) {
        self.device = device
        idle = IdleBuffers(capacityBytes: max(device.environment.memoryBytes / 2, 1 << 30))
    }

    /// Frees the kept buffers (every tensor in this memory is gone: each holds it).
    deinit { _ = try? freeKept() }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let p = idle.take(count) { return p }
        var address: UInt64 = 0
        do {
            try device.bind()
            let bytes = IdleBuffers.bytes(count)
            try device.driver.check(releasingKept { device.driver.allocateManaged(&address, bytes, 1) }, "cuMemAllocManaged")
        } catch {  // as the host pool does when the system refuses memory
            fatalError("CompSegNN: GPU out of memory allocating \(IdleBuffers.bytes(count)) bytes: \(error)")
        }
        return UnsafeMutablePointer(bitPattern: UInt(address))!
    }

    /// `allocate`'s status; when it is out of memory, maybe for the kept buffers of other sizes,
    /// the status of asking again after they are freed (once the GPU's pending work, which may
    /// still use them, is done).
    func releasingKept(_ allocate: () -> Int32) throws(CUDAUnavailable) -> Int32 {
        let status = allocate()
        guard status == CUDADriver.outOfMemory, try freeKept() else { return status }
        return allocate()
    }

    /// Frees every kept buffer, once the GPU's pending work (which may still use them) is done.
    /// - Returns: whether there was any.
    private func freeKept() throws(CUDAUnavailable) -> Bool {
        let kept = idle.removeAll()
        guard !kept.isEmpty else { return false }
        try device.synchronize()
        try device.bind()
        for p in kept { try device.driver.check(device.driver.free(UInt64(UInt(bitPattern: p))), "cuMemFree") }
        return true
    }

    /// Kernels run in launch order on the one stream, so a later one that takes a kept buffer
    /// writes after every earlier one that read it; the host waits for all (`Storage.base`).
    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        guard !idle.keep(p, count) else { return }
        do {
            try device.synchronize()  // a kernel may still use it
            try device.bind()  // this thread (a Storage dies on any) needs the context for cuMemFree
            try device.driver.check(device.driver.free(UInt64(UInt(bitPattern: p))), "cuMemFree")
        } catch {
            fatalError("CompSegNN: freeing GPU memory failed: \(error)")
        }
    }

    /// Zeros on the host: a zeroed tensor is next written by host code (`Tensor(zeros:)`, CPU ops'
    /// accumulators); the GPU's kernels write their outputs whole. Waits for the GPU first, since a
    /// buffer from the idle lists may still be read by a kernel.
    func zero(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        synchronizeForHost()
        p.update(repeating: 0, count: count)
    }

    func synchronizeForHost() {
        do { try device.synchronize() } catch { fatalError("CompSegNN: a GPU kernel failed: \(error)") }
    }
}
