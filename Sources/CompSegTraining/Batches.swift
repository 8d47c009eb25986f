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
