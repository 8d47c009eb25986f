import CompSegCore

/// The course of training: training and validation loss per epoch, validation AUC per epoch, and
/// the epoch whose weights were kept marked on both.
public enum TrainingCurves {
    /// One epoch as the figure needs it.
    public struct Epoch: Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double
        public var validationLoss: Double?
        public var validationAUC: Double?
        public init(epoch: Int, trainLoss: Double, validationLoss: Double?, validationAUC: Double?) {
            self.epoch = epoch; self.trainLoss = trainLoss; self.validationLoss = validationLoss; self.validationAUC = validationAUC
        }
    }

    /// Colours: training loss, validation loss, validation AUC, the best epoch's rule.
    public static let trainColour = Palette.categorical[0], validationColour = Palette.categorical[1]
    public static let aucColour = Palette.categorical[2], bestColour: RGB = (90, 90, 90)

    /// Two charts, one above the other, `width` wide: "loss" (training and validation, dots at each
    /// epoch when there are at most 40) and, when any epoch has one, "validation AUC"; both with a
    /// dashed vertical rule at `best` ("best epoch N") when given. Epochs run along x with integer ticks.
    public static func charts(_ epochs: [Epoch], best: Int?, width: Int = 560) -> [Chart] {
        let n = epochs.map(\.epoch).max() ?? 1
        let xRange = 0.5...(Double(max(n, 1)) + 0.5)
        let xTicks = Chart.niceTicks(1...Double(max(n, 2)), count: 8).filter { $0.value == $0.value.rounded() }
            .map { (label: "\(Int($0.value))", value: $0.value) }
        let dots = epochs.count <= 40 ? 3.0 : 0
        let bestRule = best.map { Chart.Rule(.vertical, at: Double($0), colour: bestColour, dash: 6, name: "best epoch \($0)") }

        let losses = epochs.map(\.trainLoss) + epochs.compactMap(\.validationLoss)
        let finite = losses.filter(\.isFinite)
        let top = max(finite.max() ?? 1, 1e-6) * 1.08, bottom = min(0, finite.min() ?? 0)
        var loss = Chart(width: width, height: 300, title: "Loss", xLabel: "epoch", yLabel: "loss",
                         xRange: xRange, yRange: bottom...top, xTicks: xTicks, yTicks: Chart.niceTicks(bottom...top, count: 5))
        loss.series.append(.init(name: "training loss", points: epochs.filter { $0.trainLoss.isFinite }.map { (Double($0.epoch), $0.trainLoss) },
                                 colour: trainColour, dotRadius: dots))
        let validation = epochs.compactMap { e in e.validationLoss.flatMap { $0.isFinite ? (Double(e.epoch), $0) : nil } }
        if !validation.isEmpty {
            loss.series.append(.init(name: "validation loss", points: validation, colour: validationColour, dotRadius: dots))
        }
        if let bestRule { loss.rules.append(bestRule) }

        let aucs = epochs.compactMap { e in e.validationAUC.flatMap { $0.isFinite ? (Double(e.epoch), $0) : nil } }
        guard !aucs.isEmpty else { return [loss] }
        let low = min(0.5, ((aucs.map(\.1).min() ?? 0.5) * 10).rounded(.down) / 10) - 0.02
        var auc = Chart(width: width, height: 260, title: "Validation AUC (image level)", xLabel: "epoch", yLabel: "AUC",
                        xRange: xRange, yRange: low...1.02, xTicks: xTicks, yTicks: Chart.niceTicks(max(0, low)...1, count: 5))
        auc.series.append(.init(name: "validation AUC", points: aucs, colour: aucColour, dotRadius: dots))
        if let bestRule { auc.rules.append(bestRule) }
        return [loss, auc]
    }

    /// `charts` as one picture.
    public static func render(_ epochs: [Epoch], best: Int?, width: Int = 560) -> RGBImage {
        Chart.render(stacking: charts(epochs, best: best, width: width))
    }

    /// `charts` as one SVG document.
    public static func svg(_ epochs: [Epoch], best: Int?, width: Int = 560) -> String {
        Chart.svg(stacking: charts(epochs, best: best, width: width))
    }
}
