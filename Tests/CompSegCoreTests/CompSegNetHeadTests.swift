import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegNetHead
import CompSegTestSupport

@Suite struct CompSegNetHeadTests {
    /// σ_{α,β,γ}(p) = α(2/(1+e^{−βp/α}) − 1) + γp at known points, computed here in Double.
    @Test(arguments: [0.0, 0.01, 0.05, 0.3, 1.0])
    func transferFunctionAtKnownPoints(p: Double) throws {
        let head = try CompSegNetHead()
        let expected = 0.1 * (2 / (1 + Foundation.exp(-5 * p / 0.1)) - 1) + 0.001 * p
        // Every pixel is p, the mask covers half the image: the masked mean is p.
        let a = Tensor(repeating: Float(p), shape: [1, 1, 2, 2])
        let mask = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 1, 0])
        let o = try head.score(activation: a, tissue: mask).scalars[0]
        #expect(Swift.abs(Double(o) - expected) < 1e-6)  // float32 of values ≤ 0.1
    }

    @Test func lossIsL1AgainstAlphaTimesLabel() throws {
        let a = try Tensor(shape: [2, 1, 1, 2], scalars: [0.3, 0.9, 0.2, 0.0])
        let mask = try Tensor(shape: [2, 1, 1, 2], scalars: [1, 0, 1, 1])  // p = 0.3 and 0.1
        let labels = try Tensor(shape: [2], scalars: [1, 0])
        func sigma(_ p: Double) -> Double { 0.1 * (2 / (1 + Foundation.exp(-5 * p / 0.1)) - 1) + 0.001 * p }
        let expected = Swift.abs(sigma(0.3) - 0.1) + sigma(0.1)
        let sumLoss = try CompSegNetHead().loss(activation: a, tissue: mask, labels: labels).scalars[0]
        #expect(Swift.abs(Double(sumLoss) - expected) < 1e-6)
        var c = CompSegNetHead.Configuration()
        c.reduction = .mean
        let meanLoss = try CompSegNetHead(c).loss(activation: a, tissue: mask, labels: labels).scalars[0]
        #expect(Swift.abs(Double(meanLoss) - expected / 2) < 1e-6)
    }

    @Test func lossGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 3)
        // Activations near 0.05 keep σ out of saturation, so every path carries gradient.
        let a = try Tensor(shape: [2, 1, 3, 3], scalars: (0..<18).map { _ in 0.02 + 0.06 * g.nextUniform() })
        let mask = try Tensor(shape: [2, 1, 3, 3], scalars: (0..<18).map { $0 % 4 == 0 ? 0 : 1 })
        let labels = try Tensor(shape: [2], scalars: [1, 0])
        let head = try CompSegNetHead()
        // Step 1e-3: activations are O(0.05) and σ's slope is O(β) = 5.
        let failures = try gradientCheck([a], step: 1e-3, tolerance: 1e-2) { t in
            try head.loss(activation: t[0], tissue: mask, labels: labels)
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func emptyTissueIsAnError() throws {
        let a = Tensor(zeros: [1, 1, 2, 2])
        #expect(throws: ShapeError("maskedMean", "mask of image 0 is empty: no pixel to average over")) {
            try CompSegNetHead().score(activation: a, tissue: Tensor(zeros: [1, 1, 2, 2]))
        }
    }

    @Test func invalidAlphaIsRejected() {
        var c = CompSegNetHead.Configuration()
        c.alpha = 1.5
        #expect(throws: ConfigurationError.self) { try CompSegNetHead(c) }
    }
}

@Suite struct SampleTests {
    @Test func partsMustAgreeInSize() throws {
        let image = Tensor(zeros: [3, 4, 5])
        let ok = try Sample(id: "s1", image: image, channels: .bands(["R", "G", "B"]),
                            tissue: Mask(height: 4, width: 5, filled: true),
                            preview: try RGBImage(height: 4, width: 5, bytes: Array(repeating: 0, count: 60)))
        #expect(ok.height == 4 && ok.width == 5)
        #expect(throws: SampleError.self) {
            try Sample(id: "s2", image: image, channels: .bands(["R", "G"]), tissue: Mask(height: 4, width: 5, filled: true),
                       preview: try RGBImage(height: 4, width: 5, bytes: Array(repeating: 0, count: 60)))
        }
    }

    /// Axes of one count and ends (two bands swapped) are told apart by the first band where they part.
    @Test func channelsUnlikeTheFittedOnesNameWhereTheyPart() throws {
        let sample = try Sample(id: "s", image: Tensor(zeros: [4, 2, 2]), channels: .spectral(values: [1030, 1010, 1020, 1000], unit: "cm⁻¹"),
                                tissue: Mask(height: 2, width: 2, filled: true),
                                preview: try RGBImage(height: 2, width: 2, bytes: Array(repeating: 0, count: 12)))
        let fitted = ChannelAxis.spectral(values: [1000, 1010, 1020, 1030], unit: "cm⁻¹")
        #expect { _ = try sample.aligned(to: fitted, by: "'pca' was fitted on", remedy: "train anew") } throws: { error in
            "\(error)".contains("its channels (4 bands, 1030–1000 cm⁻¹) are not those 'pca' was fitted on (4 bands, 1000–1030 cm⁻¹), "
                                + "first at band 1 (from 0, in the order of theirs): 1020 (theirs: 1010); train anew")
        }
        #expect(try sample.aligned(to: .spectral(values: [1000, 1020, 1010, 1030], unit: "cm⁻¹"), by: "", remedy: "").channels
                    == .spectral(values: [1000, 1020, 1010, 1030], unit: "cm⁻¹"))
        // Positions beyond a whole number's range are written as numbers, not trapped on (a file's axis of 1e19…).
        #expect(ChannelAxis.spectral(values: [1e19, 2.5e19], unit: "nm").summary == "2 bands, 1e+19–2.5e+19 nm")
        #expect(ChannelAxis.spectral(values: [-3, 1800.25], unit: "cm⁻¹").summary == "2 bands, -3–1800.25 cm⁻¹")
    }

    @Test(arguments: [("1", SampleLabel.cancer), ("cancer", .cancer), ("0", .cancerFree), ("Cancer-free", .cancerFree)])
    func labelsParse(text: String, label: SampleLabel) {
        #expect(SampleLabel(parsing: text) == label)
    }

    @Test func unknownLabelIsNil() { #expect(SampleLabel(parsing: "maybe") == nil) }
}
