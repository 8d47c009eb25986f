import CompSegCore
import CompSegNN

/// A batch ready for the network: images N×C×H×W, tissue N×1×H×W (1/0), labels N (1 cancer).
public struct Batch {
    public let images: Tensor
    public let tissue: Tensor
    public let labels: Tensor
    public let ids: [String]

    /// Stacks samples that share their channel count; with `augmentationSeed`, each image and
    /// its tissue mask seen through one of the square's eight symmetries (the four flips when
    /// H ≠ W), drawn from the seed image by image. The images are copied once, where they lie
    /// (`stack`: in parallel on the host, or on the GPU that holds them). Samples smaller than
    /// the batch's largest height or width are padded to it below and to the right with pixels
    /// outside the tissue, 0 in every channel, which the pooling heads leave out.
    /// - Throws: `TrainingError` naming the first sample whose channels differ, or one without a label.
    public init(_ samples: [Sample], augmentationSeed: UInt64? = nil) throws {
        guard let first = samples.first else { throw TrainingError("a batch needs at least one sample") }
        let (h, w) = (samples.map(\.height).max()!, samples.map(\.width).max()!)
        for s in samples {
            guard s.image.shape.dims[0] == first.image.shape.dims[0] else {
                throw TrainingError("sample \(s.id) is \(s.image.shape) but sample \(first.id) is \(first.image.shape); "
                                    + "every sample in a run must have the same channels")
            }
            guard s.label != nil else { throw TrainingError("sample \(s.id) has no label") }
        }
        let views = augmentationSeed.map { Self.views(count: samples.count, square: h == w, seed: $0) }
        images = try stack(samples.map { try Self.padded($0.image, height: h, width: w) }, views: views)
        tissue = try stack(samples.map { s in
            try Self.padded(Tensor(shape: [1, s.height, s.width], scalars: s.tissue.pixels.map { $0 ? 1 : 0 }), height: h, width: w)
        }, views: views)
        labels = try Tensor(shape: [samples.count], scalars: samples.map { $0.label!.value })
        ids = samples.map(\.id)
    }

    /// `image` (C×H×W) with zeros below and to the right up to `height`×`width`; itself when it has that size.
    static func padded(_ image: Tensor, height: Int, width: Int) throws -> Tensor {
        let (c, h, w) = (image.shape.dims[0], image.shape.dims[1], image.shape.dims[2])
        guard h != height || w != width else { return image }
        let source = image.scalars
        var out = [Float](repeating: 0, count: c * height * width)
        for k in 0..<c {
            for y in 0..<h {
                let from = (k * h + y) * w, to = (k * height + y) * width
                out[to..<(to + w)] = source[from..<(from + w)]
            }
        }
        return try Tensor(shape: [c, height, width], scalars: out)
    }

    /// One view per image, drawn from `seed`: any of the eight symmetries of a square, else a flip.
    static func views(count: Int, square: Bool, seed: UInt64) -> [PlaneView] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in PlaneView(code: Int.random(in: 0..<(square ? 8 : 4), using: &generator)) }
    }
}

/// The order of one epoch: sample indices in batches of at most `size`, reshuffled from the
/// seed and epoch. With `balanced`, each class is shuffled on its own and dealt round-robin over
/// the batches, so every batch holds both labels wherever each class has at least one sample per batch.
public func epochBatches(labels: [SampleLabel], size: Int, seed: UInt64, epoch: Int, balanced: Bool) -> [[Int]] {
    precondition(size > 0, "batch size must be positive")
    var g = SeededGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
    let count = (labels.count + size - 1) / size
    guard balanced, count > 0 else {
        let order = labels.indices.shuffled(using: &g)
        return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }
    var batches = Array(repeating: [Int](), count: count)
    var next = 0
    for label in [SampleLabel.cancer, .cancerFree] {
        for i in labels.indices.filter({ labels[$0] == label }).shuffled(using: &g) {
            // Deal into the next batch with room, round-robin.
            while batches[next % count].count >= size { next += 1 }
            batches[next % count].append(i)
            next += 1
        }
    }
    return batches.map { $0.shuffled(using: &g) }
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
