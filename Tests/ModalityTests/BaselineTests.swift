import Foundation
import Testing
import SpectralPreprocessing

@Suite struct BaselineTests {
    static let axis: [Double] = [1000, 1001, 1002, 1003, 1004]

    static func gaussian(_ x: Double, centre: Double, height: Double, sigma: Double) -> Double {
        height * exp(-0.5 * (x - centre) * (x - centre) / (sigma * sigma))
    }

    // MARK: Rubber band

    /// Points (0, 4), (1, 0), (2, 3), (3, 1), (4, 3): the hull runs 4 → 0 → 1 → 3, so only the
    /// middle point lies above it, by 3 − 0.5.
    @Test func rubberBandSubtractsTheLowerHull() throws {
        let rb = RubberBandBaseline()
        #expect(try rb.apply([4, 0, 3, 1, 3], wavenumbers: Self.axis) == [0, 0, 2.5, 0, 0])
        #expect(try rb.baseline([4, 0, 3, 1, 3], wavenumbers: Self.axis) == [4, 0, 0.5, 1, 3])
        // The same points against a descending axis.
        #expect(try rb.apply([3, 1, 3, 0, 4], wavenumbers: Self.axis.reversed()) == [0, 0, 2.5, 0, 0])
        // A concave spectrum sits wholly above the chord between its ends.
        #expect(try rb.apply([0, 3, 4, 3, 0], wavenumbers: Self.axis) == [0, 3, 4, 3, 0])
        #expect(try rb.apply([7], wavenumbers: [1000]) == [0])
        #expect(throws: SpectralError.self) { try rb.apply([1, 2, 3], wavenumbers: [1000, 1002, 1001]) }
        #expect(throws: SpectralError.self) { try rb.apply([1, 2], wavenumbers: Self.axis) }
    }

    /// A sloped line plus a non-negative bump that is 0 at both ends gives the bump back.
    @Test(arguments: [false, true]) func rubberBandRecoversABumpOnALine(descending: Bool) throws {
        let up = (0..<100).map { 900 + 9 * Double($0) }
        let bump = up.map { Swift.abs($0 - 1300) <= 120 ? Self.gaussian($0, centre: 1300, height: 2, sigma: 30) : 0 }
        let axis = descending ? Array(up.reversed()) : up
        let want = descending ? Array(bump.reversed()) : bump
        let spectrum = axis.indices.map { Float(0.4 + 0.0007 * (axis[$0] - 900) + want[$0]) }
        let out = try RubberBandBaseline().apply(spectrum, wavenumbers: axis)
        // The spectrum is stored as Float (values ≤ 3, spacing of Floats there 2.4e-7), so the
        // line it rests on is straight only to that; the hull's vertices give exactly 0.
        #expect(zip(out, want).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-6 })
        #expect(out.first == 0 && out.last == 0)
        #expect(out.allSatisfy { $0 >= -1e-6 })
        // The order of the axis does not change the result, to the bit.
        let reversed = try RubberBandBaseline().apply(spectrum.reversed(), wavenumbers: axis.reversed())
        #expect(Array(reversed.reversed()) == out)
    }

    // MARK: Asymmetric least squares

    /// Reference from SciPy (a sparse direct solve of the same system, independent of our banded
    /// LDLᵀ), Eilers & Boelens's loop with λ = 10, p = 0.05, 5 iterations:
    ///   D = sparse.diags([1., -2., 1.], [0, -1, -2], shape=(L, L - 2)); D = lam * D.dot(D.T); w = ones(L)
    ///   repeat: z = spsolve(spdiags(w, 0, L, L) + D, w * y); w = where(y > z, p, 1 - p)
    @Test func alsMatchesAnIndependentSolve() throws {
        let y: [Float] = [1.0, 1.25, 1.5, 3.0, 2.0, 1.5, 1.25, 1.5, 4.0, 2.5, 1.0, 0.75]
        let want = [1.10346794262, 1.194943475359, 1.27658955355, 1.338852005267, 1.373293710815, 1.379783290476,
                    1.361322895976, 1.321515762587, 1.253389450467, 1.150863940959, 1.021592268154, 0.879973146436]
        let z = try AsymmetricLeastSquaresBaseline(lambda: 10, p: 0.05, iterations: 5).baseline(y)
        // The reference is rounded to 12 decimals; the 12×12 system is well conditioned.
        #expect(zip(z, want).allSatisfy { Swift.abs($0 - $1) <= 1e-10 }, "\(z)")
    }

    /// A straight line has zero second differences, so it is its own baseline for any weights.
    @Test func alsKeepsAStraightLine() throws {
        let y = (0..<200).map { Float(3 - 0.01 * Double($0)) }
        let z = try AsymmetricLeastSquaresBaseline().baseline(y)
        // (W + λDᵀD) has condition number up to ~16λ/min(p, 1 − p) ≈ 1.6e8 here: with Double
        // rounding (1e-16) that leaves errors of the order of 1e-8.
        #expect(zip(z, y).allSatisfy { Swift.abs($0 - Double($1)) <= 1e-6 })
    }

    /// A quadratic baseline under four narrow Gaussian peaks, on a descending axis.
    @Test func alsRecoversASmoothBaselineUnderPeaks() throws {
        let n = 400
        let axis = (0..<n).map { 1800 - 800 * Double($0) / Double(n - 1) }
        let peaks: [(centre: Double, height: Double, sigma: Double)] = [(1655, 1, 6), (1545, 0.6, 6), (1240, 0.4, 8), (1080, 0.5, 6)]
        let base = axis.map { let t = (1800 - $0) / 800; return 0.3 + 0.2 * t + 0.5 * t * t }
        let signal = axis.map { x in peaks.reduce(0.0) { $0 + Self.gaussian(x, centre: $1.centre, height: $1.height, sigma: $1.sigma) } }
        let y = (0..<n).map { Float(base[$0] + signal[$0]) }
        let als = try AsymmetricLeastSquaresBaseline(lambda: 1e5)  // stiff enough for these 400 bands; measured with it
        let z = als.baseline(y)
        let far = (0..<n).filter { i in peaks.allSatisfy { Swift.abs(axis[i] - $0.centre) > 4 * $0.sigma } }
        // Measured (and the same with SciPy): ≤ 0.0144 away from the peaks, worst at the ends,
        // where the second-difference penalty straightens the curved baseline; ≤ 0.0031 once
        // 40 bands are left off each end. Tolerances 0.02 and 0.005.
        #expect(far.allSatisfy { Swift.abs(z[$0] - base[$0]) <= 0.02 })
        #expect(far.filter { (40..<(n - 40)).contains($0) }.allSatisfy { Swift.abs(z[$0] - base[$0]) <= 0.005 })
        // After subtraction the peaks remain, everywhere within the same 0.02; at their centres
        // within 0.005 (measured ≤ 0.0034: with p = 0.01 the peaks lift the baseline a little).
        let corrected = try als.apply(y, wavenumbers: axis)
        #expect((0..<n).allSatisfy { Swift.abs(Double(corrected[$0]) - signal[$0]) <= 0.02 })
        for peak in peaks {
            let i = axis.indices.min { Swift.abs(axis[$0] - peak.centre) < Swift.abs(axis[$1] - peak.centre) }!
            #expect(Swift.abs(Double(corrected[i]) - signal[i]) <= 0.005, "peak at \(peak.centre)")
        }
        // apply subtracts exactly the baseline.
        #expect(corrected == (0..<n).map { Float(Double(y[$0]) - z[$0]) })
    }

    @Test func alsValidatesAndRoundTrips() throws {
        #expect(throws: SpectralError.self) { try AsymmetricLeastSquaresBaseline(lambda: 0) }
        #expect(throws: SpectralError.self) { try AsymmetricLeastSquaresBaseline(p: 0) }
        #expect(throws: SpectralError.self) { try AsymmetricLeastSquaresBaseline(p: 1) }
        #expect(throws: SpectralError.self) { try AsymmetricLeastSquaresBaseline(iterations: 0) }
        let defaults = try JSONDecoder().decode(AsymmetricLeastSquaresBaseline.self, from: Data("{}".utf8))
        #expect(defaults == (try AsymmetricLeastSquaresBaseline(lambda: 1e6, p: 0.01, iterations: 10)))  // pybaselines' asls defaults
        let als = try AsymmetricLeastSquaresBaseline(lambda: 1e4, p: 0.001, iterations: 3)
        #expect(try JSONDecoder().decode(AsymmetricLeastSquaresBaseline.self, from: JSONEncoder().encode(als)) == als)
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(AsymmetricLeastSquaresBaseline.self, from: Data(#"{"p": 1.5}"#.utf8))
        }
        let rb = RubberBandBaseline()
        #expect(try JSONDecoder().decode(RubberBandBaseline.self, from: JSONEncoder().encode(rb)) == rb)
    }

    // MARK: Resample

    /// y = 2ν − 2000 interpolated linearly is exact (all values here are exact binary fractions).
    @Test(arguments: [false, true]) func resampleIsExactOnALine(descending: Bool) throws {
        let up: [Double] = [1000, 1002, 1004, 1006, 1008, 1010]
        let axis = descending ? Array(up.reversed()) : up
        let y = axis.map { Float(2 * $0 - 2000) }
        let onValues = try SpectralResample(values: [1000, 1001, 1003.5, 1010])
        #expect(try onValues.axis(axis) == [1000, 1001, 1003.5, 1010])
        #expect(try onValues.apply(y, wavenumbers: axis) == [0, 2, 7, 20])
        let even = try SpectralResample(from: 1010, to: 1000, count: 5)
        #expect(even.targetAxis == [1010, 1007.5, 1005, 1002.5, 1000])
        #expect(try even.apply(y, wavenumbers: axis) == [20, 15, 10, 5, 0])
        // P×B row-major: two spectra of 6 bands become two of 5.
        #expect(try even.apply(pixels: y + y.map { -$0 }, wavenumbers: axis) == [20, 15, 10, 5, 0, -20, -15, -10, -5, 0])
    }

    @Test func resampleRefusesPointsOutsideTheAxis() throws {
        let axis: [Double] = [1010, 1005, 1000]
        let resample = try SpectralResample(values: [1000, 1010.75])
        let error = #expect(throws: SpectralError.self) { try resample.axis(axis) }
        #expect(error?.description.contains("1010.75") == true && error?.description.contains("1000.0…1010.0") == true,
                "\(String(describing: error))")
        #expect(throws: SpectralError.self) { try SpectralResample(from: 999, to: 1005, count: 3).apply([1, 2, 3], wavenumbers: axis) }
        // Within a tenth of the band spacing beyond an end (an axis written rounded), the end band's value.
        #expect(try SpectralResample(values: [999.5, 1002.5, 1010.5]).apply([1, 2, 3], wavenumbers: axis) == [3, 2.5, 1])
        #expect(throws: SpectralError.self) { try SpectralResample(values: [999.25, 1005]).apply([1, 2, 3], wavenumbers: axis) }
        // An axis 0, 1, 2, … (a file that names none) is called the band index, in either order.
        #expect { try SpectralResample(from: 400, to: 1800, count: 3).axis([2, 1, 0]) } throws: { "\($0)".contains("That axis is 0, 1, 2, …: the band index") }
        #expect { try SpectralResample(from: 999, to: 1005, count: 3).axis(axis) } throws: { !"\($0)".contains("band index") }
        // Absolute wavenumbers of scattered light (a 785 nm laser: 10938–12338 cm⁻¹) where Raman shifts are wanted, and
        // an infrared axis (950–1800) where the Raman range starts at 400: each named with what to do.
        let raman = try SpectralResample(from: 400, to: 1800, count: 351)
        #expect { try raman.axis([10938.85, 11638.85, 12338.85]) } throws: { "\($0)".contains("absolute wavenumbers of the scattered light")
                                                                            && "\($0)".contains("excitationWavelength") }
        #expect { try raman.axis([950, 1400, 1800]) } throws: { "\($0)".contains("an infrared map read as Raman")
                                                              && "\($0)".contains("within 950.0…1800.0") }
        #expect(throws: SpectralError.self) { try SpectralResample(values: [1001]).apply([1, 2, 3], wavenumbers: [1000, 1002, 1001]) }
        #expect(throws: SpectralError.self) { try SpectralResample(values: []) }
        #expect(throws: SpectralError.self) { try SpectralResample(values: [1000, 1000]) }
        #expect(throws: SpectralError.self) { try SpectralResample(values: [1000, 1004, 1002]) }  // not an axis
        #expect(throws: SpectralError.self) { try SpectralResample(from: 1000, to: 1010, count: 1) }
        #expect(throws: SpectralError.self) { try SpectralResample(from: 1000, to: 1000, count: 4) }
    }

    @Test func resampleTakesExactlyOneForm() throws {
        func decode(_ json: String) throws -> SpectralResample {
            try JSONDecoder().decode(SpectralResample.self, from: Data(json.utf8))
        }
        for resample in [try SpectralResample(values: [1800, 1200.5, 1000]), try SpectralResample(from: 900, to: 1800, count: 451)] {
            #expect(try JSONDecoder().decode(SpectralResample.self, from: JSONEncoder().encode(resample)) == resample)
        }
        #expect(try decode(#"{"from": 1000, "to": 1004, "count": 3}"#).targetAxis == [1000, 1002, 1004])
        let both = #expect(throws: SpectralError.self) { try decode(#"{"values": [1000], "from": 1000}"#) }
        #expect(both?.description.contains("not both") == true, "\(String(describing: both))")
        let partial = #expect(throws: SpectralError.self) { try decode(#"{"from": 1000, "to": 1004}"#) }
        #expect(partial?.description.contains("missing 'count'") == true, "\(String(describing: partial))")
        #expect(throws: SpectralError.self) { try decode("{}") }
    }
}
