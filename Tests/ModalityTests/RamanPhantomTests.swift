import CompSegCore
import CompSegIO
import Foundation
import Phantoms
import RamanModality
import SpectralPreprocessing
import Testing

/// The Raman phantom: its spots, its planted spikes, and its files read back exactly by the
/// readers the Raman modality uses.
@Suite struct RamanPhantomTests {
    @Test func spotsHaveFluorescenceSpikesAndTheSharedLayout() {
        var s = RamanPhantom.Settings()
        s.spots = 4; s.size = 32; s.bands = 200
        let phantom = RamanPhantom(s)
        let spot = phantom.spot(0)
        #expect(spot.counts == RamanPhantom(s).spot(0).counts && spot.label == .cancer && spot.truth.contains(true))
        #expect(phantom.shifts.first == 400 && phantom.shifts.last == 1800)
        // About 1% of the 1024 pixels hold a spike of one or two bands.
        let pixels = Set(spot.spikes.map(\.pixel))
        #expect((3...25).contains(pixels.count), "\(pixels.count) spiked pixels")
        // Fluorescence dominates: a tissue pixel's smallest count is far above the substrate's 150.
        let plane = 32 * 32
        let p = spot.tissue.firstIndex(of: true)!
        #expect((0..<200).map { spot.counts[$0 * plane + p] }.min()! > 500)
        // The same tissue layout as the infrared phantom of the same seed and size.
        var ir = InfraredPhantom.Settings()
        ir.spots = 4; ir.size = 32; ir.bands = 20
        #expect(InfraredPhantom(ir).spot(0).truth == spot.truth)
    }

    /// Every spot's file (ENVI or WiRE text) reads back to the generated counts exactly, on the
    /// same shifts (descending in the text export).
    @Test func filesReadBackExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-raman-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var s = RamanPhantom.Settings()
        s.spots = 3; s.size = 16; s.bands = 60
        let phantom = RamanPhantom(s)
        try phantom.write(to: folder)
        for (i, name) in ["spot000.hdr", "spot001.txt", "spot002.hdr"].enumerated() {
            let cube = try InstrumentFormat.read(folder.appendingPathComponent(name))
            let counts = phantom.spot(i).counts
            if name.hasSuffix(".txt") {
                #expect(cube.axis == phantom.shifts.reversed())
                let plane = 16 * 16
                #expect((0..<60).allSatisfy { k in (0..<plane).allSatisfy { cube.values[k * plane + $0] == counts[(59 - k) * plane + $0] } })
            } else {
                #expect(cube.axis == phantom.shifts && cube.values == counts && cube.axisUnit == "Raman shift")
            }
            let sample = try RamanSource().load(folder.appendingPathComponent(name), label: nil)
            guard case .spectral(_, let unit) = sample.channels else { Issue.record("no axis"); continue }
            #expect(unit == "cm⁻¹")
        }
        #expect(throws: IOError.self) { try phantom.write(to: folder) }  // nothing is overwritten
    }
}
