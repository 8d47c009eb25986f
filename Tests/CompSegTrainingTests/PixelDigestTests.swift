import CompSegCore
import CompSegNN
@testable import CompSegTraining
import Testing

/// A sample's pixel digest is its values', shape's and tissue's: the same for a copy, another for
/// one value a step away, a transposed shape, or one tissue pixel more.
@Suite struct PixelDigestTests {
    static func sample(_ values: [Float], height: Int, width: Int, tissue: [Bool]? = nil) throws -> Sample {
        try Sample(id: "s", image: Tensor(shape: [1, height, width], scalars: values), channels: .bands(["x"]),
                   tissue: try Mask(height: height, width: width, pixels: tissue ?? [Bool](repeating: true, count: values.count)),
                   preview: try RGBImage(height: height, width: width, bytes: [UInt8](repeating: 0, count: 3 * values.count)), label: nil)
    }

    @Test func digestFollowsPixels() throws {
        let values = (0..<35).map { Float($0) * 0.37 }  // odd: the last value alone in its word
        let digest = PixelDigest.of(try Self.sample(values, height: 5, width: 7))
        #expect(digest == PixelDigest.of(try Self.sample(values, height: 5, width: 7)))
        for k in [0, 17, 34] {
            var nudged = values
            nudged[k] = nudged[k].nextUp
            #expect(PixelDigest.of(try Self.sample(nudged, height: 5, width: 7)) != digest, "value \(k) one step up")
        }
        #expect(PixelDigest.of(try Self.sample(values, height: 7, width: 5)) != digest)
        var tissue = [Bool](repeating: true, count: 35)
        tissue[20] = false
        #expect(PixelDigest.of(try Self.sample(values, height: 5, width: 7, tissue: tissue)) != digest)
    }
}
