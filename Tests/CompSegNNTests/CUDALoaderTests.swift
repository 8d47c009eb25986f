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
    @Test(.enabled(if: nvrtc != nil, "NVRTC not found (libnvrtc.so.13 or .12; see README, CUDA libraries)"))
    func kernelsCompileWithNVRTC() throws {
        let compiler = try #require(nvrtc)
        let cubin = try compiler.cubin(CUDADriver.selfTestSource, name: "compseg_axpy.cu", architecture: (9, 0))
        #expect(cubin.starts(with: [0x7f, 0x45, 0x4c, 0x46]))  // an ELF file
        // The backend's kernels, for Ampere and Hopper: every one is in the cubin's symbols.
        #expect(CUDAKernels.names.count == CUDAKernels.source.components(separatedBy: "__global__").count - 1)
        #expect(CUDAKernels.names.contains("compseg_plane_view"))
        for architecture in [(8, 0), (9, 0)] {
            let kernels = try compiler.cubin(CUDAKernels.source, name: "compseg_kernels.cu", architecture: architecture)
            let text = String(decoding: kernels, as: UTF8.self)
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

/// NVRTC when this machine has it.
private let nvrtc: NVRTC? = {
    guard case .success(let library) = CUDALoader.find(.nvrtc, directories: CUDALoader.searchDirectories()) else { return nil }
    return try? NVRTC(library)
}()

