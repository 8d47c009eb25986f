import CompSegCore
import CompSegNN

/// Image- and pixel-level results of a trained network on phantom spots.
public struct SegmentationEvaluation {
    public let auc: Double?
    /// Dice per cancer sample with truth.
    public let dice: [Double]
    public var diceMean: Double { dice.isEmpty ? .nan : dice.reduce(0, +) / Double(dice.count) }
    public var diceSD: Double {
        guard dice.count > 1 else { return 0 }
        let m = diceMean
        return (dice.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(dice.count - 1)).squareRoot()
    }

    /// AUC of the tumor fraction (tissue pixels above threshold) against the labels, as the paper;
    /// Dice of the thresholded map within tissue against the truth, over cancer samples.
    public init(model: any SegmentingNetwork, samples: [Sample], truth: [String: [Bool]], threshold: Float) throws {
        model.setTraining(false)
        var fractions: [Float] = [], dice: [Double] = []
        for sample in samples {
            let a = try withoutGradients {
                try model.activation(Tensor(shape: Shape([1] + sample.image.shape.dims), scalars: sample.image.scalars))
            }.scalars
            let predicted = a.indices.map { a[$0] > threshold && sample.tissue.pixels[$0] }
            fractions.append(Float(predicted.filter { $0 }.count) / Float(max(1, sample.tissue.count)))
            if sample.label == .cancer, let t = truth[sample.id] { dice.append(CompSegTraining.dice(predicted, t)) }
        }
        auc = rocAUC(scores: fractions, positives: samples.map { $0.label == .cancer })
        self.dice = dice
    }
}
