import CompSegCore
import CompSegNN
@testable import CompSegTraining
import Foundation
import Testing

/// `augmentation: dihedral`: each image and its tissue mask take the same flip or rotation, drawn
/// from the step's seed.
@Suite struct AugmentationTests {
    /// A 2-channel image whose pixel values name their position, and a mask marking one corner.
    static func sample(_ id: String, height h: Int, width w: Int) throws -> Sample {
        let values = (0..<(2 * h * w)).map(Float.init)
        let mask = (0..<(h * w)).map { $0 == 0 }
        return try Sample(id: id, image: Tensor(shape: [2, h, w], scalars: values), channels: .bands(["a", "b"]),
                          tissue: try Mask(height: h, width: w, pixels: mask),
                          preview: try RGBImage(height: h, width: w, bytes: Array(repeating: 0, count: h * w * 3)), label: .cancer)
    }

    /// Samples of other sizes: padded below and to the right to the batch's largest height and
    /// width, with zeros in every channel and outside the tissue.
    @Test func samplesOfOtherSizesArePaddedOutsideTheTissue() throws {
        let batch = try Batch([try Self.sample("wide", height: 2, width: 3), try Self.sample("tall", height: 3, width: 2)])
        #expect(batch.images.shape == Shape([2, 2, 3, 3]) && batch.tissue.shape == Shape([2, 1, 3, 3]))
        #expect(Array(batch.images.scalars[0..<18]) == [0, 1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8, 9, 10, 11, 0, 0, 0])
        #expect(Array(batch.images.scalars[18..<27]) == [0, 1, 0, 2, 3, 0, 4, 5, 0])
        #expect(batch.tissue.scalars == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        // With augmentation: padded first, then each viewed through one of the square's symmetries,
        // its mask alike (a tissue pixel is still the image's value 0 corner, now somewhere in the square).
        for seed in 0..<8 as Range<UInt64> {
            let viewed = try Batch([try Self.sample("wide", height: 2, width: 3), try Self.sample("tall", height: 3, width: 2)],
                                   augmentationSeed: seed)
            #expect(viewed.images.shape == Shape([2, 2, 3, 3]) && viewed.tissue.scalars.filter { $0 == 1 }.count == 2)
            for n in 0..<2 {
                let corner = viewed.tissue.scalars[(n * 9)..<(n * 9 + 9)].firstIndex(of: 1)! - n * 9
                #expect(viewed.images.scalars[n * 18 + corner] == 0, "seed \(seed), sample \(n)")
            }
        }
        #expect(throws: TrainingError.self) {
            try Batch([try Self.sample("a", height: 2, width: 2),
                       try Sample(id: "b", image: Tensor(zeros: [1, 2, 2]), channels: .bands(["x"]), tissue: try Mask(height: 2, width: 2, pixels: [true, true, true, true]),
                                  preview: try RGBImage(height: 2, width: 2, bytes: Array(repeating: 0, count: 12)), label: .cancer)])
        }
    }

    @Test func viewsAreSymmetriesAppliedAlikeToImageAndMask() throws {
        let samples = try ["a", "b", "c"].map { try Self.sample($0, height: 4, width: 4) }
        let batch = try Batch(samples)
        var seen = Set<[Float]>()
        for seed in 0..<64 as Range<UInt64> {
            let view = try Batch(samples, augmentationSeed: seed)
            #expect(view.labels.scalars == batch.labels.scalars && view.ids == batch.ids)
            #expect(view.images.shape == batch.images.shape && view.tissue.shape == batch.tissue.shape)
            for i in 0..<3 {
                let image = Array(view.images.scalars[(i * 32)..<(i * 32 + 32)])
                let mask = Array(view.tissue.scalars[(i * 16)..<(i * 16 + 16)])
                // A permutation of the pixels, the same in both channels and in the mask.
                #expect(image[0..<16].sorted() == (0..<16).map(Float.init))
                #expect(zip(image[0..<16], image[16..<32]).allSatisfy { $1 == $0 + 16 })
                let corner = Int(image.firstIndex(of: 0)!)
                #expect(mask[corner] == 1 && mask.reduce(0, +) == 1)
                // Neighbours stay neighbours: a symmetry of the grid.
                let position = { (v: Float) in (Int(v) / 4, Int(v) % 4) }
                for p in 0..<15 where p % 4 != 3 {
                    let (a, b) = (position(image[p]), position(image[p + 1]))
                    #expect(Swift.abs(a.0 - b.0) + Swift.abs(a.1 - b.1) == 1)
                }
                seen.insert(Array(image[0..<16]))
            }
        }
        #expect(seen.count == 8)  // every symmetry of the square occurs
        #expect(try Batch(samples, augmentationSeed: 7).images.scalars == Batch(samples, augmentationSeed: 7).images.scalars)
    }

    @Test func rectangularImagesOnlyFlip() throws {
        let samples = [try Self.sample("a", height: 2, width: 3)]
        var seen = Set<[Float]>()
        for seed in 0..<64 as Range<UInt64> { seen.insert(Array(try Batch(samples, augmentationSeed: seed).images.scalars[0..<6])) }
        #expect(seen == [[0, 1, 2, 3, 4, 5], [3, 4, 5, 0, 1, 2], [2, 1, 0, 5, 4, 3], [5, 4, 3, 2, 1, 0]])
    }
}
