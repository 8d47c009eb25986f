import Foundation
import Testing
import CompSegCore
import CompSegTestSupport
import InfraredModality
import SpectralFiles

/// A tissue mask that h5py wrote from numpy `bool` (an HDF5 enum over int8) reads as the same mask
/// as hwb.h5's uint8 one: `Tests/Fixtures/infrared/bool_mask.h5`.
@Suite struct BoolMaskTests {
    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("infrared/\(name)") }

    @Test func boolMaskEqualsUInt8Mask() throws {
        let fromBool = try InfraredSource().load(Self.url("bool_mask.h5"), label: .cancer)
        let fromBytes = try InfraredSource().load(Self.url("hwb.h5"), label: .cancer)
        #expect(fromBool.tissue == fromBytes.tissue)
        #expect(fromBool.tissue.pixels == (0..<20).map { ($0 % 5 + $0 / 5) % 2 == 1 })  // (x + y) % 2
        #expect(fromBool.image.shape == fromBytes.image.shape && fromBool.image.scalars == fromBytes.image.scalars)
    }
}
