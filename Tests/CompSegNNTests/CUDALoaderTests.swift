import Foundation
import Testing
@testable import CompSegNN

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
        let found = CUDALoader.searchDirectories(environment: [
            CUDALoader.pathVariable: "\(root)/missing:\(extra)::\(extra)", "VIRTUAL_ENV": venv,
        ])
        // The variable's folders first (missing and repeated ones dropped), then the environment's wheels.
        #expect(Array(found.prefix(3)) == [extra, cu13, cudnn])
        #expect(!found.contains("\(root)/missing"))
    }

    @Test func aMissingLibraryIsNamedWithWhereItWasLookedFor() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try makeDirectory("\(root)/lib")
        // A file of the right name that is no library: the loader's reason is reported.
        FileManager.default.createFile(atPath: "\(folder)/libcudnn.so.9", contents: Data("not ELF".utf8))
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
    @Test(.enabled(if: nvrtc != nil, "NVRTC not found (libnvrtc.so.13 or .12; see README, CUDA libraries)"))
    func kernelsCompileWithNVRTC() throws {
        let compiler = try #require(nvrtc)
        let cubin = try compiler.cubin(CUDADriver.selfTestSource, name: "compseg_axpy.cu", architecture: (9, 0))
        #expect(cubin.starts(with: [0x7f, 0x45, 0x4c, 0x46]))  // an ELF file
        // The backend's kernels, for Ampere and Hopper: every one is in the cubin's symbols.
        for architecture in [(8, 0), (9, 0)] {
            let kernels = try compiler.cubin(CUDAKernels.source, name: "compseg_kernels.cu", architecture: architecture)
            let text = String(decoding: kernels, as: UTF8.self)
            for name in ["eltwise", "eltwise_backward", "binary", "fill", "partial_sums", "sum_partials", "masked_mean",
                         "masked_mean_backward", "rmsprop", "adam", "sgd"] {
                #expect(text.contains("compseg_\(name)\u{0}"), "compseg_\(name) missing for sm_\(architecture.0)\(architecture.1)")
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

/// NVRTC when this machine has it.
private let nvrtc: NVRTC? = {
    guard case .success(let library) = CUDALoader.find(.nvrtc, directories: CUDALoader.searchDirectories()) else { return nil }
    return try? NVRTC(library)
}()

