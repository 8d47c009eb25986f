import CDNNL
import CKernels

/// The CPU backend: oneDNN primitives in oneDNN's blocked layouts (format `any`), activations kept
/// blocked from layer to layer and reordered only where plain values are asked for.
public final class CPUBackend: KernelBackend, @unchecked Sendable {
    public static let shared = CPUBackend()
    let context = DNNLContext()
    let primitiveCache = PrimitiveCache()
    let weightCache = WeightLayoutCache()
    let gemmScratch = ScratchBuffers()
    let winogradScratch = ScratchBuffers()
    public var name: String { "cpu (oneDNN \(CPUBackend.oneDNNVersion))" }

    public static var oneDNNVersion: String {
        let v = dnnl_version().pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN's kernels use on this CPU (at most this: a kernel may fall back).
    public static var instructionSet: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: "AVX-512 with AMX"
        case dnnl_cpu_isa_avx512_core_bf16: "AVX-512 with BF16"
        case dnnl_cpu_isa_avx512_core_vnni: "AVX-512 with VNNI"
        case dnnl_cpu_isa_avx512_core: "AVX-512"
        case dnnl_cpu_isa_avx2_vnni: "AVX2 with VNNI"
        case dnnl_cpu_isa_avx2: "AVX2"
        case dnnl_cpu_isa_avx: "AVX"
        case dnnl_cpu_isa_sse41: "SSE4.1"
        default: "baseline x86-64"
        }
    }

    /// A new tensor laid out as `desc` (plain layouts are recorded as nil), for a primitive to
    /// write whole: not zero-filled (oneDNN writes blocked layouts' padding itself).
    static func tensor(shape: Shape, desc: dnnl_memory_desc_t) -> Tensor {
        let layout = MemoryDesc.equal(desc, MemoryDesc.plain(shape.dims)) ? nil : DNNLLayout(desc)
        return Tensor(shape: shape, layout: layout,
                      storage: Storage(count: layout?.physicalCount ?? shape.count, zeroed: false))
    }

    // MARK: reorder

    public func reorder(_ x: Tensor, to layout: TensorLayout?) -> Tensor {
        if x.layout === layout { return x }
        let target = (layout as? DNNLLayout)?.desc ?? MemoryDesc.plain(x.shape.dims)
        do { return try reorder(x, to: target) } catch { fatalError("\(error)") }
    }

    /// `x` in the layout `desc`; `x` itself when already so.
    func reorder(_ x: Tensor, to desc: dnnl_memory_desc_t) throws(ShapeError) -> Tensor {
        let source = MemoryDesc.of(x)
        if MemoryDesc.equal(source, desc) { return x }
        let y = Self.tensor(shape: x.shape, desc: desc)
        try reorder(from: source, x.storage.base, to: desc, y.storage.base)
        return y
    }

    func reorder(from source: dnnl_memory_desc_t, _ src: UnsafeMutablePointer<Float>,
                 to target: dnnl_memory_desc_t, _ dst: UnsafeMutablePointer<Float>) throws(ShapeError) {
        let key: [AnyHashable] = ["reorder", MemoryDesc.key(source), MemoryDesc.key(target)]
        let reorder = try primitiveCache.primitive(key) { () throws(ShapeError) -> Primitive in
            var s = source, t = target
            var pd: dnnl_primitive_desc_t?
            let attr = try DNNLContext.userScratchpad(nil, "reorder")
            defer { dnnl_primitive_attr_destroy(attr) }
            try check(dnnl_reorder_primitive_desc_create(&pd, &s, context.engine, &t, context.engine, attr),
                      "reorder from \(MemoryDesc.describe(s)) to \(MemoryDesc.describe(t))", "descriptor")
            return try Primitive("reorder", pd: pd!)
        }
        try reorder.execute([(Arg.src, source, UnsafeMutableRawPointer(src)),
                             (Arg.dst, target, UnsafeMutableRawPointer(dst))])
    }

    /// A weight tensor (plain, PyTorch's order `plainDesc`, or in a layout of ours) in the layout a
    /// primitive chose, reordered once for as long as the weights are unchanged.
    func weightsReordered(_ w: Tensor, plainDesc: dnnl_memory_desc_t,
                          to target: dnnl_memory_desc_t) throws(ShapeError) -> (dnnl_memory_desc_t, UnsafeMutablePointer<Float>, Storage?) {
        let source = w.isPlain ? plainDesc : MemoryDesc.of(w)
        if MemoryDesc.equal(source, target) { return (target, w.storage.base, nil) }
        let storage = try weightCache.reordered(w.storage, layout: MemoryDesc.key(target)) { () throws(ShapeError) -> Storage in
            let storage = Storage(count: DNNLLayout(target).physicalCount, zeroed: false)
            if MemoryDesc.equal(source, plainDesc) || target.format_kind == dnnl_blocked {
                try reorder(from: source, w.storage.base, to: target, storage.base)
            } else {
                // Winograd's weight formats are reached from plain weights only.
                let plain = Storage(count: w.shape.count, zeroed: false)
                try reorder(from: source, w.storage.base, to: plainDesc, plain.base)
                try reorder(from: plainDesc, plain.base, to: target, storage.base)
            }
            return storage
        }
        return (target, storage.base, storage)
    }

    // MARK: elementwise

    /// The forward eltwise primitive of `function` on memory laid out as `data`.
    private func eltwisePrimitive(_ data: dnnl_memory_desc_t, _ function: Eltwise) throws(ShapeError) -> Primitive {
        try primitiveCache.primitive(["eltwise", function, MemoryDesc.key(data)] as [AnyHashable]) { () throws(ShapeError) -> Primitive in
            var data = data
            var desc = dnnl_eltwise_desc_t()
            let (alg, alpha, beta) = function.dnnl
            try check(dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_training, alg, &data, alpha, beta),
                      "eltwise", "descriptor")
            return try Primitive("eltwise \(function)", desc: &desc)
        }
    }

    public func eltwiseForward(_ x: Tensor, _ function: Eltwise) throws -> Tensor {
        let p = try eltwisePrimitive(MemoryDesc.of(x), function)
        let y = p.output(dnnl_query_dst_md, shape: x.shape)
        try p.execute([(Arg.src, x), (Arg.dst, y)])
        return y
    }

    /// `function` applied to `x`'s values where they lie.
    func eltwiseInPlace(_ x: Tensor, _ function: Eltwise) throws(ShapeError) {
        let p = try eltwisePrimitive(MemoryDesc.of(x), function)
        try p.execute([(Arg.src, x), (Arg.dst, x)])
    }

    public func eltwiseBackward(_ dy: Tensor, value: Tensor, _ function: Eltwise) throws -> Tensor {
        if function == .softplus { return try softplusBackward(dy, output: value) }
        let data = MemoryDesc.of(value)
        let key: [AnyHashable] = ["eltwise backward", function, MemoryDesc.key(data)]
        let p = try primitiveCache.primitive(key) { () throws(ShapeError) -> Primitive in
            let hint = try eltwisePrimitive(data, function)
            var data = data
            let (alg, alpha, beta) = function.dnnl
            var backward = dnnl_eltwise_desc_t()
            try check(dnnl_eltwise_backward_desc_init(&backward, alg, &data, &data, alpha, beta),
                      "eltwise backward", "descriptor")
            return try Primitive("eltwise backward \(function)", desc: &backward, hint: hint)
        }
        let dx = p.output(dnnl_query_diff_src_md, shape: value.shape)
        let valueArg = function.usesOutputForBackward ? Arg.dst : Arg.src
        try p.execute([(valueArg, value), (Arg.diffDst, try reorder(dy, to: data)), (Arg.diffSrc, dx)])
        return dx
    }

    /// Softplus' backward from its output, in the output's layout (oneDNN computes it only from
    /// the input, which a convolution with softplus inside its kernel does not keep).
    private func softplusBackward(_ dy: Tensor, output y: Tensor) throws(ShapeError) -> Tensor {
        let desc = MemoryDesc.of(y)
        let g = try reorder(dy, to: desc)
        let dx = Self.tensor(shape: y.shape, desc: desc)
        let (target, gradient, output) = (DisjointAccess(dx.storage.base), DisjointAccess(g.storage.base),
                                          DisjointAccess(y.storage.base))
        parallelChunks(y.physicalCount) { r in
            compseg_softplus_backward(target.value + r.lowerBound, gradient.value + r.lowerBound,
                                      output.value + r.lowerBound, r.count)
        }
        withExtendedLifetime((g, y)) {}
        return dx
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let src0 = MemoryDesc.of(a)
        let p = try primitiveCache.primitive(["binary", op, MemoryDesc.key(src0)] as [AnyHashable]) { () throws(ShapeError) -> Primitive in
            var src0 = src0, src1 = src0, dst = src0
            var desc = dnnl_binary_desc_t()
            try check(dnnl_binary_desc_init(&desc, op == .add ? dnnl_binary_add : dnnl_binary_mul, &src0, &src1, &dst),
                      "binary", "descriptor")
            return try Primitive("binary \(op)", desc: &desc)
        }
        let y = p.output(dnnl_query_dst_md, shape: a.shape)
        try p.execute([(Arg.src, a), (Arg.src1, try reorder(b, to: src0)), (Arg.dst, y)])
        return y
    }

    // MARK: concat and slice

    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
        if let y = concatByImage(xs, axis: axis) { return y }
        let sources = xs.map(MemoryDesc.of)
        var dims = xs[0].shape.dims
        dims[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        var pd: dnnl_primitive_desc_t?
        let attr = try DNNLContext.userScratchpad(nil, "concat")
        defer { dnnl_primitive_attr_destroy(attr) }
        try check(dnnl_concat_primitive_desc_create(&pd, nil, Int32(xs.count), Int32(axis), sources, attr,
                                                    context.engine), "concat", "descriptor")
        let p = try Primitive("concat", pd: pd!)
        let y = p.output(dnnl_query_dst_md, shape: Shape(dims))
        try p.execute(xs.enumerated().map { (Arg.multipleSrc($0.offset), $0.element) } + [(Arg.dst, y)])
        return y
    }

    /// Channel concatenation of images that are all plain, or all in channel blocks with whole
    /// blocks: each image of each input is one contiguous run, so the result is a copy of runs
    /// (oneDNN's generic concat moved these at about 2 GB/s). Nil for any other case.
    private func concatByImage(_ xs: [Tensor], axis: Int) -> Tensor? {
        guard axis == 1, xs.count > 1, xs.allSatisfy({ $0.shape.dims.count == 4 }) else { return nil }
        let (n, h, w) = (xs[0].shape.n, xs[0].shape.h, xs[0].shape.w)
        guard xs.allSatisfy({ $0.shape.n == n && $0.shape.h == h && $0.shape.w == w }) else { return nil }
        let outShape: Shape = [n, xs.reduce(0) { $0 + $1.shape.c }, h, w]
        let out: Tensor
        if xs.allSatisfy(\.isPlain) {
            out = Tensor(shape: outShape, layout: nil, storage: Storage(count: outShape.count, zeroed: false))
        } else if xs.allSatisfy(Self.inWholeChannelBlocks) {
            out = CPUBackend.tensor(shape: outShape, desc: Self.channelBlocked(outShape))
        } else {
            return nil
        }
        let runs = xs.map { $0.shape.c * h * w }, total = outShape.c * h * w
        let offsets = runs.indices.map { runs[..<$0].reduce(0, +) }
        let sources = DisjointAccess(xs.map(\.storage.base)), target = DisjointAccess(out.storage.base)
        parallelChunks(n * xs.count, minimumPerChunk: 1) { jobs in
            for job in jobs {
                let (image, k) = (job / xs.count, job % xs.count)
                (target.value + image * total + offsets[k]).update(from: sources.value[k] + image * runs[k], count: runs[k])
            }
        }
        return out
    }

    /// Channels per block in the image layout oneDNN's convolutions choose on this CPU: 16 where
    /// they run AVX-512 kernels (nChw16c), else 8 (nChw8c, AVX2).
    static let channelBlock: Int = {
        let dims = [1, 64, 16, 16]
        var (src, weights, dst) = (MemoryDesc.any(dims), MemoryDesc.any([64, 64, 3, 3]), MemoryDesc.any(dims))
        var d = dnnl_convolution_desc_t()
        let (one, pad): ([Int64], [Int64]) = ([1, 1], [1, 1])
        guard dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &src, &weights, nil,
                                                 &dst, one, pad, pad) == dnnl_success,
              let p = try? Primitive("conv2d", desc: &d) else { return 8 }
        return MemoryDesc.equal(p.desc(dnnl_query_dst_md), MemoryDesc.byTag(dims, dnnl_nChw16c)) ? 16 : 8
    }()

    /// An N×C×H×W descriptor in `channelBlock`-channel blocks.
    static func channelBlocked(_ shape: Shape) -> dnnl_memory_desc_t {
        MemoryDesc.byTag(shape.dims, channelBlock == 16 ? dnnl_nChw16c : dnnl_nChw8c)
    }

    /// Whether `t` is an image in `channelBlock`-channel blocks without padding channels.
    private static func inWholeChannelBlocks(_ t: Tensor) -> Bool {
        t.shape.dims.count == 4 && t.shape.c % channelBlock == 0
            && MemoryDesc.equal(MemoryDesc.of(t), channelBlocked(t.shape))
    }

    /// Channels `range` of images that are plain, or in channel blocks with the range on block
    /// bounds, in the same layout: one contiguous run per image (concatenation's backward, whose
    /// result then meets the blocked gradients of the other branch without conversions). Nil for
    /// any other case.
    private func sliceByImage(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor? {
        guard axis == 1, x.shape.dims.count == 4, !range.isEmpty, range.lowerBound >= 0,
              range.upperBound <= x.shape.c else { return nil }
        let (n, c, h, w) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w)
        let outShape: Shape = [n, range.count, h, w]
        let out: Tensor
        if x.isPlain {
            out = Tensor(uninitialized: outShape)
        } else if Self.inWholeChannelBlocks(x), range.lowerBound % Self.channelBlock == 0,
                  range.count % Self.channelBlock == 0 {
            out = CPUBackend.tensor(shape: outShape, desc: Self.channelBlocked(outShape))
        } else {
            return nil
        }
        // In both layouts channel k of an image starts k·h·w values in (a block of B channels holds B·h·w).
        let (run, first, total) = (range.count * h * w, range.lowerBound * h * w, c * h * w)
        let (source, target) = (DisjointAccess(x.storage.base), DisjointAccess(out.storage.base))
        parallelChunks(n, minimumPerChunk: 1) { images in
            for image in images {
                (target.value + image * run).update(from: source.value + image * total + first, count: run)
            }
        }
        return out
    }

    public func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor {
        if let y = sliceByImage(x, axis: axis, range: range) { return y }
        var dims = x.shape.dims
        dims[axis] = range.count
        var offsets = [Int64](repeating: 0, count: dims.count)
        offsets[axis] = Int64(range.lowerBound)
        // A view into the source's own layout where its blocking allows, else into a plain copy.
        var parent = MemoryDesc.of(x)
        var source = x
        var view = dnnl_memory_desc_t()
        if dnnl_memory_desc_init_submemory(&view, &parent, dims.map(Int64.init), offsets) != dnnl_success {
            source = try reorder(x, to: MemoryDesc.plain(x.shape.dims))
            parent = MemoryDesc.plain(x.shape.dims)
            try check(dnnl_memory_desc_init_submemory(&view, &parent, dims.map(Int64.init), offsets),
                      "slice", "view")
        }
        let y = Tensor(zeros: Shape(dims))
        try reorder(from: view, source.storage.base, to: MemoryDesc.plain(dims), y.storage.base)
        return y
    }
}

extension Eltwise {
    /// oneDNN algorithm, alpha and beta.
    var dnnl: (dnnl_alg_kind_t, Float, Float) {
        switch self {
        case .relu: (dnnl_eltwise_relu_use_dst_for_bwd, 0, 0)
        case .softplus: (dnnl_eltwise_soft_relu, 0, 0)
        case .sigmoid: (dnnl_eltwise_logistic_use_dst_for_bwd, 0, 0)
        case .abs: (dnnl_eltwise_abs, 0, 0)
        case .exp: (dnnl_eltwise_exp, 0, 0)
        case .log: (dnnl_eltwise_log, 0, 0)
        case .square: (dnnl_eltwise_square, 0, 0)
        case .clip(let lower, let upper): (dnnl_eltwise_clip_v2, lower, upper)
        case .linear(let alpha, let beta): (dnnl_eltwise_linear, alpha, beta)
        }
    }
}
