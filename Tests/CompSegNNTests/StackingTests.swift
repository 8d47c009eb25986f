import CompSegNN
import CompSegTestSupport
import Testing

/// `stack`: tensors of one shape into a batch, each seen through a `PlaneView`.
@Suite struct StackingTests {
    /// What `stack` must give, pixel by pixel from the view's definition.
    static func expected(_ tensors: [Tensor], _ views: [PlaneView]) -> [Float] {
        let shape = tensors[0].shape, (h, w) = (shape[shape.rank - 2], shape[shape.rank - 1])
        var out: [Float] = []
        for (t, view) in zip(tensors, views) {
            let v = t.scalars
            for plane in 0..<(shape.count / (h * w)) {
                for y in 0..<h {
                    for x in 0..<w {
                        var (sy, sx) = view.transposes ? (x, y) : (y, x)
                        if view.flipsRows { sy = h - 1 - sy }
                        if view.flipsColumns { sx = w - 1 - sx }
                        out.append(v[plane * h * w + sy * w + sx])
                    }
                }
            }
        }
        return out
    }

    /// Every view of square planes, the flips of rectangular ones, with planes small (one thread)
    /// and large enough to be copied by several threads (64 planes of 64×64).
    @Test(arguments: [[5, 6, 6], [2, 5, 7], [64, 64, 64], [3, 40, 72]])
    func eachTensorIsSeenThroughItsView(dims: [Int]) throws {
        let square = dims[1] == dims[2]
        let codes = square ? Array(0..<8) : [0, 1, 2, 3, 3, 0]
        let tensors = codes.indices.map { randomTensor(Shape(dims), seed: UInt64($0)) }
        let views = codes.map(PlaneView.init(code:))
        let batch = try stack(tensors, views: views)
        #expect(batch.shape == Shape([codes.count] + dims))
        #expect(batch.scalars == Self.expected(tensors, views))
        #expect(try stack(tensors).scalars == tensors.flatMap(\.scalars))
        #expect(codes.allSatisfy { PlaneView(code: $0).code == $0 })
    }

    /// A view turns the plane as named: a 2×2 plane [[a, b], [c, d]].
    @Test func viewsAreTheNamedSymmetries() throws {
        let t = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        func seen(_ view: PlaneView) throws -> [Float] { try stack([t], views: [view]).scalars }
        #expect(try seen(.identity) == [1, 2, 3, 4])
        #expect(try seen(PlaneView(flipsRows: true)) == [3, 4, 1, 2])
        #expect(try seen(PlaneView(flipsColumns: true)) == [2, 1, 4, 3])
        #expect(try seen(PlaneView(transposes: true)) == [1, 3, 2, 4])
        #expect(try seen(PlaneView(flipsRows: true, transposes: true)) == [3, 1, 4, 2])  // a quarter turn clockwise
    }

    @Test func badStacksAreRefused() {
        let a = randomTensor([2, 3, 4], seed: 1)
        #expect(throws: ShapeError("stack", "needs at least one tensor")) { try stack([]) }
        #expect(throws: ShapeError("stack", "a transposing view needs square planes, got 3×4")) {
            try stack([a], views: [PlaneView(transposes: true)])
        }
        #expect(throws: ShapeError("stack", "1 views for 2 tensors")) { try stack([a, a], views: [.identity]) }
        #expect(throws: ShapeError("stack", "tensors need at least two axes (a plane), got 4")) {
            try stack([randomTensor([4], seed: 2)])
        }
    }
}
