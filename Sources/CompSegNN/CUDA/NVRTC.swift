import Foundation

/// A failure of CUDA work once the libraries are loaded: a compile log, a driver call's error.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// CUDA C compiled at run time by NVRTC into a cubin for one GPU architecture. NVRTC needs no GPU
/// and no driver, so kernels are compiled and checked on any machine that has the library.
struct NVRTC {
    private typealias Program = OpaquePointer
    private let create: @convention(c) (UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?,
                                        Int32, UnsafePointer<UnsafePointer<CChar>?>?,
                                        UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let compile: @convention(c) (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let size: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Int32
    private let text: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Int32
    private let destroy: @convention(c) (UnsafeMutablePointer<Program?>) -> Int32
    private let errorString: @convention(c) (Int32) -> UnsafePointer<CChar>?
    private let logSize: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Int32
    private let log: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Int32

    init(_ lib: LoadedLibrary) throws(CUDAUnavailable) {
        create = try lib.function("nvrtcCreateProgram", as: type(of: create))
        compile = try lib.function("nvrtcCompileProgram", as: type(of: compile))
        size = try lib.function("nvrtcGetCUBINSize", as: type(of: size))
        text = try lib.function("nvrtcGetCUBIN", as: type(of: text))
        destroy = try lib.function("nvrtcDestroyProgram", as: type(of: destroy))
        errorString = try lib.function("nvrtcGetErrorString", as: type(of: errorString))
        logSize = try lib.function("nvrtcGetProgramLogSize", as: type(of: logSize))
        log = try lib.function("nvrtcGetProgramLog", as: type(of: log))
    }

    /// The cubin (device code for `sm_<major><minor>`, loaded by the driver without a JIT step, so a
    /// newer NVRTC works with an older driver of the same major version) of `source`.
    /// - Throws: `CUDAError` with NVRTC's log when the source does not compile.
    func cubin(_ source: String, name: String, architecture: (major: Int, minor: Int)) throws(CUDAError) -> [UInt8] {
        var program: Program?
        try check(create(&program, source, name, 0, nil, nil), "creating program \(name)")
        defer { _ = destroy(&program) }
        let options = ["--gpu-architecture=sm_\(architecture.major)\(architecture.minor)", "--std=c++17",
                       "--fmad=false"]
        let status = withCStrings(options) { compile(program, Int32(options.count), $0) }
        guard status == 0 else {
            var count = 0
            _ = logSize(program, &count)
            var buffer = [CChar](repeating: 0, count: max(count, 1))
            _ = log(program, &buffer)
            throw CUDAError("\(name) does not compile: \(message(status)): "
                            + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var count = 0
        try check(size(program, &count), "sizing the cubin of \(name)")
        var binary = [CChar](repeating: 0, count: count)
        try check(text(program, &binary), "reading the cubin of \(name)")
        return binary.map { UInt8(bitPattern: $0) }
    }

    private func message(_ status: Int32) -> String { errorString(status).map { String(cString: $0) } ?? "NVRTC error \(status)" }

    private func check(_ status: Int32, _ what: String) throws(CUDAError) {
        guard status == 0 else { throw CUDAError("NVRTC, \(what): \(message(status))") }
    }
}

/// Runs `body` with `strings` as an array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
