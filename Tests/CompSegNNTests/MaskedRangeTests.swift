import CompSegNN
import Testing

/// `maskedRange`: the lowest and highest activation on tissue, over all images.
@Suite struct MaskedRangeTests {
    @Test func rangeOverMaskedPixelsOfAllImages() throws {
        let a = try Tensor(shape: [2, 1, 2, 2], scalars: [0.9, -3, 0.2, 5,  0.4, 7, -1, 0.6])
        let mask = try Tensor(shape: a.shape, scalars: [1, 0, 1, 0,  0, 0, 1, 1])
        let range = try maskedRange(a, mask: mask)
        #expect(range.lowest == -1 && range.highest == 0.9)
        let none = try maskedRange(a, mask: Tensor(zeros: a.shape))
        #expect(none.lowest == .infinity && none.highest == -.infinity)
        #expect(throws: ShapeError("maskedRange", "activation 2×1×2×2 and mask 2×1×2×1 differ")) {
            try maskedRange(a, mask: Tensor(zeros: [2, 1, 2, 1]))
        }
    }
}
