import Testing
import CompSegNN
import CompSegTestSupport

/// Wrong shapes, ranks and empty tensors are rejected with a message naming the op and shapes.
@Suite struct BadInputTests {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func convolutionChannelMismatch() {
        let m = message { try conv2d(Tensor(zeros: [1, 3, 8, 8]), weight: Tensor(zeros: [4, 5, 3, 3])) }
        #expect(m == "conv2d: input 1×3×8×8 has 3 channels but weight 4×5×3×3 expects 5")
    }

    @Test func wrongRankAndEmptyTensors() {
        #expect(message { try conv2d(Tensor(zeros: [3, 8, 8]), weight: Tensor(zeros: [4, 3, 3, 3])) }
            == "conv2d: input must be N×C×H×W, got rank 3 (3×8×8)")
        #expect(message { try maxPool2d(Tensor(zeros: [1, 0, 4, 4])) } == "maxPool2d: input must not be empty, got 1×0×4×4")
        #expect(message { try sum(Tensor(zeros: [0])) } == "sum: input is empty (0)")
    }

    @Test func kernelLargerThanInput() {
        #expect(message { try conv2d(Tensor(zeros: [1, 1, 2, 2]), weight: Tensor(zeros: [1, 1, 5, 5])) }
            == "conv2d: input 1×1×2×2 is smaller than kernel 5×5 with padding 0")
        #expect(message { try maxPool2d(Tensor(zeros: [1, 1, 1, 4])) } == "maxPool2d: input 1×1×1×4 is smaller than the 2×2 window")
    }

    @Test func mismatchedElementwiseAndConcat() {
        #expect(message { try add(Tensor(zeros: [1, 2, 3, 3]), Tensor(zeros: [1, 2, 3, 4])) }
            == "add: shapes differ: 1×2×3×3 and 1×2×3×4")
        #expect(message { try concat([Tensor(zeros: [1, 2, 4, 4]), Tensor(zeros: [1, 2, 5, 4])]) }
            == "concat: shapes 1×2×4×4, 1×2×5×4 differ outside the channel axis")
        #expect(message { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) } == "Tensor: shape 2×2 needs 4 values, got 3")
    }

    @Test func biasAndUnpoolShapes() throws {
        #expect(message { try conv2d(Tensor(zeros: [1, 1, 4, 4]), weight: Tensor(zeros: [2, 1, 3, 3]), bias: Tensor(zeros: [3])) }
            == "conv2d: bias must have shape 2, got 3")
        let (_, indices) = try maxPool2d(Tensor(zeros: [1, 1, 4, 4]), keepIndices: true)
        #expect(message { try maxUnpool2d(Tensor(zeros: [1, 1, 3, 2]), indices: indices!) }
            == "maxUnpool2d: input 1×1×3×2 differs from the pooled shape 1×1×2×2 of these indices")
    }

    @Test func maskedMeanNamesTheEmptyImage() {
        let a = Tensor(zeros: [2, 1, 2, 2])
        let mask = try! Tensor(shape: [2, 1, 2, 2], scalars: [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(message { try maskedMean(a, mask: mask) } == "maskedMean: mask of image 1 is empty: no pixel to average over")
    }

    @Test func backwardNeedsALossOrSeed() {
        let x = Tensor(zeros: [2], requiresGrad: true)
        #expect(message { try scale(x, by: 2).backward() }
            == "backward: needs a one-element tensor (a loss) or a seed; shape is 2")
        #expect(message { try Tensor(zeros: [1]).backward() }
            == "backward: the tensor does not depend on any tensor with requiresGrad")
    }
}
