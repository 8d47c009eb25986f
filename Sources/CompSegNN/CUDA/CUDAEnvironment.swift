import Foundation

/// What CUDA this machine offers: its first GPU and the libraries a CUDA backend needs, with their
/// versions; made by `probe()`, which loads the libraries and asks the driver.
public struct CUDAEnvironment: Sendable {
    public let deviceName: String
    public let memoryBytes: Int
    public let computeCapability: (major: Int, minor: Int)
    /// Versions as "major.minor" (driver: the CUDA version it supports), by library.
    public let versions: [CUDALibrary: String]
    public let libraries: [CUDALibrary: LoadedLibrary]

    @_spi(Emulation) public init(deviceName: String, memoryBytes: Int, computeCapability: (major: Int, minor: Int),
                                 versions: [CUDALibrary: String], libraries: [CUDALibrary: LoadedLibrary]) {
        self.deviceName = deviceName
        self.memoryBytes = memoryBytes
        self.computeCapability = computeCapability
        self.versions = versions
        self.libraries = libraries
    }

    /// Every CUDA C++ source compseg compiles with NVRTC (the kernels, the driver's self-test), for
    /// the tests' emulator, which compiles them for the CPU.
    @_spi(Emulation) public static var kernelSources: String { CUDAKernels.source + "\n" + CUDADriver.selfTestSource + "\n" }

    /// One line for `compseg --version`: the GPU and where each library came from.
    public var summary: String {
        let gib = Double(memoryBytes) / Double(1 << 30)
        let libraries = CUDALibrary.allCases.compactMap { lib in
            self.libraries[lib].map { "\(lib.rawValue) \(versions[lib] ?? "?") (\($0.path))" }
        }
        return "\(deviceName), \(String(format: "%.0f", gib)) GiB, compute capability "
            + "\(computeCapability.major).\(computeCapability.minor); " + libraries.joined(separator: ", ")
    }

    /// The environment found at the first call (the libraries stay loaded for the process).
    public static let current: Result<CUDAEnvironment, CUDAUnavailable> = probe()

    /// Loads the driver and the libraries and asks for the first GPU.
    /// - Returns: the environment, or why CUDA cannot be used (a library missing or too old, no
    ///   GPU, a driver older than the libraries), naming what was looked for and where.
    public static func probe(directories: [String] = CUDALoader.searchDirectories())
        -> Result<CUDAEnvironment, CUDAUnavailable> {
        Result { () throws(CUDAUnavailable) in try load(directories) }
    }

    private static func load(_ directories: [String]) throws(CUDAUnavailable) -> CUDAEnvironment {
        // Every library is looked for, so that one answer names all that is missing and what was found.
        var libraries: [CUDALibrary: LoadedLibrary] = [:], missing: [CUDALoader.Missing] = []
        var versions: [CUDALibrary: String] = [:]
        for library in CUDALibrary.allCases {
            switch CUDALoader.find(library, directories: directories) {
            case .success(let loaded):
                libraries[library] = loaded
                versions[library] = try version(of: loaded)
            case .failure(let m): missing.append(m)
            }
        }
        guard missing.isEmpty else {
            let found = CUDALibrary.allCases.compactMap { library in
                libraries[library].map { "\([library.rawValue, versions[library]].compactMap { $0 }.joined(separator: " ")) (\($0.path))" }
            }
            throw CUDAUnavailable(CUDALoader.message(missing: missing, directories: directories)
                                  + (found.isEmpty ? "" : "; found: \(found.joined(separator: ", "))"))
        }
        let driver = try CUDADriver(libraries[.driver]!)
        try driver.check(driver.initialize(0), "cuInit")
        var count: Int32 = 0, device: Int32 = 0, version: Int32 = 0
        try driver.check(driver.deviceCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw CUDAUnavailable("the NVIDIA driver found no GPU") }
        try driver.check(driver.device(&device, 0), "cuDeviceGet")
        try driver.check(driver.driverVersion(&version), "cuDriverGetVersion")
        var name = [CChar](repeating: 0, count: 256)
        try driver.check(driver.deviceName(&name, Int32(name.count), device), "cuDeviceGetName")
        var memory = 0
        try driver.check(driver.totalMemory(&memory, device), "cuDeviceTotalMem")
        var major: Int32 = 0, minor: Int32 = 0
        try driver.check(driver.attribute(&major, 75, device), "cuDeviceGetAttribute")  // compute capability major
        try driver.check(driver.attribute(&minor, 76, device), "cuDeviceGetAttribute")  // and minor
        versions[.driver] = "\(version / 1000).\(version % 1000 / 10)"
        // The whole path a backend takes, once: compile with NVRTC, load, launch, read back.
        do {
            try driver.selfTest(device: device, nvrtc: NVRTC(libraries[.nvrtc]!), architecture: (Int(major), Int(minor)))
        } catch {
            throw CUDAUnavailable("a test kernel failed on the GPU: \(error)")
        }
        return CUDAEnvironment(deviceName: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                               memoryBytes: memory, computeCapability: (Int(major), Int(minor)),
                               versions: versions, libraries: libraries)
    }

    /// A library's version, asked without a GPU (the driver's is asked after cuInit).
    private static func version(of lib: LoadedLibrary) throws(CUDAUnavailable) -> String? {
        switch lib.library {
        case .driver: nil
        case .nvrtc: try nvrtcVersion(lib)
        case .cudnn: try cudnnVersion(lib)
        case .cublas: try cublasVersion(lib)
        }
    }

    private static func nvrtcVersion(_ lib: LoadedLibrary) throws(CUDAUnavailable) -> String {
        let version = try lib.function("nvrtcVersion",
                                       as: (@convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32).self)
        var major: Int32 = 0, minor: Int32 = 0
        guard version(&major, &minor) == 0 else { throw CUDAUnavailable("\(lib.path): nvrtcVersion failed") }
        return "\(major).\(minor)"
    }

    private static func cudnnVersion(_ lib: LoadedLibrary) throws(CUDAUnavailable) -> String {
        let version = try lib.function("cudnnGetVersion", as: (@convention(c) () -> Int).self)()
        // cuDNN 9 encodes major·10000 + minor·100 + patch.
        return "\(version / 10000).\(version % 10000 / 100)"
    }

    private static func cublasVersion(_ lib: LoadedLibrary) throws(CUDAUnavailable) -> String {
        let property = try lib.function("cublasGetProperty",
                                        as: (@convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32).self)
        var major: Int32 = 0, minor: Int32 = 0
        guard property(0, &major) == 0, property(1, &minor) == 0 else {
            throw CUDAUnavailable("\(lib.path): cublasGetProperty failed")
        }
        return "\(major).\(minor)"
    }
}
