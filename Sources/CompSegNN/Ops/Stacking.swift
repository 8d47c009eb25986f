/// One of the eight symmetries of a square grid (the four flips of a rectangle), as a view of an
/// image plane: output pixel (y, x) is input pixel (sy, sx) with (sy, sx) = (x, y) when
/// `transposes`, else (y, x); then sy = H − 1 − sy when `flipsRows`, and sx = W − 1 − sx when
/// `flipsColumns`.
public struct PlaneView: Hashable, Sendable {
    public var flipsRows: Bool, flipsColumns: Bool, transposes: Bool

    public init(flipsRows: Bool = false, flipsColumns: Bool = false, transposes: Bool = false) {
        self.flipsRows = flipsRows; self.flipsColumns = flipsColumns; self.transposes = transposes
    }

    /// The view numbered `code` in 0..<8: bit 0 flips rows, bit 1 columns, bit 2 transposes.
    public init(code: Int) {
        precondition((0..<8).contains(code), "a plane view's code lies in 0..<8, got \(code)")
        self.init(flipsRows: code & 1 != 0, flipsColumns: code & 2 != 0, transposes: code & 4 != 0)
    }

    /// The inverse of `init(code:)`.
    public var code: Int { (flipsRows ? 1 : 0) | (flipsColumns ? 2 : 0) | (transposes ? 4 : 0) }

    public static let identity = PlaneView()
}

/// The tensors, all of one shape, stacked along a new first axis: n × shape, plain and untracked
/// (a batch of samples), each seen through its view of `views` (one per tensor; nil: as they are)
/// over its last two axes. A transposing view needs square planes. A single plain tensor seen as
/// it is is not copied: the result shares its values. Where the backend holds the tensors (a GPU),
/// the copy runs there (`DeviceKernels`); else planes are copied in parallel on the host.
/// - Throws: `ShapeError` when there is no tensor, shapes differ, a tensor has fewer than two
///   axes, views and tensors differ in number, or a transposing view meets a plane that is not square.
public func stack(_ tensors: [Tensor], views: [PlaneView]? = nil) throws -> Tensor {
    let op = "stack"
    try require(!tensors.isEmpty, op, "needs at least one tensor")
    let shape = tensors[0].shape
    for t in tensors where t.shape != shape { throw ShapeError(op, "shapes differ: \(shape) and \(t.shape)") }
    try require(shape.rank >= 2, op, "tensors need at least two axes (a plane), got \(shape)")
    let views = views ?? Array(repeating: .identity, count: tensors.count)
    try require(views.count == tensors.count, op, "\(views.count) views for \(tensors.count) tensors")
    let (h, w) = (shape[shape.rank - 2], shape[shape.rank - 1])
    try require(h == w || !views.contains { $0.transposes }, op, "a transposing view needs square planes, got \(h)×\(w)")
    let stacked = Shape([tensors.count] + shape.dims)
    if tensors.count == 1, tensors[0].isPlain, views[0] == .identity {
        return Tensor(shape: stacked, layout: nil, storage: tensors[0].storage)
    }
    guard shape.count > 0 else { return Tensor(uninitialized: stacked) }
    let plain = tensors.map { $0.plain() }
    if let kernels = Backend.deviceKernels, let y = try kernels.stack(plain, views: views) { return y }
    let y = Tensor(uninitialized: stacked)
    let planes = shape.count / (h * w), plane = h * w
    let sources = plain.map { DisjointAccess(UnsafePointer($0.storage.base)) }
    let target = DisjointAccess(y.storage.base)
    withExtendedLifetime(plain) {
        // One plane a task: planes are large (an image channel) and each is copied whole.
        parallelChunks(tensors.count * planes, minimumPerChunk: max(1, (1 << 16) / plane)) { range in
            for p in range {
                let (k, q) = p.quotientAndRemainder(dividingBy: planes)
                copyPlane(sources[k].value + q * plane, into: target.value + p * plane, h: h, w: w, views[k])
            }
        }
    }
    return y
}

/// Writes the `h`×`w` plane `source` seen through `view` into `target`.
private func copyPlane(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, h: Int, w: Int,
                       _ view: PlaneView) {
    if !view.transposes {
        for y in 0..<h {
            let from = source + (view.flipsRows ? h - 1 - y : y) * w, to = target + y * w
            if view.flipsColumns {
                for x in 0..<w { to[x] = from[w - 1 - x] }
            } else {
                to.update(from: from, count: w)
            }
        }
        return
    }
    // Transposed (h = w): in tiles, so that the column reads stay in cache.
    let tile = 32
    for y0 in stride(from: 0, to: h, by: tile) {
        for x0 in stride(from: 0, to: w, by: tile) {
            for y in y0..<min(y0 + tile, h) {
                let sx = view.flipsColumns ? w - 1 - y : y
                for x in x0..<min(x0 + tile, w) {
                    target[y * w + x] = source[(view.flipsRows ? h - 1 - x : x) * w + sx]
                }
            }
        }
    }
}
