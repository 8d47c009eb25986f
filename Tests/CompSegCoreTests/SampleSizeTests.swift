import CompSegCore
import CompSegNN
import Testing

/// A mask or a picture of the wrong size is an error a reader can report, not a crash.
@Suite struct SampleSizeTests {
    @Test func wrongSizesThrowNamingBoth() {
        #expect(throws: ShapeError("Mask", "3×4 needs 12 pixels, got 11")) { try Mask(height: 3, width: 4, pixels: Array(repeating: true, count: 11)) }
        #expect(throws: ShapeError("Mask", "-1×4 is not a size")) { try Mask(height: -1, width: 4, pixels: []) }
        #expect(throws: ShapeError("RGBImage", "\(Int.max)×2 is not a size")) { try RGBImage(height: Int.max, width: 2, bytes: []) }
        #expect(throws: ShapeError("RGBImage", "2×2 needs 12 bytes, got 4")) { try RGBImage(height: 2, width: 2, bytes: [0, 0, 0, 0]) }
        #expect(throws: Never.self) { try Mask(height: 0, width: 5, pixels: []) }
        #expect(RGBImage(height: 2, width: 3, fill: (1, 2, 3)).bytes == Array(repeating: [1, 2, 3], count: 6).flatMap { $0 })
        #expect(Mask(height: 2, width: 2, filled: true).count == 4)
    }
}
