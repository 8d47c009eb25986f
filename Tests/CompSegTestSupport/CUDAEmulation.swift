import Foundation
// Not @testable: `swift build` builds this module too, without -enable-testing.
@_spi(Emulation) import CompSegNN

/// The CUDA backend on the CPU, for machines without a GPU: `CUDAKernels.source` compiled by
/// clang++ (or another C++ compiler on PATH) with emulated built-ins, linked with the driver,
/// NVRTC, cuDNN and cuBLAS functions of `Tests/Fixtures/cuda-emulator/emulator.cpp`. What it
/// checks: the backend's own code (memory, launches and their arguments, how it asks cuDNN for each
/// convolution and gradient, when it falls back to the CPU), the kernels' arithmetic and indexing,
/// and that the host waits for launched work before it touches memory (launched work runs only
/// when the host synchronizes, as it may on a GPU); what it cannot: cuDNN's own kernels, timing,
/// and races between threads.
///
/// The library is also there under the names compseg looks for (`libcuda.so.1`, `libnvrtc.so.13`,
/// `libcudnn.so.9`, `libcublas.so.13`) in `folder`: with `COMPSEG_CUDA_LIBRARY_PATH` set to it,
/// the `compseg` executable runs `--device cuda` on the emulated GPU, end to end.
public enum CUDAEmulation {
    /// The folder of the emulated libraries (one per test process, removed when it exits; or
    /// `$COMPSEG_CUDA_EMULATOR_OUT`, kept: `tools/cuda-emulator.sh`), or why it could not be built
    /// (no compiler, a compile error).
    public static let folder: Result<URL, any Error> = Result { try build() }

    /// The emulated GPU with cuDNN, loaded in this process.
    public static let environment: Result<CUDAEnvironment, any Error> = folder.flatMap { folder in
        Result { try load(folder.appendingPathComponent("libcuda.so.1")) }
    }

    /// The emulated GPU without cuDNN (convolutions stay on the CPU backend).
    public static var environmentWithoutCuDNN: Result<CUDAEnvironment, any Error> {
        environment.map { e in
            CUDAEnvironment(deviceName: e.deviceName, memoryBytes: e.memoryBytes, computeCapability: e.computeCapability,
                            versions: e.versions, libraries: e.libraries.filter { $0.key != .cudnn })
        }
    }

    public struct EmulationUnavailable: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Kernels launched so far on the emulated GPU (in this process).
    public static var launches: Int { counter("compseg_emulated_launches") }

    /// cuDNN convolutions run with an FFT-based or non-deterministic algorithm (compseg asks for none).
    public static var forbiddenRuns: Int { counter("compseg_emulated_forbidden_runs") }

    /// cuDNN convolutions tried with the algorithm that fails when run (compseg then takes the next).
    public static var failedRuns: Int { counter("compseg_emulated_failed_runs") }

    /// Timings of every algorithm asked of cuDNN (`cudnnFind…AlgorithmEx`).
    public static var timings: Int { counter("compseg_emulated_timings") }

    /// Buffers freed on the emulated GPU (`cuMemFree`) so far.
    public static var frees: Int { counter("compseg_emulated_frees") }

    /// What the emulated GPU's users hold now: retained contexts, loaded modules, allocations,
    /// cuDNN handles and cuDNN descriptors.
    public static var held: [Int] {
        guard case .success(let e) = environment, let lib = e.libraries[.driver],
              let count = try? lib.function("compseg_emulated_held", as: (@convention(c) (Int32) -> Int32).self) else { return [] }
        return (0..<5).map { Int(count(Int32($0))) }
    }

    /// Makes the next `count` allocations of managed memory fail as out of memory.
    public static func refuseAllocations(_ count: Int) {
        guard case .success(let e) = environment, let lib = e.libraries[.driver],
              let refuse = try? lib.function("compseg_emulated_refuse_allocations", as: (@convention(c) (Int32) -> Void).self)
        else { return }
        refuse(Int32(count))
    }

    /// Makes the next `count` timings of cuDNN's algorithms fail (as for want of memory).
    public static func failTimings(_ count: Int) {
        guard case .success(let e) = environment, let lib = e.libraries[.cudnn],
              let fail = try? lib.function("compseg_emulated_fail_timings", as: (@convention(c) (Int32) -> Void).self)
        else { return }
        fail(Int32(count))
    }

    /// Makes the emulated cuDNN offer no algorithm for filters of `outputs` outputs (0: offer for
    /// all), or with `whenRun`, offer them and answer "not supported" when one is run.
    public static func refuseFilters(withOutputs outputs: Int, whenRun: Bool = false) {
        guard case .success(let e) = environment, let lib = e.libraries[.cudnn],
              let refuse = try? lib.function("compseg_emulated_refuse_outputs", as: (@convention(c) (Int32, Int32) -> Void).self)
        else { return }
        refuse(Int32(outputs), whenRun ? 1 : 0)
    }

    private static func counter(_ name: String) -> Int {
        guard case .success(let e) = environment, let lib = e.libraries[.driver],
              let count = try? lib.function(name, as: (@convention(c) () -> Int32).self) else { return -1 }
        return Int(count())
    }

    /// The first of clang++, c++ and g++ on PATH.
    public static let compiler: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return ["clang++", "c++", "g++"].lazy.compactMap { name in
            path.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }.first
    }()

    /// Compiles the emulator with the backend's kernels and the driver's self-test kernel into a
    /// new temporary folder, as `libcuda.so.1`, linked there under the other libraries' names.
    private static func build() throws -> URL {
        guard let compiler else { throw EmulationUnavailable("no C++ compiler (clang++, c++, g++) on PATH") }
        let kept = ProcessInfo.processInfo.environment["COMPSEG_CUDA_EMULATOR_OUT"].map { URL(fileURLWithPath: $0) }
        let folder = kept ?? FileManager.default.temporaryDirectory.appendingPathComponent("compseg-cuda-emulator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if kept == nil {
            built = folder
            atexit { if let folder = CUDAEmulation.built { try? FileManager.default.removeItem(at: folder) } }
        }
        let kernels = folder.appendingPathComponent("kernels.cpp"), library = folder.appendingPathComponent("libcuda.so.1")
        let sources = CUDAEnvironment.kernelSources
        try (prelude + sources + thunks(of: sources)).write(to: kernels, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        // -Bsymbolic: the kernels' calls bind to their own definitions, not to a C function of
        // the same name in the executable that loads them (CKernels' compseg_rmsprop, the CPU's).
        process.arguments = ["-std=c++17", "-O1", "-shared", "-fPIC", "-Wl,-Bsymbolic", "-o", library.path,
                             fixturesDirectory.appendingPathComponent("cuda-emulator/emulator.cpp").path, kernels.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EmulationUnavailable("\(compiler) failed: \(log)") }
        for name in ["libnvrtc.so.13", "libcudnn.so.9", "libcublas.so.13"] {
            let link = folder.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: library)
        }
        return folder
    }

    nonisolated(unsafe) private static var built: URL?

    /// The emulated GPU, its library loaded from `library` in this process.
    private static func load(_ library: URL) throws -> CUDAEnvironment {
        guard let handle = dlopen(library.path, RTLD_NOW | RTLD_LOCAL) else {
            throw EmulationUnavailable("dlopen \(library.path): \(String(cString: dlerror()))")
        }
        let driver = LoadedLibrary(library: .driver, path: library.path, handle: handle)
        let nvrtc = LoadedLibrary(library: .nvrtc, path: library.path, handle: handle)
        let cudnn = LoadedLibrary(library: .cudnn, path: library.path, handle: handle)
        return CUDAEnvironment(deviceName: "emulated GPU", memoryBytes: 1 << 30, computeCapability: (9, 0),
                               versions: [.cudnn: "9.26"], libraries: [.driver: driver, .nvrtc: nvrtc, .cudnn: cudnn])
    }

    /// CUDA's built-ins as the emulator provides them: one thread per block, so shared memory is a
    /// function's static array and a barrier does nothing.
    static let prelude = """
        #include <math.h>
        #include <string.h>
        #include <algorithm>
        struct compseg_dim3 { unsigned x, y, z; };
        extern thread_local compseg_dim3 blockIdx, threadIdx, blockDim, gridDim;
        #define __global__
        #define __device__
        #define __launch_bounds__(n)
        #define __shared__ static
        #define __syncthreads() ((void)0)
        using std::min;
        using std::max;
        static inline unsigned __float_as_uint(float x) { unsigned u; memcpy(&u, &x, 4); return u; }
        static inline float __uint_as_float(unsigned u) { float x; memcpy(&x, &u, 4); return x; }

        """

    /// A function per kernel that calls it with cuLaunchKernel's argument pointers, and the table
    /// the emulated `cuModuleGetFunction` looks names up in.
    static func thunks(of source: String) -> String {
        let signature = /extern "C" __global__ void (?:__launch_bounds__\(\w+\) )?(\w+)\(([^)]*)\)/
        var thunks: [String] = [], table: [String] = []
        for match in source.matches(of: signature) {
            let name = String(match.1)
            let types = match.2.split(separator: ",").map { parameter -> String in
                let text = parameter.trimmingCharacters(in: .whitespacesAndNewlines)
                let nameStart = text.lastIndex { !($0.isLetter || $0.isNumber || $0 == "_") }.map { text.index(after: $0) } ?? text.startIndex
                return String(text[..<nameStart])
            }
            let arguments = types.enumerated().map { k, type in "*(\(type)*)p[\(k)]" }
            thunks.append("static void thunk_\(name)(void **p) { \(name)(\(arguments.joined(separator: ", "))); }")
            table.append("{\"\(name)\", thunk_\(name), \(types.count)}")
        }
        return thunks.joined(separator: "\n") + """

            struct EmulatedKernel { const char *name; void (*thunk)(void **); int parameters; };
            extern "C" const EmulatedKernel compseg_emulated_kernels[] = {\(table.joined(separator: ", "))};
            extern "C" const int compseg_emulated_kernel_count = \(table.count);

            """
    }
}
