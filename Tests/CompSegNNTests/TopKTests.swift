import Testing
import CompSegNN
import CompSegTestSupport

/// `maskedTopKMean`: the mean of the ⌈fraction · tissue pixels⌉ largest activations per image.
@Suite struct TopKTests {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    /// Image 0: tissue values 0.9, 0.1, 0.5, 0.7, 0.3 (the 0.95 lies outside tissue); 40% of 5
    /// pixels is 2: (0.9 + 0.7) / 2. Image 1: all 6 pixels tissue; 40% of 6 is 2.4 → 3 pixels:
    /// (0.8 + 0.6 + 0.4) / 3.
    @Test func meanOfTheLargestTissueValues() throws {
        let a = try Tensor(shape: [2, 1, 2, 3], scalars: [0.9, 0.1, 0.95, 0.5, 0.7, 0.3,
                                                          0.2, 0.8, 0.4, 0.6, 0.0, 0.1])
        let mask = try Tensor(shape: [2, 1, 2, 3], scalars: [1, 1, 0, 1, 1, 1,
                                                             1, 1, 1, 1, 1, 1])
        let y = try maskedTopKMean(a, mask: mask, fraction: 0.4)
        #expect(y.shape == [2])
        #expect(Swift.abs(y.scalars[0] - 0.8) < 1e-6)
        #expect(Swift.abs(y.scalars[1] - 0.6) < 1e-6)
    }

    @Test func fractionOneIsTheMaskedMeanAndTinyFractionsTheMaximum() throws {
        let a = randomTensor([3, 1, 4, 5], seed: 1)
        let mask = try Tensor(shape: [3, 1, 4, 5], scalars: (0..<60).map { $0 % 3 == 1 ? 0 : 1 })
        let all = try maskedTopKMean(a, mask: mask, fraction: 1).scalars
        let reference = try maskedMean(a, mask: mask).scalars
        for i in 0..<3 { #expect(Swift.abs(all[i] - reference[i]) < 1e-5) }
        let top = try maskedTopKMean(a, mask: mask, fraction: 1e-6).scalars
        let values = a.scalars, m = mask.scalars
        for i in 0..<3 {
            let tissueMax = (i * 20..<(i + 1) * 20).filter { m[$0] > 0 }.map { values[$0] }.max()!
            #expect(top[i] == tissueMax)
        }
    }

    /// 0.1 of 10 pixels is exactly 1 pixel, though Float's 0.1 is slightly more than a tenth.
    @Test func fractionTimesCountRoundsUpButNotOnRepresentationError() throws {
        let a = try Tensor(shape: [1, 1, 1, 10], scalars: (0..<10).map { Float($0) })
        let ones = Tensor(repeating: 1, shape: [1, 1, 1, 10])
        #expect(try maskedTopKMean(a, mask: ones, fraction: 0.1).scalars == [9])
        #expect(try maskedTopKMean(a, mask: ones, fraction: 0.3).scalars == [8])  // 7 + 8 + 9
        #expect(try maskedTopKMean(a, mask: ones, fraction: 0.11).scalars == [8.5])  // ⌈1.1⌉ = 2
    }

    /// Equal values: the lower indices are chosen, so the gradient lands there.
    @Test func tiesGoToTheLowerIndex() throws {
        let a = try Tensor(shape: [1, 1, 1, 6], scalars: [0.5, 0.9, 0.5, 0.5, 0.2, 0.9], requiresGrad: true)
        let mask = try Tensor(shape: [1, 1, 1, 6], scalars: [1, 1, 1, 1, 1, 0])
        // 5 tissue pixels, 60% → 3: the 0.9 at index 1, then the 0.5s at indices 0 and 2 (not 3).
        let y = try maskedTopKMean(a, mask: mask, fraction: 0.6)
        #expect(Swift.abs(y.scalars[0] - Float(1.9 / 3)) < 1e-6)
        try y.backward(seed: Tensor(repeating: 3, shape: [1]))
        #expect(a.grad?.scalars == [1, 1, 1, 0, 0, 0])
    }

    /// Distinct values 0.1 apart (far more than twice the step), so the selection never changes
    /// inside the finite difference.
    @Test(arguments: [0.1, 0.35, 1.0] as [Float])
    func gradientMatchesFiniteDifferences(fraction: Float) throws {
        var g = SeededGenerator(seed: 2)
        let values = (0..<40).map { Float($0) * 0.1 - 2 }.shuffled(using: &g)
        let a = try Tensor(shape: [2, 1, 4, 5], scalars: values)
        let mask = try Tensor(shape: [2, 1, 4, 5], scalars: (0..<40).map { $0 % 4 == 3 ? 0 : 1 })
        let failures = try gradientCheck([a]) { t in try maskedTopKMean(t[0], mask: mask, fraction: fraction) }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func errorsNameTheOpAndWhatWasWrong() {
        let a = Tensor(zeros: [2, 1, 2, 2])
        let mask = try! Tensor(shape: [2, 1, 2, 2], scalars: [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(message { try maskedTopKMean(a, mask: mask, fraction: 0.5) }
            == "maskedTopKMean: mask of image 1 is empty: no pixel to take the largest values of")
        #expect(message { try maskedTopKMean(a, mask: Tensor(zeros: [2, 1, 2, 3]), fraction: 0.5) }
            == "maskedTopKMean: activation 2×1×2×2 and mask 2×1×2×3 differ")
        #expect(message { try maskedTopKMean(Tensor(zeros: [4, 4]), mask: Tensor(zeros: [4, 4]), fraction: 0.5) }
            == "maskedTopKMean: input must be N×C×H×W, got rank 2 (4×4)")
        for bad: Float in [0, -0.1, 1.5, .nan] {
            #expect(message { try maskedTopKMean(a, mask: mask, fraction: bad) }
                == "maskedTopKMean: fraction must lie in (0, 1], got \(bad)")
        }
    }
}
