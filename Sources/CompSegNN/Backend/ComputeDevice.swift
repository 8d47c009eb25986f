/// Which hardware runs the ops.
public enum ComputeDevice: String, CaseIterable, Sendable {
    /// A GPU when CUDA loads here (libraries, driver and a GPU that runs a test kernel), else the CPU.
    case auto
    case cpu
    /// A GPU, or an error that says why none can be used.
    case cuda
}

/// The arithmetic of convolutions and matrix products. The CPU computes in fp32 only.
public enum Precision: String, CaseIterable, Sendable {
    case fp32
    /// fp32 in memory, products on TF32 tensor cores (10-bit mantissas).
    case tf32
    /// Activations in bfloat16; weights, optimizer state and the loss stay fp32.
    case bf16
}

/// Why the device asked for cannot be used, in words a user can act on.
public struct DeviceUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// Whether a GPU was found but its backend could not be made (a library or setting wrong):
    /// not the machine's lack of one.
    public var gpuFound = false
    public init(_ description: String, gpuFound: Bool = false) { (self.description, self.gpuFound) = (description, gpuFound) }
}

/// The backend a device choice resolves to.
public struct DeviceChoice: Sendable {
    public let backend: any KernelBackend
    public let device: ComputeDevice
    public let precision: Precision
    /// Why `auto` took the CPU although CUDA found a GPU (nil otherwise: `compseg --version` says
    /// why CUDA does not load on a machine without one).
    public let cpuReason: String?

    /// One line for logs: the device, its precision, and why `auto` left a GPU it found.
    public var summary: String {
        "\(backend.name), \(precision.rawValue)" + (cpuReason.map { " (GPU not used: \($0))" } ?? "")
    }

    /// Resolves `device` at `precision` (nil: fp32).
    /// - Parameters:
    ///   - cuda: what CUDA offers here (the probe's result, by default this machine's).
    ///   - makeCUDA: the CUDA backend for an environment (by default `CUDABackend`'s).
    /// - Throws: `DeviceUnavailable` for `cuda` where no GPU can be used, and for tf32 or bf16
    ///   where no GPU can be used (naming CUDA's reason) or `--device cpu` was asked for.
    public static func resolve(_ device: ComputeDevice, precision: Precision? = nil,
                               cuda: @autoclosure () -> Result<CUDAEnvironment, CUDAUnavailable> = CUDAEnvironment.current,
                               makeCUDA: (CUDAEnvironment, Precision) throws -> any KernelBackend = CUDABackend.make)
        throws(DeviceUnavailable) -> DeviceChoice {
        let wanted = precision ?? .fp32
        func onCPU(_ reason: String?, gpuFound: Bool = false) throws(DeviceUnavailable) -> DeviceChoice {
            guard wanted == .fp32 else {
                throw DeviceUnavailable("--precision \(wanted.rawValue) needs a GPU, and the CPU computes in fp32"
                                        + (reason.map { "; no GPU can be used: \($0)" } ?? "")
                                        + "; leave --precision out to run on the CPU")
            }
            return DeviceChoice(backend: CPUBackend.shared, device: .cpu, precision: .fp32, cpuReason: gpuFound ? reason : nil)
        }
        if device == .cpu { return try onCPU(nil) }
        let environment: CUDAEnvironment
        switch cuda() {
        case .success(let found): environment = found
        case .failure(let reason):
            if device == .auto { return try onCPU(reason.description) }
            throw DeviceUnavailable("--device cuda: no GPU can be used: \(reason); run with --device cpu or auto")
        }
        do {
            return DeviceChoice(backend: try makeCUDA(environment, wanted), device: .cuda, precision: wanted, cpuReason: nil)
        } catch {
            if device == .auto && wanted == .fp32 { return try onCPU("\(environment.deviceName): \(error)", gpuFound: true) }
            let asked = device == .cuda ? "--device cuda" : "--precision \(wanted.rawValue)"
            throw DeviceUnavailable("\(asked): \(environment.deviceName) found, but \(error)", gpuFound: true)
        }
    }

    /// Makes this choice's backend the one ops run on (`Backend.current`).
    public func activate() { Backend.current = backend }
}
