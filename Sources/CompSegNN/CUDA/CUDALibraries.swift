import CKernels
import Foundation

/// NVIDIA's libraries, found and opened at run time (`dlopen`), so that building, testing and
/// running on the CPU need no CUDA installation at all.
///
/// Each library is looked for, in order, in the directories of `COMPSEG_CUDA_LIBRARY_PATH`
/// (colon-separated), in the `nvidia/*/lib` folders of Python environments (where NVIDIA's pip
/// wheels put them: `nvidia/cu13/lib`, `nvidia/cudnn/lib`, …), in `/usr/local/cuda`, and last by
/// the system's loader (`LD_LIBRARY_PATH`, ld.so.cache). The driver's `libcuda.so.1` comes with
/// the NVIDIA driver, never with a wheel.
///
/// No op of the backend calls cuBLAS; it is loaded for cuDNN, which opens `libcublasLt.so.13` by
/// name for some of its convolution engines (as it opens `libnvrtc.so` for its run-time compiled
/// ones): once cuBLAS is loaded from a wheel's folder, the cuBLASLt it brings along is found by
/// that name, wherever the folder is.
public enum CUDALibrary: String, CaseIterable, Sendable {
    case driver, nvrtc, cudnn, cublas

    /// File names, newest major version first.
    public var fileNames: [String] {
        switch self {
        case .driver: ["libcuda.so.1"]
        case .nvrtc: ["libnvrtc.so.13", "libnvrtc.so.12"]
        case .cudnn: ["libcudnn.so.9"]
        case .cublas: ["libcublas.so.13", "libcublas.so.12"]
        }
    }

    /// What the library is, for messages.
    public var role: String {
        switch self {
        case .driver: "the NVIDIA driver's CUDA library"
        case .nvrtc: "CUDA's run-time compiler"
        case .cudnn: "cuDNN"
        case .cublas: "cuBLAS"
        }
    }
}

/// One opened library: where it was found, and its symbols.
public final class LoadedLibrary: @unchecked Sendable {
    public let library: CUDALibrary
    public let path: String
    let handle: UnsafeMutableRawPointer

    @_spi(Emulation) public init(library: CUDALibrary, path: String, handle: UnsafeMutableRawPointer) {
        self.library = library
        self.path = path
        self.handle = handle
    }

    /// The C function `name` as `type` (a `@convention(c)` function type).
    /// - Throws: `CUDAUnavailable` naming the library and symbol when it lacks it (an older version).
    @_spi(Emulation) public func function<F>(_ name: String, as type: F.Type) throws(CUDAUnavailable) -> F {
        guard let symbol = dlsym(handle, name) else {
            throw CUDAUnavailable("\(path) has no function \(name) (\(library.role) too old?)")
        }
        return unsafeBitCast(symbol, to: type)
    }
}

/// Why CUDA cannot be used here, in words a user can act on.
public struct CUDAUnavailable: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

public enum CUDALoader {
    /// The environment variable naming extra directories to search first.
    public static let pathVariable = "COMPSEG_CUDA_LIBRARY_PATH"

    /// Directories searched before the system's loader, in order, existing ones only.
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var directories = (environment[pathVariable] ?? "").split(separator: ":").map(String.init)
        var prefixes = ["/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
                        "/usr/lib/python3*/dist-packages", "/usr/lib/python3/dist-packages",
                        "/opt/conda/lib/python3*/site-packages"]
        let environments = ["VIRTUAL_ENV", "CONDA_PREFIX"].compactMap { environment[$0] }
        prefixes.insert(contentsOf: environments.map { "\($0)/lib/python3*/site-packages" }, at: 0)
        if let home = environment["HOME"] { prefixes.append("\(home)/.local/lib/python3*/site-packages") }
        for prefix in prefixes { directories += expand("\(prefix)/nvidia/*/lib") }
        directories += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                        "/usr/local/nvidia/lib64"]  // where containers on GPU hosts often mount the driver
        var seen = Set<String>()
        return directories.filter { isDirectory($0) && seen.insert($0).inserted }
    }

    /// Opens `library` from the first place that has it.
    /// - Throws: `CUDAUnavailable` naming the file names and directories tried, and the loader's
    ///   reason where a file was found but would not open.
    public static func open(_ library: CUDALibrary, directories: [String]) throws(CUDAUnavailable) -> LoadedLibrary {
        switch find(library, directories: directories) {
        case .success(let loaded): return loaded
        case .failure(let missing): throw CUDAUnavailable(message(missing: [missing], directories: directories))
        }
    }

    /// A library not found, and the files of its name that would not load ("path: reason").
    struct Missing: Error {
        let library: CUDALibrary
        let unloadable: [String]
    }

    /// - Parameter system: whether to ask the system's loader last (tests of the search say no).
    static func find(_ library: CUDALibrary, directories: [String], system: Bool = true) -> Result<LoadedLibrary, Missing> {
        var unloadable: [String] = []
        // Directories outer: a folder the user named wins over a newer version elsewhere.
        for directory in directories {
            for name in library.fileNames {
                let path = "\(directory)/\(name)"
                guard FileManager.default.fileExists(atPath: path) else { continue }
                if let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) {
                    return .success(LoadedLibrary(library: library, path: path, handle: handle))
                }
                unloadable.append("\(path): \(lastError())")
            }
        }
        guard system else { return .failure(Missing(library: library, unloadable: unloadable)) }
        for name in library.fileNames {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                return .success(LoadedLibrary(library: library, path: loadedPath(handle) ?? name, handle: handle))
            }
        }
        return .failure(Missing(library: library, unloadable: unloadable))
    }

    /// One sentence for the libraries missing: what they are, where they were looked for, what to do.
    static func message(missing: [Missing], directories: [String]) -> String {
        let names = missing.map { "\($0.library.fileNames.joined(separator: " or ")) (\($0.library.role))" }
        let tried = directories.isEmpty ? "the system's library path"
            : "\(directories.joined(separator: ", ")) and the system's library path"
        let unloadable = missing.flatMap(\.unloadable)
        return "\(names.joined(separator: ", ")) not found in \(tried) (set \(pathVariable) to the folder that holds "
            + "\(missing.count == 1 ? "it" : "them"))"
            + (unloadable.isEmpty ? "" : "; found but not loadable: \(unloadable.joined(separator: "; "))")
    }

    private static func expand(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    private static func lastError() -> String { dlerror().map { String(cString: $0) } ?? "unknown reason" }

    /// The file the system's loader chose for `handle` (its link map's name).
    private static func loadedPath(_ handle: UnsafeMutableRawPointer) -> String? {
        compseg_loaded_library_path(handle).map { String(cString: $0) }
    }
}
