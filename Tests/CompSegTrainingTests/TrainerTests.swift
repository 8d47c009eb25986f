import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegNetHead
import CompSegTestSupport
@testable import CompSegTraining
import SegNetTopology
import UNetTopology

@Suite struct TrainerTests {
    func smallUNet(seed: UInt64) throws -> any SegmentingNetwork {
        var c = UNet.Configuration()
        c.width = 8; c.depth = 2
        return try UNet(inputChannels: 2, configuration: c, seed: seed)
    }

    func smallSegNet(seed: UInt64) throws -> any SegmentingNetwork {
        var c = SegNet.Configuration()
        c.width = 8; c.depth = 2
        return try SegNet(inputChannels: 2, configuration: c, seed: seed)
    }

    /// Trains on the squares and checks the method's promise: the loss falls, and in cancer
    /// images the map lights up inside the square more than outside it.
    func trainsToFindTheSquare(_ network: any SegmentingNetwork) throws {
        let data = try SyntheticSquares(count: 16, seed: 7)
        var settings = TrainingSettings()
        settings.epochs = 30; settings.batchSize = 4; settings.learningRate = 3e-3; settings.seed = 1
        settings.warmupEpochs = 0  // the topology is under test here, not the schedule
        let trainer = try Trainer(network: network, head: try CompSegNetHead(), settings: settings)
        try trainer.run(train: data.samples, validation: [])
        let losses = trainer.history.map(\.trainLoss)
        #expect(losses.last! < losses.first! * 0.7, "training loss \(losses)")

        let (meanIn, meanOut) = try data.meanActivation(of: network)
        #expect(meanIn > 2 * meanOut, "mean activation inside the square \(meanIn), outside \(meanOut)")
    }

    @Test func uNetLearnsTheSquare() throws { try trainsToFindTheSquare(smallUNet(seed: 3)) }
    @Test func segNetLearnsTheSquare() throws { try trainsToFindTheSquare(smallSegNet(seed: 3)) }

    @Test func sameSeedSameWeights() throws {
        let data = try SyntheticSquares(count: 8, seed: 2)
        var settings = TrainingSettings()
        settings.epochs = 2; settings.batchSize = 4
        func train() throws -> [Float] {
            let net = try smallUNet(seed: 5)
            try Trainer(network: net, head: try CompSegNetHead(), settings: settings).run(train: data.samples, validation: [])
            return net.parameters.flatMap(\.scalars)
        }
        #expect(try train() == train())
    }

    @Test func validationSelectsTheBestEpochAndReportsAUC() throws {
        let data = try SyntheticSquares(count: 12, seed: 4)
        var settings = TrainingSettings()
        settings.epochs = 4; settings.batchSize = 4; settings.learningRate = 3e-3
        let trainer = try Trainer(network: try smallUNet(seed: 1), head: try CompSegNetHead(), settings: settings)
        try trainer.run(train: Array(data.samples[0..<8]), validation: Array(data.samples[8...]))
        let h = trainer.history
        #expect(h.count == 4 && h.allSatisfy { $0.validationLoss != nil && $0.validationAUC != nil })
        let bestEpoch = h.min { $0.validationLoss! < $1.validationLoss! }!.epoch
        #expect(trainer.best?.epoch == bestEpoch)
    }

    @Test func balancedBatchesHoldBothLabels() {
        let labels: [SampleLabel] = (0..<14).map { $0 < 5 ? .cancer : .cancerFree }
        let batches = epochBatches(labels: labels, size: 7, seed: 0, epoch: 1, balanced: true)
        #expect(batches.map(\.count) == [7, 7])
        #expect(batches.allSatisfy { b in b.contains { labels[$0] == .cancer } && b.contains { labels[$0] == .cancerFree } })
        #expect(Set(batches.flatMap { $0 }) == Set(0..<14))
        #expect(epochBatches(labels: labels, size: 7, seed: 0, epoch: 2, balanced: true) != batches)  // reshuffled
    }

    @Test func aucCountsTiesAsHalf() {
        #expect(rocAUC(scores: [0.9, 0.8, 0.3, 0.1], positives: [true, true, false, false]) == 1)
        #expect(rocAUC(scores: [0.5, 0.5, 0.5, 0.5], positives: [true, false, true, false]) == 0.5)
        #expect(rocAUC(scores: [0.2, 0.4, 0.4, 0.9], positives: [false, true, false, true]) == 0.875)  // (1 + .5 + 1 + 1)/4
        #expect(rocAUC(scores: [0.1, 0.2], positives: [true, true]) == nil)
    }
}

@Suite struct CollapseTests {
    /// A head bias far below zero (initial activation 1e-6) and a negligible learning rate keep
    /// every activation below 1e-3: the epoch is reported collapsed, with advice.
    @Test func allZeroActivationsAreReported() throws {
        let data = try SyntheticSquares(count: 4, seed: 1)
        var c = UNet.Configuration()
        c.width = 4; c.depth = 1; c.initialActivation = 1e-6
        var settings = TrainingSettings()
        settings.epochs = 1; settings.batchSize = 4; settings.learningRate = 1e-12
        let trainer = try Trainer(network: UNet(inputChannels: 2, configuration: c, seed: 0), head: CompSegNetHead(),
                                  settings: settings)
        try trainer.run(train: data.samples, validation: [])
        let note = try #require(trainer.history.first?.collapse)
        #expect(note.hasPrefix("collapsed: every activation on tissue stayed below 1e-3"))
        #expect(note.contains("Adam (--optimizer adam)"))
    }

    /// A head that clamps the activation far above where it is (a head author's mistake) sends no
    /// gradient: the note says so, instead of advice about the optimizer and learning rate.
    @Test func aHeadWithoutGradientIsNamed() throws {
        struct ClampedHead: PoolingHead {
            func score(activation: Tensor, tissue: Tensor) throws -> Tensor {
                try maskedMean(clip(activation, lower: 0.5, upper: 1), mask: tissue)
            }
            func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
                try mean(abs(add(score(activation: activation, tissue: tissue), scale(labels, by: -1))))
            }
        }
        let data = try SyntheticSquares(count: 4, seed: 1)
        var c = UNet.Configuration()
        c.width = 4; c.depth = 1; c.initialActivation = 1e-6
        var settings = TrainingSettings()
        settings.epochs = 1; settings.batchSize = 4
        let trainer = try Trainer(network: UNet(inputChannels: 2, configuration: c, seed: 0), head: ClampedHead(), settings: settings)
        try trainer.run(train: data.samples, validation: [])
        let note = try #require(trainer.history.first?.collapse)
        #expect(note.hasPrefix("collapsed: no gradient reaches the network"), "\(note)")
    }

    @Test func healthyTrainingIsNotReported() throws {
        let data = try SyntheticSquares(count: 4, seed: 1)
        var c = UNet.Configuration()
        c.width = 4; c.depth = 1
        var settings = TrainingSettings()
        settings.epochs = 1; settings.batchSize = 4
        let trainer = try Trainer(network: UNet(inputChannels: 2, configuration: c, seed: 0), head: CompSegNetHead(),
                                  settings: settings)
        try trainer.run(train: data.samples, validation: [])
        #expect(trainer.history.first?.collapse == nil)
    }
}

@Suite struct CollapseNoteTests {
    /// A loss at the all-dark loss that barely moved (or with validation images ranked by chance)
    /// is a collapse after the warm-up, not during it: the network starts there.
    @Test func theWarmUpIsNoCollapse() throws {
        let trainer = try Trainer(network: UNet(inputChannels: 1, configuration: UNet.Configuration(), seed: 0), head: CompSegNetHead(),
                                  settings: TrainingSettings())
        let previous = EpochRecord(epoch: 1, trainLoss: 0.29996, validationLoss: nil, validationAUC: nil, seconds: 1, imagesPerSecond: 1,
                                   collapse: nil, best: true)
        func note(warmingUp: Bool, auc: Double?) -> String? {
            var before = previous
            before.validationAUC = auc
            return trainer.collapseNote(loss: 0.29995, extremes: (dark: 0.3, lit: 0.7), previous: before, lowest: 0.01, highest: 0.2,
                                        validationAUC: auc, warmingUp: warmingUp)
        }
        #expect(note(warmingUp: false, auc: nil)?.hasPrefix("collapsed: the training loss 0.29995 is what an all-dark map scores") == true)
        #expect(note(warmingUp: true, auc: nil) == nil)
        #expect(note(warmingUp: false, auc: 0.5) != nil && note(warmingUp: true, auc: 0.5) == nil)
        #expect(note(warmingUp: false, auc: 0.9) == nil)
    }

    /// Where an all-dark and an all-lit map score alike, the activations say which one the network gives.
    @Test func aLossBothMapsScoreIsToldByTheActivations() throws {
        let trainer = try Trainer(network: UNet(inputChannels: 1, configuration: UNet.Configuration(), seed: 0), head: CompSegNetHead(),
                                  settings: TrainingSettings())
        let previous = EpochRecord(epoch: 1, trainLoss: 0.3002, validationLoss: nil, validationAUC: nil, seconds: 1, imagesPerSecond: 1,
                                   collapse: nil, best: true)
        func note(lowest: Float, highest: Float) -> String? {
            trainer.collapseNote(loss: 0.30032, extremes: (dark: 0.3, lit: 0.3), previous: previous, lowest: lowest, highest: highest,
                                 validationAUC: nil)
        }
        #expect(note(lowest: 0.8, highest: 0.99)?.contains("all-lit map scores (0.30000)") == true)
        #expect(note(lowest: 0.01, highest: 0.3)?.contains("all-dark map scores (0.30000)") == true)
        #expect(note(lowest: 0.2, highest: 0.9)?.contains("what an all-dark or an all-lit map scores (0.30000, 0.30000)") == true)
        // The loss of one map alone, which the activations rule out: neither is named as the network's.
        let contradicted = trainer.collapseNote(loss: 0.30032, extremes: (dark: 0.3, lit: 0.7), previous: previous, lowest: 0.8,
                                                highest: 0.99, validationAUC: nil)
        #expect(contradicted?.contains("what an all-dark map scores (0.30000), though its activations on tissue lay from 0.8 to 0.99") == true
                    && contradicted?.contains("lights up nothing") == false, "\(String(describing: contradicted))")
    }
}

@Suite struct WarmupTests {
    /// The learning rate rises linearly over the warm-up steps, then holds.
    @Test func learningRateRisesLinearly() throws {
        let data = try SyntheticSquares(count: 4, seed: 1)
        var c = UNet.Configuration()
        c.width = 4; c.depth = 1
        var settings = TrainingSettings()
        settings.epochs = 3; settings.batchSize = 2; settings.learningRate = 1e-3; settings.warmupEpochs = 2
        let trainer = try Trainer(network: UNet(inputChannels: 2, configuration: c, seed: 0), head: CompSegNetHead(),
                                  settings: settings)
        var seen: [Float] = []
        try trainer.run(train: data.samples, validation: [], step: { _, _ in seen.append(trainer.optimizer.learningRate) })
        #expect(seen.count == 6)
        #expect(zip(seen, [0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3]).allSatisfy { Swift.abs($0 - $1) < 1e-9 }, "\(seen)")
    }

    /// A run written before a setting existed trained as it did then: no warm-up.
    @Test func settingsWithoutNewerKeysDecode() throws {
        let old = #"{"format":3,"topology":{"identifier":"unet"},"head":{"identifier":"compsegnet"},"inputChannels":3,"training":{"epochs":5},"versions":{}}"#
        let s = try RunConfiguration(modelJSON: Data(old.utf8), file: "model.json").training
        #expect(s.epochs == 5 && s.warmupEpochs == 0 && s.optimizer == .adam)
    }

    /// A damaged model.json says where it stops being JSON; a recorded threshold outside (0, 1),
    /// which would mark nothing (or everything), is refused naming its key.
    @Test func aDamagedModelJSONIsNamed() throws {
        let whole = #"{"format":3,"topology":{"identifier":"unet"},"head":{"identifier":"compsegnet"},"inputChannels":3,"training":{"epochs":5},"versions":{}}"#
        do { _ = try RunConfiguration(modelJSON: Data(whole.dropLast(2).utf8), file: "run/model.json"); Issue.record("a cut file read") } catch {
            #expect("\(error)".hasPrefix("run/model.json: not a run configuration that compseg wrote (not JSON: ") && "\(error)".contains("at byte"),
                    "\(error)")
        }
        var model = try RunConfiguration(modelJSON: Data(whole.utf8), file: "model.json")
        model.threshold = RunThreshold(value: 2, origin: "edited")
        let edited = try JSONEncoder().encode(model)
        do { _ = try RunConfiguration(modelJSON: edited, file: "run/model.json"); Issue.record("threshold 2 read") } catch {
            #expect("\(error)" == "run/model.json: key 'threshold.value' is 2.0; expected a number in (0, 1)")
        }
        // A number where no such number belongs (Foundation says only "not valid JSON"), and a setting out of
        // range, are named by their key, in the current format and an older one.
        model.threshold = nil
        for written in [Data(whole.utf8), try JSONEncoder().encode(model)] {  // format 3, and the current one
            for (key, value, message) in [("seed", -1 as Any, "key 'training.seed': -1 is below 0; expected a whole number 0 or more"),
                                          ("epochs", 5.5, "key 'training.epochs': 5.5 is not a whole number"),
                                          ("batchSize", 0, "key 'training.batchSize' must be positive, got 0"),
                                          ("learningRate", -1, "key 'training.learningRate' must be a positive finite number, got -1.0")] {
                var top = try #require(JSONSerialization.jsonObject(with: written) as? [String: Any])
                var training = try #require(top["training"] as? [String: Any])
                training[key] = value
                top["training"] = training
                do {
                    // Numbers are named as the file is read; ranges where a resume checks them (segmenting needs none).
                    let read = try RunConfiguration(modelJSON: JSONSerialization.data(withJSONObject: top), file: "run/model.json")
                    try read.training.validate { "run/model.json: key 'training.\($0)'" }
                    Issue.record("\(key) \(value) read")
                } catch { #expect("\(error)".hasPrefix("run/model.json") && "\(error)".contains(message), "\(key) \(value): \(error)") }
            }
        }
    }
}
