import CDNNL
import Foundation

/// oneDNN's memory descriptor as a CompSegNN layout.
final class DNNLLayout: TensorLayout, @unchecked Sendable {
    let desc: dnnl_memory_desc_t
    let physicalCount: Int
    init(_ desc: dnnl_memory_desc_t) {
        var d = desc
        self.desc = desc
        physicalCount = dnnl_memory_desc_get_size(&d) / MemoryLayout<Float>.stride
    }
}

/// The oneDNN CPU engine and its one in-order stream. Executions are serialized by `lock`: each
/// primitive already uses every core (OpenMP), so callers on several threads would only contend.
///
/// Every primitive is made with a scratchpad of ours (`dnnl_scratchpad_mode_user`), handed to it
/// at each execution: oneDNN's own (the library mode, as Debian builds it) may not be run on
/// another thread than the one that made the primitive, and ours are cached and shared by every
/// thread (tests train in parallel; a task may resume on another thread).
final class DNNLContext: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    let lock = NSLock()
    /// The scratchpad of the execution under `lock`, grown to the largest asked for.
    private var scratchpad: (base: UnsafeMutableRawPointer, bytes: Int)?

    /// At least `bytes` of scratchpad, page-aligned (as oneDNN's own: 64-byte alignment measured
    /// 10–15% slower steps at 64², 3 of 3 interleaved rounds), for the execution holding `lock`.
    func scratchpad(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let s = scratchpad, s.bytes >= bytes { return s.base }
        scratchpad?.base.deallocate()
        let base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        scratchpad = (base, bytes)
        return base
    }

    /// `attr` (a new one when nil, which the caller then destroys) set to take our scratchpad.
    static func userScratchpad(_ attr: dnnl_primitive_attr_t?, _ op: String) throws(ShapeError) -> dnnl_primitive_attr_t {
        var a = attr
        if a == nil { try check(dnnl_primitive_attr_create(&a), op, "attribute") }
        try check(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user), op, "scratchpad mode")
        return a!
    }

    init() {
        var engine: dnnl_engine_t?
        var stream: dnnl_stream_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream
        else { fatalError("CompSegNN: oneDNN could not create its CPU engine") }
        self.engine = engine
        self.stream = stream
    }
}

/// Throws a `ShapeError` for `op` when oneDNN returns an error status.
func check(_ status: dnnl_status_t, _ op: String, _ what: @autoclosure () -> String) throws(ShapeError) {
    guard status == dnnl_success else {
        throw ShapeError(op, "oneDNN \(what()) failed (status \(status.rawValue))")
    }
}

/// Memory descriptors.
enum MemoryDesc {
    /// A descriptor in words, for messages: dims, then strides and inner blocks, or its kind
    /// when not a strided layout (e.g. Winograd's weight formats).
    static func describe(_ desc: dnnl_memory_desc_t) -> String {
        var d = desc
        let rank = Int(d.ndims)
        let dims = withUnsafeBytes(of: &d.dims) { Array($0.bindMemory(to: Int64.self).prefix(rank)) }
        let shape = dims.map(String.init).joined(separator: "×")
        guard d.format_kind == dnnl_blocked else { return "\(shape) (format kind \(d.format_kind.rawValue))" }
        var blocking = d.format_desc.blocking
        let strides = withUnsafeBytes(of: &blocking.strides) { Array($0.bindMemory(to: Int64.self).prefix(rank)) }
        let count = Int(blocking.inner_nblks)
        let blocks = withUnsafeBytes(of: &blocking.inner_blks) { Array($0.bindMemory(to: Int64.self).prefix(count)) }
        let indices = withUnsafeBytes(of: &blocking.inner_idxs) { Array($0.bindMemory(to: Int64.self).prefix(count)) }
        let inner = zip(blocks, indices).map { "\($0)\(Character(UnicodeScalar(97 + UInt8($1))))" }.joined()
        return "\(shape) strides \(strides.map(String.init).joined(separator: ","))" + (inner.isEmpty ? "" : " blocks \(inner)")
    }

    /// Plain row-major descriptor for `dims` (a, ab, abc or abcd).
    static func plain(_ dims: [Int]) -> dnnl_memory_desc_t {
        let tags: [dnnl_format_tag_t] = [dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde]
        return byTag(dims, tags[dims.count - 1])
    }

    /// A descriptor that lets the primitive choose the layout.
    static func any(_ dims: [Int]) -> dnnl_memory_desc_t { byTag(dims, dnnl_format_tag_any) }

    static func byTag(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        let status = dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag)
        precondition(status == dnnl_success, "oneDNN memory descriptor for \(dims) with tag \(tag)")
        return md
    }

    /// `dims` with the given strides, in floats (a view into a larger buffer, or a permuted order).
    static func strided(_ dims: [Int], strides: [Int]) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let status = dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), dims.map(Int64.init), dnnl_f32,
                                                      strides.map(Int64.init))
        precondition(status == dnnl_success, "oneDNN memory descriptor for \(dims) with strides \(strides)")
        return md
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// `single`, a layout of one image, for `count` images one after another; nil where the
    /// image's values are not one run (a layout that interleaves images).
    static func batch(of single: dnnl_memory_desc_t, _ count: Int) -> dnnl_memory_desc_t? {
        if count == 1 { return single }
        var d = single
        guard d.format_kind == dnnl_blocked, d.dims.0 == 1, d.padded_dims.0 == 1,
              d.format_desc.blocking.strides.0 == Int64(DNNLLayout(single).physicalCount) else { return nil }
        let inner = Int(d.format_desc.blocking.inner_nblks)
        let blocked = withUnsafeBytes(of: d.format_desc.blocking.inner_idxs) { $0.bindMemory(to: Int64.self).prefix(inner).contains(0) }
        guard !blocked else { return nil }
        d.dims.0 = Int64(count)
        d.padded_dims.0 = Int64(count)
        return d
    }

    /// The descriptor of a tensor as it lies in memory.
    static func of(_ t: Tensor) -> dnnl_memory_desc_t {
        (t.layout as? DNNLLayout)?.desc ?? plain(t.shape.dims)
    }
}

/// An owned oneDNN primitive descriptor and its primitive.
final class Primitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    let op: String
    /// An activation its caller applies to the output afterwards, where the kernel could not take
    /// it as a post-op (set once, before the primitive is shared).
    var activationAfter: Eltwise?
    /// Whether oneDNN runs it on Winograd kernels (set once, before the primitive is shared).
    var winograd = false

    /// Creates the primitive for an op descriptor (`desc` points at a dnnl_*_desc_t).
    convenience init(_ op: String, desc: UnsafeRawPointer, attr: dnnl_primitive_attr_t? = nil,
                     hint: Primitive? = nil) throws(ShapeError) {
        var pd: dnnl_primitive_desc_t?
        let a = try DNNLContext.userScratchpad(attr, op)
        defer { if attr == nil { dnnl_primitive_attr_destroy(a) } }
        try check(dnnl_primitive_desc_create(&pd, desc, a, CPUBackend.shared.context.engine, hint?.pd),
                  op, "primitive descriptor")
        try self.init(op, pd: pd!)
    }

    /// Takes ownership of `pd` (made with `DNNLContext.userScratchpad`) and creates its primitive.
    init(_ op: String, pd: dnnl_primitive_desc_t) throws(ShapeError) {
        var primitive: dnnl_primitive_t?
        let status = dnnl_primitive_create(&primitive, pd)
        guard status == dnnl_success, let primitive else {
            dnnl_primitive_desc_destroy(pd)
            throw ShapeError(op, "oneDNN primitive creation failed (status \(status.rawValue))")
        }
        self.pd = pd
        self.primitive = primitive
        self.op = op
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    /// oneDNN's name for the kernel it chose, e.g. "jit_wino_4x3:avx512_core".
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "" }
        return String(cString: name)
    }

    /// The memory descriptor the primitive chose for `what` (e.g. dnnl_query_src_md).
    func desc(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, index).pointee
    }

    /// A new tensor of `shape` in the layout the primitive chose for `what`.
    func output(_ what: dnnl_query_t, shape: Shape) -> Tensor {
        CPUBackend.tensor(shape: shape, desc: desc(what))
    }

    /// Runs the primitive on (argument, descriptor, memory) triples and waits for it.
    func execute(_ args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) throws(ShapeError) {
        let context = CPUBackend.shared.context
        var memories: [dnnl_exec_arg_t] = []
        memories.reserveCapacity(args.count)
        defer { for m in memories { dnnl_memory_destroy(m.memory) } }
        for (arg, desc, pointer) in args {
            var d = desc
            var memory: dnnl_memory_t?
            try check(dnnl_memory_create(&memory, &d, context.engine, pointer), op, "memory creation")
            memories.append(dnnl_exec_arg_t(arg: arg, memory: memory))
        }
        context.lock.lock()
        defer { context.lock.unlock() }
        var scratchpad = desc(dnnl_query_scratchpad_md)
        let scratchpadBytes = dnnl_memory_desc_get_size(&scratchpad)
        if scratchpadBytes > 0 {
            var memory: dnnl_memory_t?
            try check(dnnl_memory_create(&memory, &scratchpad, context.engine, context.scratchpad(scratchpadBytes)),
                      op, "scratchpad")
            memories.append(dnnl_exec_arg_t(arg: Arg.scratchpad, memory: memory))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try check(dnnl_primitive_execute(primitive, context.stream, Int32(memories.count), memories),
                  op, "execution")
        try check(dnnl_stream_wait(context.stream), op, "stream wait")
        Counters.addKernelTime(DispatchTime.now().uptimeNanoseconds - start)
    }

    /// Runs the primitive on (argument, tensor) pairs; each tensor must already be in the layout
    /// the primitive expects.
    func execute(_ args: [(Int32, Tensor)]) throws(ShapeError) {
        try execute(args.map { ($0.0, MemoryDesc.of($0.1), UnsafeMutableRawPointer($0.1.storage.base)) })
    }
}

/// Argument indices of oneDNN's execute call (the C macros, spelled out).
enum Arg {
    static let src = Int32(DNNL_ARG_SRC_0), dst = Int32(DNNL_ARG_DST_0)
    static let src1 = Int32(DNNL_ARG_SRC_1)
    static let weights = Int32(DNNL_ARG_WEIGHTS_0), bias = Int32(DNNL_ARG_BIAS)
    static let mean = Int32(DNNL_ARG_MEAN), variance = Int32(DNNL_ARG_VARIANCE)
    static let scale = Int32(DNNL_ARG_SCALE), shift = Int32(DNNL_ARG_SHIFT)
    static let workspace = Int32(DNNL_ARG_WORKSPACE), scratchpad = Int32(DNNL_ARG_SCRATCHPAD)
    static let diffSrc = Int32(DNNL_ARG_DIFF_SRC_0), diffDst = Int32(DNNL_ARG_DIFF_DST_0)
    static let diffWeights = Int32(DNNL_ARG_DIFF_WEIGHTS_0), diffBias = Int32(DNNL_ARG_DIFF_BIAS)
    static let diffScale = Int32(DNNL_ARG_DIFF_SCALE), diffShift = Int32(DNNL_ARG_DIFF_SHIFT)
    static func multipleSrc(_ i: Int) -> Int32 { Int32(DNNL_ARG_MULTIPLE_SRC) + Int32(i) }
}

/// Calls `body` with a pointer to `value`, or with nil when there is no value (optional C arguments).
func withOptionalPointer<T, R>(to value: T?, _ body: (UnsafePointer<T>?) throws(ShapeError) -> R) throws(ShapeError) -> R {
    guard var v = value else { return try body(nil) }
    return try withUnsafePointer(to: &v) { (p) throws(ShapeError) -> R in try body(p) }
}

/// Primitives kept by a key describing what they compute (shapes and parameters).
final class PrimitiveCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [AnyHashable: AnyObject] = [:]
    func lookup(_ key: AnyHashable) -> AnyObject? { lock.withLock { entries[key] } }
    func store(_ key: AnyHashable, _ value: AnyObject) { lock.withLock { entries[key] = value } }

    /// The primitive under `key`, made by `make` the first time.
    func primitive(_ key: AnyHashable, _ make: () throws(ShapeError) -> Primitive) throws(ShapeError) -> Primitive {
        if let p = lookup(key) as? Primitive { return p }
        let p = try make()
        store(key, p)
        return p
    }
}

extension MemoryDesc {
    /// A descriptor's bytes, as part of a cache key (equal bytes describe equal memory).
    static func key(_ desc: dnnl_memory_desc_t) -> Data {
        withUnsafeBytes(of: desc) { Data($0) }
    }
}

/// Primitive attributes that fuse an activation into a primitive's output (a post-op).
enum PostOps {
    /// An attribute applying `activation` to the primitive's output, or nil when there is none;
    /// the caller destroys it once the primitive descriptor is made.
    static func attribute(_ activation: Eltwise?, _ op: String) throws(ShapeError) -> dnnl_primitive_attr_t? {
        guard let activation else { return nil }
        var attr: dnnl_primitive_attr_t?
        var ops: dnnl_post_ops_t?
        try check(dnnl_primitive_attr_create(&attr), op, "attribute")
        guard dnnl_post_ops_create(&ops) == dnnl_success else {
            dnnl_primitive_attr_destroy(attr)
            throw ShapeError(op, "oneDNN post-ops creation failed")
        }
        defer { dnnl_post_ops_destroy(ops) }
        // The forward computation of each function; the `use_dst_for_bwd` variants differ only in backward.
        var (alg, alpha, beta) = activation.dnnl
        if alg == dnnl_eltwise_logistic_use_dst_for_bwd { alg = dnnl_eltwise_logistic }
        if alg == dnnl_eltwise_relu_use_dst_for_bwd { alg = dnnl_eltwise_relu }
        guard dnnl_post_ops_append_eltwise(ops, 1, alg, alpha, beta) == dnnl_success,
              dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success else {
            dnnl_primitive_attr_destroy(attr)
            throw ShapeError(op, "oneDNN cannot fuse \(activation) as a post-op")
        }
        return attr
    }
}

/// Weights in the layouts primitives chose, kept while the plain weights are unchanged (their
/// storage's version), so a forward pass over many images, and a step's forward and backward,
/// reorder each weight once. An entry whose plain weights are gone is dropped.
final class WeightLayoutCache: @unchecked Sendable {
    private struct Entry {
        weak var source: Storage?
        let version: Int
        var layouts: [Data: Storage]
    }
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]

    /// `weights` in the layout `key`, from the cache or made by `make` (which reorders into new storage).
    func reordered(_ weights: Storage, layout key: Data, make: () throws(ShapeError) -> Storage) throws(ShapeError) -> Storage {
        let id = ObjectIdentifier(weights)
        if let found = lock.withLock({ () -> Storage? in
            guard let e = entries[id], e.source === weights, e.version == weights.version else { return nil }
            return e.layouts[key]
        }) { return found }
        let made = try make()
        lock.withLock {
            if var e = entries[id], e.source === weights, e.version == weights.version {
                e.layouts[key] = made
                entries[id] = e
            } else {
                if entries[id] == nil { entries = entries.filter { $0.value.source != nil } }
                entries[id] = Entry(source: weights, version: weights.version, layouts: [key: made])
            }
        }
        return made
    }
}
