import CompSegCore
import CompSegNN

/// A batch ready for the network: images N×C×H×W, tissue N×1×H×W (1/0), labels N (1 cancer).
public struct Batch {
    public let images: Tensor
    public let tissue: Tensor
    public let labels: Tensor
    public let ids: [String]

    /// Stacks samples that share channel count and size.
    /// - Throws: `TrainingError` naming the first sample that differs, or one without a label.
    public init(_ samples: [Sample]) throws {
        guard let first = samples.first else { throw TrainingError("a batch needs at least one sample") }
        let (c, h, w) = (first.image.shape[0], first.height, first.width)
        var images = [Float](), tissue = [Float](), labels = [Float]()
        images.reserveCapacity(samples.count * c * h * w)
        for s in samples {
            guard s.image.shape == first.image.shape else {
                throw TrainingError("sample \(s.id) is \(s.image.shape) but sample \(first.id) is \(first.image.shape); "
                                    + "every sample in a run must have the same channels and size")
            }
            guard let label = s.label else { throw TrainingError("sample \(s.id) has no label") }
            images += s.image.scalars
            tissue += s.tissue.pixels.map { $0 ? 1 : 0 }
            labels.append(label.value)
        }
        self.images = try Tensor(shape: [samples.count, c, h, w], scalars: images)
        self.tissue = try Tensor(shape: [samples.count, 1, h, w], scalars: tissue)
        self.labels = try Tensor(shape: [samples.count], scalars: labels)
        ids = samples.map(\.id)
    }

    private init(images: Tensor, tissue: Tensor, labels: Tensor, ids: [String]) {
        self.images = images; self.tissue = tissue; self.labels = labels; self.ids = ids
    }

    /// The batch with each image and its tissue mask flipped or rotated by one of the square's
    /// eight symmetries (the four flips when H ≠ W), drawn from `seed` image by image.
    public func augmented(seed: UInt64) throws -> Batch {
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        var generator = SeededGenerator(seed: seed)
        let (x, m) = (images.scalars, tissue.scalars)
        var outX = x, outM = m
        for i in 0..<n {
            let view = Int.random(in: 0..<(h == w ? 8 : 4), using: &generator)
            let (flipY, flipX, transpose) = (view & 1 != 0, view & 2 != 0, view & 4 != 0)
            for y in 0..<h { for xx in 0..<w {
                var (sy, sx) = transpose ? (xx, y) : (y, xx)
                if flipY { sy = h - 1 - sy }
                if flipX { sx = w - 1 - sx }
                let (to, from) = (y * w + xx, sy * w + sx)
                for ch in 0..<c { outX[(i * c + ch) * h * w + to] = x[(i * c + ch) * h * w + from] }
                outM[i * h * w + to] = m[i * h * w + from]
            } }
        }
        return Batch(images: try Tensor(shape: images.shape, scalars: outX), tissue: try Tensor(shape: tissue.shape, scalars: outM),
                     labels: labels, ids: ids)
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
