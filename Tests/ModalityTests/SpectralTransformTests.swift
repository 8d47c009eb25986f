import Foundation
import Testing
import SpectralPreprocessing

@Suite struct SpectralTransformTests {
    static let axis: [Double] = [1000, 1002, 1004, 1006]

    static func close(_ a: [Float], _ b: [Double], _ tolerance: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Swift.abs(Double($0) - $1) <= tolerance }
    }

    @Test func standardNormalVariate() throws {
        // mean 5, sample sd sqrt(((−3)² + (−1)² + 1² + 3²)/3) = sqrt(20/3)
        let out = try StandardNormalVariate().apply([2, 4, 6, 8], wavenumbers: Self.axis)
        let sd = (20.0 / 3).squareRoot()
        #expect(Self.close(out, [-3 / sd, -1 / sd, 1 / sd, 3 / sd]))
        #expect(try StandardNormalVariate().apply([3, 3, 3, 3], wavenumbers: Self.axis) == [0, 0, 0, 0])
        #expect(throws: SpectralError.self) { try StandardNormalVariate().apply([1, 2, 3], wavenumbers: Self.axis) }
    }

    @Test func vectorAndMinMax() throws {
        #expect(Self.close(try VectorNormalization().apply([3, 0, 4, 0], wavenumbers: Self.axis), [0.6, 0, 0.8, 0]))
        #expect(try VectorNormalization().apply([0, 0, 0, 0], wavenumbers: Self.axis) == [0, 0, 0, 0])
        #expect(Self.close(try MinMaxNormalization().apply([2, 4, 6, 10], wavenumbers: Self.axis), [0, 0.25, 0.5, 1]))
    }

    @Test func areaNormalizationIgnoresAxisOrder() throws {
        // Trapezoids of width 2: (1+2) + (2+3) + (3+4) = 15.
        let up = try AreaNormalization().apply([1, 2, 3, 4], wavenumbers: Self.axis)
        let want: [Double] = [1, 2, 3, 4].map { $0 / 15 }
        #expect(Self.close(up, want))
        let down = try AreaNormalization().apply([1, 2, 3, 4], wavenumbers: Array(Self.axis.reversed()))
        #expect(down == up)
    }

    @Test func bandNormalizationUsesTheNearestWavenumber() throws {
        let n = BandNormalization(wavenumber: 1004.9)
        #expect(try n.index(Self.axis) == 2)
        #expect(Self.close(try n.apply([1, 2, 4, 8], wavenumbers: Self.axis), [0.25, 0.5, 1, 2]))
        #expect(try n.index(Self.axis.reversed()) == 1)
    }

    @Test func cropKeepsOrderAndReportsIndices() throws {
        let crop = SpectralCrop(lower: 1005, upper: 1001)  // bounds in either order
        #expect(try crop.indices(Self.axis) == [1, 2])
        #expect(try crop.axis(Self.axis.reversed()) == [1004, 1002])
        #expect(try crop.apply([1, 2, 3, 4], wavenumbers: Self.axis) == [2, 3])
        #expect(throws: SpectralError.self) { try SpectralCrop(lower: 2000, upper: 3000).indices(Self.axis) }
    }

    /// Savitzky & Golay (1964) / standard tables.
    @Test func savitzkyGolayMatchesPublishedCoefficients() throws {
        func expectCoefficients(_ sg: SavitzkyGolay, _ numerators: [Double], _ norm: Double) {
            let c = sg.coefficients()
            #expect(c.count == numerators.count)
            #expect(zip(c, numerators).allSatisfy { Swift.abs($0 - $1 / norm) < 1e-12 }, "\(sg): \(c.map { $0 * norm })")
        }
        expectCoefficients(try SavitzkyGolay(window: 5, order: 2), [-3, 12, 17, 12, -3], 35)
        expectCoefficients(try SavitzkyGolay(window: 5, order: 3), [-3, 12, 17, 12, -3], 35)
        expectCoefficients(try SavitzkyGolay(window: 7, order: 2), [-2, 3, 6, 7, 6, 3, -2], 21)
        expectCoefficients(try SavitzkyGolay(window: 5, order: 2, derivative: 1), [-2, -1, 0, 1, 2], 10)
        expectCoefficients(try SavitzkyGolay(window: 7, order: 2, derivative: 1), [-3, -2, -1, 0, 1, 2, 3], 28)
        expectCoefficients(try SavitzkyGolay(window: 5, order: 3, derivative: 1), [1, -8, 0, 8, -1], 12)
        expectCoefficients(try SavitzkyGolay(window: 7, order: 2, derivative: 2), [5, 0, -3, -4, -3, 0, 5], 42)
        // A derivative above the fit's order is 0 everywhere: refused, not a step that zeroes every spectrum.
        #expect { try SavitzkyGolay(window: 11, order: 2, derivative: 3) } throws: {
            "\($0)".contains("derivative must lie in 0…2 (the fit's order: a higher derivative of its polynomial is 0), got 3")
        }
    }

    /// A cubic is reproduced exactly by a cubic fit, edges included; its derivative too.
    @Test func savitzkyGolayIsExactOnPolynomials() throws {
        let n = 12, axis = (0..<n).map { 1800 - 2 * Double($0) }
        let f = { (i: Double) in 0.5 + 0.2 * i - 0.05 * i * i + 0.01 * i * i * i }
        let df = { (i: Double) in 0.2 - 0.1 * i + 0.03 * i * i }
        let x = (0..<n).map { Float(f(Double($0))) }
        #expect(Self.close(try SavitzkyGolay(window: 7, order: 3).apply(x, wavenumbers: axis), (0..<n).map { f(Double($0)) }, 1e-4))
        #expect(Self.close(try SavitzkyGolay(window: 7, order: 3, derivative: 1).apply(x, wavenumbers: axis),
                           (0..<n).map { df(Double($0)) }, 1e-4))
        #expect(throws: SpectralError.self) { try SavitzkyGolay(window: 13, order: 2).apply(x, wavenumbers: axis) }
        #expect(throws: SpectralError.self) { try SavitzkyGolay(window: 4, order: 2) }
        #expect(throws: SpectralError.self) { try SavitzkyGolay(window: 5, order: 5) }
    }

    @Test func transformsAreCodableWithTheirParameters() throws {
        let sg = try SavitzkyGolay(window: 9, order: 2, derivative: 1)
        #expect(try JSONDecoder().decode(SavitzkyGolay.self, from: JSONEncoder().encode(sg)) == sg)
        #expect(try JSONDecoder().decode(SavitzkyGolay.self, from: Data(#"{"window": 5, "order": 2}"#.utf8)).derivative == 0)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(SavitzkyGolay.self, from: Data(#"{"window": 4, "order": 2}"#.utf8)) }
        let crop = SpectralCrop(lower: 900, upper: 1800)
        #expect(try JSONDecoder().decode(SpectralCrop.self, from: JSONEncoder().encode(crop)) == crop)
        let band = BandNormalization(wavenumber: 1655)
        #expect(try JSONDecoder().decode(BandNormalization.self, from: JSONEncoder().encode(band)) == band)
        // Row-major P×B through a step.
        let two = try VectorNormalization().apply(pixels: [3, 4, 0, 0, 0, 0, 6, 8], wavenumbers: Self.axis)
        #expect(Self.close(two, [0.6, 0.8, 0, 0, 0, 0, 0.6, 0.8]))
    }
}
