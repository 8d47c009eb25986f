import Foundation

/// cuDNN's descriptors of the convolutions `CuDNN` runs: tensors (NCHW fp32, or NHWC bf16),
/// filters, and the convolution's geometry and math, each made at a problem's first call and kept
/// while this lives. They are host-side objects that need no GPU, so `CUDALoaderTests` checks them
/// against the real library (read back, and the output size cuDNN computes) wherever it is found.
final class CuDNNDescriptors: @unchecked Sendable {
    typealias Descriptor = OpaquePointer
    private typealias Create = @convention(c) (UnsafeMutablePointer<Descriptor?>) -> Int32
    private typealias Destroy = @convention(c) (Descriptor?) -> Int32

    private let errorString: @convention(c) (Int32) -> UnsafePointer<CChar>?
    private let createTensor, createFilter, createConvolution: Create
    private let destroyTensor, destroyFilter, destroyConvolution: Destroy
    private let setTensor: @convention(c) (Descriptor?, Int32, Int32, Int32, Int32, Int32, Int32) -> Int32
    private let setFilter: @convention(c) (Descriptor?, Int32, Int32, Int32, Int32, Int32, Int32) -> Int32
    private let setConvolution: @convention(c) (Descriptor?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) -> Int32
    private let setMathType: @convention(c) (Descriptor?, Int32) -> Int32
    /// cudnnMathType_t: CUDNN_FMA_MATH (3) keeps fp32 products (no TF32); CUDNN_TENSOR_OP_MATH (1)
    /// allows TF32, and is what bf16 runs with.
    let mathType: Int32
    /// Problems' tensors and filters in channels-last bf16.
    let bf16: Bool
    private let lock = NSLock()

    /// Opens the descriptor functions of cuDNN's `lib` for convolutions at `precision`.
    init(_ lib: LoadedLibrary, precision: Precision) throws {
        mathType = precision == .fp32 ? 3 : 1
        bf16 = precision == .bf16
        errorString = try lib.function("cudnnGetErrorString", as: type(of: errorString))
        createTensor = try lib.function("cudnnCreateTensorDescriptor", as: Create.self)
        createFilter = try lib.function("cudnnCreateFilterDescriptor", as: Create.self)
        createConvolution = try lib.function("cudnnCreateConvolutionDescriptor", as: Create.self)
        destroyTensor = try lib.function("cudnnDestroyTensorDescriptor", as: Destroy.self)
        destroyFilter = try lib.function("cudnnDestroyFilterDescriptor", as: Destroy.self)
        destroyConvolution = try lib.function("cudnnDestroyConvolutionDescriptor", as: Destroy.self)
        setTensor = try lib.function("cudnnSetTensor4dDescriptor", as: type(of: setTensor))
        setFilter = try lib.function("cudnnSetFilter4dDescriptor", as: type(of: setFilter))
        setConvolution = try lib.function("cudnnSetConvolution2dDescriptor", as: type(of: setConvolution))
        setMathType = try lib.function("cudnnSetConvolutionMathType", as: type(of: setMathType))
    }

    /// A problem's descriptors, made at its first call and kept for the process (a network has a
    /// few dozen problems; making them on every call cost four creations and four destructions).
    final class Described {
        let x, y, w, convolution: Descriptor?
        init(x: Descriptor?, y: Descriptor?, w: Descriptor?, convolution: Descriptor?) {
            self.x = x; self.y = y; self.w = w; self.convolution = convolution
        }
    }
    private var descriptions: [CuDNN.Problem: Described] = [:]

    deinit {
        for d in descriptions.values {
            _ = destroyTensor(d.x); _ = destroyTensor(d.y); _ = destroyFilter(d.w); _ = destroyConvolution(d.convolution)
        }
    }

    func described(_ p: CuDNN.Problem) throws -> Described {
        lock.lock()
        defer { lock.unlock() }
        if let known = descriptions[p] { return known }
        // What is made is destroyed again if making the rest fails.
        var undo: [() -> Void] = []
        let x: Descriptor?, y: Descriptor?, w: Descriptor?, convolution: Descriptor?
        do {
            x = try tensor(p.input, bf16: bf16)
            undo.append { [destroyTensor] in _ = destroyTensor(x) }
            y = try tensor(p.output, bf16: bf16)
            undo.append { [destroyTensor] in _ = destroyTensor(y) }
            w = try filter(p.filter)
            undo.append { [destroyFilter] in _ = destroyFilter(w) }
            convolution = try self.convolution(p)
        } catch {
            undo.forEach { $0() }
            throw error
        }
        let made = Described(x: x, y: y, w: w, convolution: convolution)
        descriptions[p] = made
        return made
    }

    /// A descriptor made by `create` and set by `set`; destroyed again when setting fails.
    private func descriptor(_ create: Create, _ destroy: Destroy, _ kind: String,
                            set: (Descriptor?) throws -> Void) throws -> Descriptor? {
        var d: Descriptor?
        try check(create(&d), "cudnnCreate\(kind)Descriptor")
        do { try set(d) } catch {
            _ = destroy(d)
            throw error
        }
        return d
    }

    /// cudnnDataType_t and cudnnTensorFormat_t: CUDNN_DATA_FLOAT (0) in CUDNN_TENSOR_NCHW (0), or
    /// CUDNN_DATA_BFLOAT16 (9) in CUDNN_TENSOR_NHWC (1).
    static func kind(bf16: Bool) -> (type: Int32, format: Int32) { bf16 ? (9, 1) : (0, 0) }

    private func tensor(_ s: Shape, bf16: Bool) throws -> Descriptor? {
        let (type, format) = Self.kind(bf16: bf16)
        return try descriptor(createTensor, destroyTensor, "Tensor") { d in  // (format, type, n, c, h, w)
            try check(setTensor(d, format, type, Int32(s.n), Int32(s.c), Int32(s.h), Int32(s.w)), "cudnnSetTensor4dDescriptor \(s)")
        }
    }

    private func filter(_ s: Shape) throws -> Descriptor? {
        let (type, format) = Self.kind(bf16: bf16)
        return try descriptor(createFilter, destroyFilter, "Filter") { d in  // (type, format, k, c, h, w)
            try check(setFilter(d, type, format, Int32(s[0]), Int32(s[1]), Int32(s[2]), Int32(s[3])),
                      "cudnnSetFilter4dDescriptor \(s)")
        }
    }

    private func convolution(_ p: CuDNN.Problem) throws -> Descriptor? {
        try descriptor(createConvolution, destroyConvolution, "Convolution") { d in
            // Dilation 1, CUDNN_CROSS_CORRELATION (1, as PyTorch), computed in CUDNN_DATA_FLOAT (0).
            try check(setConvolution(d, Int32(p.paddingH), Int32(p.paddingW), Int32(p.strideH), Int32(p.strideW), 1, 1, 1, 0),
                      "cudnnSetConvolution2dDescriptor")
            try check(setMathType(d, mathType), "cudnnSetConvolutionMathType")
        }
    }

    /// cuDNN's words for `status`.
    func message(_ status: Int32) -> String { errorString(status).map { String(cString: $0) } ?? "cuDNN status \(status)" }

    /// Throws cuDNN's words for a failed call.
    func check(_ status: Int32, _ what: String) throws(CUDAError) {
        guard status == 0 else { throw CUDAError("\(what): \(message(status))") }
    }
}
