import CompSegCore
import CompSegNN
import CompSegTestSupport
import Foundation
import SpectralPreprocessing
import Testing

/// The Raman steps against pybaselines (`tools/make_raman_fixtures.py` →
/// `Tests/Fixtures/raman/baselines.json`) and the despiker on planted spikes.
@Suite struct RamanStepTests {
    struct Fixture: Decodable {
        struct Baselines: Decodable {
            var name: String, axis: [Double], y: [Double]
            var arpls, airpls, imodpoly, asls_10: [Double]
        }
        struct Spiked: Decodable {
            var name: String, axis: [Double], spiked: [Double], spikes: [Int], clean: [Double], noise_sigma: Double
        }
        var baselines: [Baselines]
        var despike: [Spiked]

        static let shared: Fixture? = try? JSONDecoder().decode(  // JSONDecoder parses the repr digits exactly
            Fixture.self, from: Data(contentsOf: fixturesDirectory.appendingPathComponent("raman/baselines.json")))
    }

    static func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        let scale = b.map(Swift.abs).max() ?? 1
        return zip(a, b).map { Swift.abs($0 - $1) }.max()! / scale
    }

    /// pybaselines solves the same float64 systems; what is left is rounding (measured ≤ 2.5e-10
    /// relative to the largest baseline value). 1e-7 sits far above that and far below what one
    /// iteration more or fewer changes (≥ 3.8e-6), so the iteration counts are checked too.
    /// imodpoly's least-squares fits agree to 4e-15; 1e-10 leaves room for other LAPACK builds.
    @Test(arguments: [0, 1, 2]) func baselinesMatchPybaselines(_ index: Int) throws {
        let f = try #require(Fixture.shared).baselines[index]
        let y = f.y.map { Float($0) }
        #expect(Self.maxRelative(try ArPLSBaseline().baseline(y), f.arpls) < 1e-7, "\(f.name) arpls")
        #expect(Self.maxRelative(try AirPLSBaseline().baseline(y), f.airpls) < 1e-7, "\(f.name) airpls")
        #expect(Self.maxRelative(try AsymmetricLeastSquaresBaseline().baseline(y), f.asls_10) < 1e-7, "\(f.name) als")
        #expect(Self.maxRelative(try IModPolyBaseline().baseline(y, wavenumbers: f.axis), f.imodpoly) < 1e-10, "\(f.name) imodpoly")
        // apply subtracts the baseline, in Double.
        let base = try ArPLSBaseline().baseline(y)
        #expect(try ArPLSBaseline().apply(y, wavenumbers: f.axis) == y.indices.map { Float(Double(y[$0]) - base[$0]) })
    }

    @Test func parametersDecodeWithDefaultsAndAreChecked() throws {
        let empty = Data("{}".utf8)
        #expect(try JSONDecoder().decode(ArPLSBaseline.self, from: empty) == ArPLSBaseline())
        #expect(try JSONDecoder().decode(AirPLSBaseline.self, from: empty).lambda == 1e6)
        #expect(try JSONDecoder().decode(IModPolyBaseline.self, from: empty) == IModPolyBaseline())
        #expect(try JSONDecoder().decode(WhitakerHayesDespike.self, from: empty) == WhitakerHayesDespike())
        let despike = try WhitakerHayesDespike(threshold: 6, kernel: 4)
        #expect(try JSONDecoder().decode(WhitakerHayesDespike.self, from: JSONEncoder().encode(despike)) == despike)
        #expect(throws: SpectralError.self) { try ArPLSBaseline(lambda: 0) }
        #expect(throws: SpectralError.self) { try AirPLSBaseline(lambda: .infinity) }
        #expect(throws: SpectralError.self) { try IModPolyBaseline(order: -1) }
        #expect(throws: SpectralError.self) { try WhitakerHayesDespike(kernel: 0) }
        #expect(throws: SpectralError.self) { try IModPolyBaseline(order: 3).baseline([Float](repeating: 1, count: 7),
                                                                                   wavenumbers: (0..<7).map(Double.init)) }
        #expect(throws: SpectralError.self) { try ArPLSBaseline().apply([1, 2, 3], wavenumbers: [1, 2]) }
        var registry = Registry()
        try SpectralSteps.register(in: &registry)
        for name in ["despike", "arpls", "airpls", "imodpoly"] { _ = try registry.transform(name) }
    }

    /// Planted cosmic-ray spikes (1–2 bands, 3–50× the signal there) are found and replaced within
    /// a few noise σ of the clean value (the neighbours' mean: about N(0, 1.1σ)); every other band
    /// keeps its value exactly, and the clean spectrum passes through unchanged.
    @Test(arguments: [0, 1]) func despikeRemovesPlantedSpikesOnly(_ index: Int) throws {
        let f = try #require(Fixture.shared).despike[index]
        let spiked = f.spiked.map { Float($0) }
        let out = try WhitakerHayesDespike().apply(spiked, wavenumbers: f.axis)
        let changed = spiked.indices.filter { out[$0] != spiked[$0] }
        #expect(changed == f.spikes.sorted(), "changed \(changed), planted \(f.spikes.sorted())")
        for (i, band) in f.spikes.enumerated() {
            #expect(Swift.abs(Double(out[band]) - f.clean[i]) <= 4 * f.noise_sigma, "band \(band): \(out[band]) vs \(f.clean[i])")
        }
        var clean = spiked
        for (i, band) in f.spikes.enumerated() { clean[band] = Float(f.clean[i]) }
        #expect(try WhitakerHayesDespike().apply(clean, wavenumbers: f.axis) == clean)
    }

    @Test func despikeSmallCases() throws {
        let d = try WhitakerHayesDespike()
        var flat = [Float](repeating: 5, count: 50)
        flat[20] = 100
        #expect(d.despiked(flat) == [Float](repeating: 5, count: 50))
        var g = SeededGenerator(seed: 4)
        let noise = (0..<200).map { _ in 10 + g.nextNormal() }
        var edges = noise
        for i in [0, 1, 198, 199] { edges[i] += 400 }
        #expect(Set(edges.indices.filter { d.despiked(edges)[$0] != edges[$0] }) == [0, 1, 198, 199])
        var pair = noise
        pair[100] += 300; pair[102] += 300
        let fixed = d.despiked(pair)
        #expect(fixed[101] == pair[101] && Swift.abs(fixed[100] - 10) < 5 && Swift.abs(fixed[102] - 10) < 5)
        var wide = noise
        for i in 60..<63 { wide[i] += 300 }  // three bands: wider than maxWidth, left alone
        #expect(d.despiked(wide) == wide)
    }

    /// Real bands (Lorentzian, 4 to 10 bands wide, up to 10⁵ σ tall) on noise are never touched.
    @Test(arguments: [4.0, 6.0, 10.0]) func despikeLeavesBandsAlone(_ fwhm: Double) throws {
        let d = try WhitakerHayesDespike()
        var g = SeededGenerator(seed: UInt64(fwhm))
        for height in [10.0, 100.0, 1e3, 1e4, 1e5] {
            let spectrum = (0..<300).map { i -> Float in
                let x = (Double(i) - 150.3) / (fwhm / 2)
                return Float(100 + height / (1 + x * x)) + g.nextNormal()
            }
            #expect(d.despiked(spectrum) == spectrum, "FWHM \(fwhm) bands, height \(height)σ")
        }
    }
}
