import Testing
import CompSegCore
import InfraredModality
import Phantoms

@Suite struct PhantomTests {
    @Test func spotsFollowTheSettingsAndRepeat() {
        var s = InfraredPhantom.Settings()
        s.spots = 10; s.size = 32; s.bands = 50
        let phantom = InfraredPhantom(s)
        #expect(phantom.wavenumbers.first == 1800 && phantom.wavenumbers.last == 948)
        let a = phantom.spot(0), b = InfraredPhantom(s).spot(0)
        #expect(a.spectra == b.spectra && a.truth == b.truth)
        #expect(a.spectra.count == 32 * 32 * 50)
        #expect(a.label == .cancer && phantom.spot(1).label == .cancerFree)
        #expect(a.tumorFraction >= 0.09 && a.tumorFraction <= 0.61)
        #expect(phantom.spot(1).truth.allSatisfy { !$0 })
        let splits = (0..<10).map { phantom.plan($0).split }
        #expect(Set(splits) == [.train, .val, .test])
    }

    /// Tumor and epithelium are not told apart by total absorbance: their ranges overlap widely.
    @Test func tumorIsNotSeparableByIntensity() {
        var s = InfraredPhantom.Settings()
        s.spots = 2; s.size = 48; s.bands = 100
        let spot = InfraredPhantom(s).spot(0)
        var tumor: [Float] = [], other: [Float] = []
        for p in 0..<(48 * 48) where spot.tissue[p] {
            let total = spot.spectra[(p * 100)..<((p + 1) * 100)].reduce(0, +)
            (spot.truth[p] ? { tumor.append($0) } : { other.append($0) })(total)
        }
        #expect(tumor.min()! < other.max()! && other.min()! < tumor.max()!)
    }
}
