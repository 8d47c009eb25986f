import CompSegTestSupport
import Foundation
import Testing
@_spi(Emulation) @testable import CompSegNN

/// Finding NVIDIA's libraries at run time: where they are looked for, and what a user is told
/// when they are missing. These run on every machine; with a GPU the probe itself is checked too.
@Suite struct CUDALoaderTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("cuda-loader-\(UUID().uuidString)").path

    func makeDirectory(_ path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func searchesTheVariableThenPythonWheelsThenCUDA() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let extra = try makeDirectory("\(root)/extra")
        let venv = "\(root)/venv"
        let cu13 = try makeDirectory("\(venv)/lib/python3.12/site-packages/nvidia/cu13/lib")
        let cudnn = try makeDirectory("\(venv)/lib/python3.12/site-packages/nvidia/cudnn/lib")
        let conda = try makeDirectory("\(root)/conda/lib/python3.11/site-packages/nvidia/cublas/lib")
        let found = CUDALoader.searchDirectories(environment: [
            CUDALoader.pathVariable: "\(root)/missing:\(extra)::\(extra)", "VIRTUAL_ENV": venv,
            "CONDA_PREFIX": "\(root)/conda",
        ])
        // The variable's folders first (missing and repeated ones dropped), then the active
        // virtual environment's wheels, then conda's.
        #expect(Array(found.prefix(4)) == [extra, cu13, cudnn, conda])
        #expect(!found.contains("\(root)/missing"))
    }

    @Test func anEarlierFolderWinsOverANewerVersionInALaterOne() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try makeDirectory("\(root)/first"), second = try makeDirectory("\(root)/second")
        // Files of the right names that are no libraries: the loader tries them in order and says why each failed.
        #expect(FileManager.default.createFile(atPath: "\(first)/libcublas.so.12", contents: Data("not ELF".utf8)))
        #expect(FileManager.default.createFile(atPath: "\(second)/libcublas.so.13", contents: Data("not ELF".utf8)))
        let result = CUDALoader.find(.cublas, directories: [first, second], system: false)
        guard case .failure(let missing) = result else { Issue.record("\(result)"); return }
        #expect(missing.unloadable.map { $0.prefix { $0 != ":" } } == ["\(first)/libcublas.so.12", "\(second)/libcublas.so.13"])
    }

    @Test func aMissingLibraryIsNamedWithWhereItWasLookedFor() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try makeDirectory("\(root)/lib")
        // A file of the right name that is no library: the loader's reason is reported.
        #expect(FileManager.default.createFile(atPath: "\(folder)/libcudnn.so.9", contents: Data("not ELF".utf8)))
        do {
            let library = try CUDALoader.open(.cudnn, directories: [folder])
            // A machine with cuDNN on the system's path loads that one instead.
            #expect(library.path != "\(folder)/libcudnn.so.9")
        } catch {
            #expect(error.description.hasPrefix("libcudnn.so.9 (cuDNN) not found in \(folder) and the system's library path"))
            #expect(error.description.contains("set \(CUDALoader.pathVariable)"))
            #expect(error.description.contains("found but not loadable: \(folder)/libcudnn.so.9:"))
        }
    }

    @Test func theProbeFindsAGPUOrSaysWhyNot() {
        switch CUDAEnvironment.current {
        case .success(let environment):
            #expect(!environment.deviceName.isEmpty)
            #expect(environment.memoryBytes > 0)
            #expect(Set(environment.versions.keys) == Set(CUDALibrary.allCases))
        case .failure(let reason):
            // Without a GPU: the first thing missing, named by file (the driver on a machine without one).
            let names = CUDALibrary.allCases.flatMap(\.fileNames) + ["no GPU", "failed"]
            #expect(names.contains { reason.description.contains($0) }, "\(reason)")
        }
    }

    /// NVRTC needs no GPU: where its library is found (a pip wheel's nvidia/cu13/lib), the test
    /// kernel compiles to a cubin and a broken one reports NVRTC's log.
    @Test(.enabled(if: nvrtc != nil, "NVIDIA's NVRTC not found (libnvrtc.so.13 or .12; see README, CUDA libraries)"))
    func kernelsCompileWithNVRTC() throws {
        let compiler = try #require(nvrtc)
        let cubin = try compiler.cubin(CUDADriver.selfTestSource, name: "compseg_axpy.cu", architecture: (9, 0))
        #expect(cubin.starts(with: [0x7f, 0x45, 0x4c, 0x46]))  // an ELF file
        // The backend's kernels, for Ampere and Hopper: every one is in the cubin's symbols.
        for architecture in [(8, 0), (9, 0)] {
            let kernels = try compiler.cubin(CUDAKernels.source, name: "compseg_kernels.cu", architecture: architecture)
            let text = String(decoding: kernels, as: UTF8.self)
            #expect(!CUDAKernels.names.isEmpty)
            for name in CUDAKernels.names {
                #expect(text.contains("\(name)\u{0}"), "\(name) missing for sm_\(architecture.0)\(architecture.1)")
            }
        }
        #expect(throws: CUDAError.self) {
            _ = try compiler.cubin("extern \"C\" __global__ void broken( { }", name: "broken.cu", architecture: (9, 0))
        }
        do {
            _ = try compiler.cubin("__global__ void k() { undeclared = 1; }", name: "broken.cu", architecture: (9, 0))
        } catch {
            #expect(error.description.hasPrefix("broken.cu does not compile: "))
            #expect(error.description.contains("undeclared"))
        }
    }
}

/// cuDNN's descriptor functions need no GPU either: where its library is found (a pip wheel's
/// nvidia/cudnn/lib), the descriptors the CUDA backend makes are read back through cuDNN's own
/// getters. This checks what the emulated cuDNN of `DeviceTests` cannot (it was written from the
/// same reading of the header): the order of each setter's arguments and the codes of the enums.
@Suite(.enabled(if: cudnnLibrary != nil, "NVIDIA's cuDNN not found (libcudnn.so.9; see README, CUDA libraries)"))
struct CuDNNDescriptorTests {
    typealias D = OpaquePointer
    typealias I = UnsafeMutablePointer<Int32>
    let lib: LoadedLibrary
    let getTensor: @convention(c) (D?, I, I, I, I, I, I, I, I, I) -> Int32
    let getFilter: @convention(c) (D?, I, I, I, I, I, I) -> Int32
    let getConvolution: @convention(c) (D?, I, I, I, I, I, I, I, I) -> Int32
    let getMathType: @convention(c) (D?, I) -> Int32
    let outputDimensions: @convention(c) (D?, D?, D?, I, I, I, I) -> Int32

    init() throws {
        lib = try #require(cudnnLibrary)
        getTensor = try lib.function("cudnnGetTensor4dDescriptor", as: type(of: getTensor))
        getFilter = try lib.function("cudnnGetFilter4dDescriptor", as: type(of: getFilter))
        getConvolution = try lib.function("cudnnGetConvolution2dDescriptor", as: type(of: getConvolution))
        getMathType = try lib.function("cudnnGetConvolutionMathType", as: type(of: getMathType))
        outputDimensions = try lib.function("cudnnGetConvolution2dForwardOutputDim", as: type(of: outputDimensions))
    }

    /// The `count` numbers a getter writes through consecutive pointers from the one given it.
    func read(_ count: Int, _ get: (I) -> Int32) -> [Int32] {
        var v = [Int32](repeating: -1, count: count)
        let status = v.withUnsafeMutableBufferPointer { get($0.baseAddress!) }
        #expect(status == 0)
        return v
    }

    /// (data type, n, c, h, w, and the four strides) as cuDNN reads a tensor descriptor.
    func tensor(_ d: D?) -> [Int32] {
        read(9) { v in getTensor(d, v, v + 1, v + 2, v + 3, v + 4, v + 5, v + 6, v + 7, v + 8) }
    }

    /// What the descriptors of an N×C×H×W tensor read back as: fp32 NCHW, or bf16 NHWC (type 9).
    static func expected(_ s: Shape, bf16: Bool) -> [Int32] {
        let (n, c, h, w) = (Int32(s.n), Int32(s.c), Int32(s.h), Int32(s.w))
        return bf16 ? [9, n, c, h, w, c * h * w, 1, w * c, c] : [0, n, c, h, w, c * h * w, h * w, w, 1]
    }

    @Test(arguments: [Precision.fp32, .tf32, .bf16])
    func theBackendsConvolutionsReadBackAsMeant(precision: Precision) throws {
        let descriptors = try CuDNNDescriptors(lib, precision: precision)
        let bf16 = precision == .bf16
        // The paper's first layer, a U-Net's up-sampling (transposed) and last layer, a strided
        // convolution with an odd input, and unequal strides and paddings.
        let cases: [(input: Shape, weight: Shape, geometry: ConvolutionGeometry)] = [
            ([7, 450, 256, 256], [64, 450, 3, 3], ConvolutionGeometry(padding: 1)),
            ([7, 128, 64, 64], [128, 64, 2, 2], ConvolutionGeometry(stride: 2, transposed: true)),
            ([7, 64, 256, 256], [1, 64, 1, 1], ConvolutionGeometry()),
            ([2, 5, 255, 255], [8, 5, 3, 3], ConvolutionGeometry(stride: 2, padding: 1)),
            ([1, 3, 20, 31], [4, 3, 3, 5], ConvolutionGeometry(stride: (1, 2), padding: (0, 2))),
        ]
        for (input, weight, g) in cases {
            let output = g.outputShape(input: input, weight: weight)
            for kind in [CuDNN.Problem.Kind.forward, .backwardData, .backwardFilter] {
                let p = CUDABackend.problem(kind, input: input, weight: weight, output: output, geometry: g)
                let d = try descriptors.described(p)
                #expect(tensor(d.x) == Self.expected(p.input, bf16: bf16), "\(p)")
                #expect(tensor(d.y) == Self.expected(p.output, bf16: bf16), "\(p)")
                // The filter: (data type, format, k, c, h, w), K×C×kH×kW of the direct convolution.
                let f = read(6) { v in getFilter(d.w, v, v + 1, v + 2, v + 3, v + 4, v + 5) }
                #expect(f == [bf16 ? 9 : 0, bf16 ? 1 : 0] + p.filter.dims.map { Int32($0) }, "\(p)")
                // (pad h, pad w, stride h, stride w, dilation h, dilation w, mode, compute type):
                // cross-correlation (1) computed in fp32 (0).
                let c = read(8) { v in getConvolution(d.convolution, v, v + 1, v + 2, v + 3, v + 4, v + 5, v + 6, v + 7) }
                #expect(c == [g.paddingH, g.paddingW, g.strideH, g.strideW, 1, 1, 1, 0].map { Int32($0) }, "\(p)")
                #expect(read(1) { getMathType(d.convolution, $0) } == [precision == .fp32 ? 3 : 1])
                // cuDNN's own size of the direct convolution's output is the one the backend allocates.
                let o = read(4) { v in outputDimensions(d.convolution, d.x, d.w, v, v + 1, v + 2, v + 3) }
                #expect(o == p.output.dims.map { Int32($0) }, "\(p)")
                #expect(p.output == (g.transposed ? input : output))
            }
        }
    }
}

/// The C side of every library call: `Tests/Fixtures/cuda-abi/abi.c` restates each function type
/// and constant of `Sources/CompSegNN/CUDA` in C and asserts, at compile time, that NVIDIA's own
/// headers agree (arity, order and width of every parameter; enum codes; the AlgoPerf layout).
/// Where the headers of the pip wheels are found beside the libraries (PyTorch's environment has
/// them), a C compiler checks the file; a change to a function type there must be made in both.
@Test(.enabled(if: cudaHeaders != nil && CUDAEmulation.compiler != nil,
               "NVIDIA's headers (nvidia/cu13/include, nvidia/cudnn/include, crt/host_defines.h) or a C compiler not found"))
func theLibraryCallsMatchNVIDIAsHeaders() throws {
    let (compiler, headers) = (try #require(CUDAEmulation.compiler), try #require(cudaHeaders))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: compiler)
    process.arguments = ["-x", "c", "-std=c11", "-fsyntax-only"] + headers.map { "-I\($0)" }
        + [fixturesDirectory.appendingPathComponent("cuda-abi/abi.c").path]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(log)")
}

/// The include folders beside the wheels' library folders that hold the headers abi.c includes
/// (one folder for CUDA 13's wheels, one per package for CUDA 12's), and one with
/// crt/host_defines.h (the nvidia-cuda-crt wheel's, or the copy PyTorch's triton carries); nil
/// where any is missing.
private let cudaHeaders: [String]? = {
    let files = FileManager.default
    let folders = CUDALoader.searchDirectories().filter { $0.hasSuffix("/lib") }.map { String($0.dropLast(3)) + "include" }
    func holding(_ header: String) -> String? { folders.first { files.fileExists(atPath: "\($0)/\(header)") } }
    let found = ["cuda.h", "nvrtc.h", "cublas_api.h", "library_types.h", "cudnn.h"].map(holding)
    guard let first = found.first ?? nil, !found.contains(nil) else { return nil }
    // site-packages/nvidia/cu13/include → site-packages/triton/backends/nvidia/include
    let triton = URL(fileURLWithPath: first).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("triton/backends/nvidia/include").path
    guard let crt = holding("crt/host_defines.h") ?? (files.fileExists(atPath: "\(triton)/crt/host_defines.h") ? triton : nil)
    else { return nil }
    // crt last: it supplies only that header.
    return (found.compactMap { $0 } + [crt]).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
}()

/// Whether `library` is NVIDIA's, not the emulated GPU's (`COMPSEG_CUDA_LIBRARY_PATH` may point there).
private func isNVIDIAs(_ library: LoadedLibrary) -> Bool { dlsym(library.handle, "compseg_emulated_launches") == nil }

/// cuDNN when this machine has it.
private let cudnnLibrary: LoadedLibrary? = {
    guard case .success(let library) = CUDALoader.find(.cudnn, directories: CUDALoader.searchDirectories()),
          isNVIDIAs(library) else { return nil }
    return library
}()

/// NVRTC when this machine has it.
private let nvrtc: NVRTC? = {
    guard case .success(let library) = CUDALoader.find(.nvrtc, directories: CUDALoader.searchDirectories()),
          isNVIDIAs(library) else { return nil }
    return try? NVRTC(library)
}()

