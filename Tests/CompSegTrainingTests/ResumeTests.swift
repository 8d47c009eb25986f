import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegNetHead
import CompSegTestSupport
@testable import CompSegTraining
import UNetTopology

@Suite struct ResumeTests {
    func network(dropout: Float = 0) throws -> any SegmentingNetwork {
        var c = UNet.Configuration()
        c.width = 4; c.depth = 2; c.dropout = dropout
        return try UNet(inputChannels: 2, configuration: c, seed: 11)
    }

    /// Stopping after epoch 2, writing the checkpoint to disk and resuming in a new trainer gives
    /// the same weights, history and best epoch as one uninterrupted run, for each optimizer.
    @Test(arguments: TrainingSettings.OptimizerKind.allCases)
    func resumedRunEqualsUninterruptedRun(optimizer: TrainingSettings.OptimizerKind) throws {
        try resumedRunEqualsUninterruptedRun(optimizer: optimizer, dropout: 0)
    }

    /// Dropout draws from a generator the trainer seeds per step, so resuming repeats its draws.
    @Test func resumedRunWithDropoutEqualsUninterruptedRun() throws {
        try resumedRunEqualsUninterruptedRun(optimizer: .adam, dropout: 0.3)
    }

    func resumedRunEqualsUninterruptedRun(optimizer: TrainingSettings.OptimizerKind, dropout: Float) throws {
        let network = { try self.network(dropout: dropout) }
        let data = try SyntheticSquares(count: 8, seed: 3)
        var settings = TrainingSettings()
        settings.epochs = 4; settings.batchSize = 3; settings.optimizer = optimizer; settings.learningRate = 1e-3
        let (train, validation) = (Array(data.samples[0..<6]), Array(data.samples[6...]))

        let whole = try Trainer(network: network(), head: CompSegNetHead(), settings: settings)
        try whole.run(train: train, validation: validation)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-resume-\(optimizer)-\(dropout)-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let first = try Trainer(network: network(), head: CompSegNetHead(), settings: settings)
        let finished = try first.run(train: train, validation: validation, progress: { record in
            if record.epoch == 2 { try? first.checkpoint().write(to: file) }
        }, shouldStop: { first.history.count >= 2 })
        #expect(!finished)

        let resumed = try Trainer(network: network(), head: CompSegNetHead(), settings: settings)
        try resumed.restore(TrainingCheckpoint(contentsOf: file))
        #expect(resumed.history.count == 2)
        try resumed.run(train: train, validation: validation)

        #expect(resumed.history.map(\.trainLoss) == whole.history.map(\.trainLoss))
        #expect(resumed.best?.epoch == whole.best?.epoch)
        let same = resumed.network.parameters.flatMap(\.scalars) == whole.network.parameters.flatMap(\.scalars)
        #expect(same, "the resumed run's weights differ from the uninterrupted run's")
    }

    /// A restart (after a collapsed epoch) halves the learning rate for the rest of the run and
    /// warms it up again (the optimizer state is fresh); the history in the checkpoint carries
    /// it, so a resumed run trains at the same rates.
    @Test func restartsHalveTheLearningRateAcrossResume() throws {
        let data = try SyntheticSquares(count: 4, seed: 3)
        var settings = TrainingSettings()
        settings.epochs = 3; settings.batchSize = 2; settings.learningRate = 1e-3
        let first = try Trainer(network: network(), head: CompSegNetHead(), settings: settings)
        try first.run(train: data.samples, validation: [], shouldStop: { first.history.count >= 1 })
        var checkpoint = first.checkpoint()
        checkpoint.history[0].restart = 5e-4
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-restart-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try checkpoint.write(to: file)
        let resumed = try Trainer(network: network(), head: CompSegNetHead(), settings: settings)
        try resumed.restore(TrainingCheckpoint(contentsOf: file))
        #expect(resumed.learningRateScale == 0.5)
        var rates: [Float] = []
        try resumed.run(train: data.samples, validation: [], step: { _, _ in rates.append(resumed.optimizer.learningRate) })
        // 2 epochs of 2 steps after the restart, within the 3-epoch warm-up: k/6 of 5e-4 at step k.
        let expected = (1...4).map { 5e-4 * Float($0) / 6 }
        #expect(rates.count == 4 && zip(rates, expected).allSatisfy { Swift.abs($0 - $1) < 1e-10 }, "\(rates)")
    }

    @Test func runFolderRoundTrip() throws {
        let dir = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("compseg-run-\(UUID())"))
        defer { try? FileManager.default.removeItem(at: dir.url) }
        try dir.create()
        let model = RunConfiguration(modality: nil, topology: .init(identifier: "unet", configuration: ["width": 4]),
                                     head: .init(identifier: "compsegnet"), inputChannels: 2,
                                     training: .paper, versions: ["compseg": "test"])
        try dir.writeModel(model)
        #expect(try dir.readModel() == model)
        let net = try network()
        try dir.writeWeights(net.stateDictionary())
        let other = try UNet(inputChannels: 2, configuration: { var c = UNet.Configuration(); c.width = 4; c.depth = 2; return c }(),
                             seed: 99)
        try other.load(dir.readWeights())
        #expect(other.parameters.flatMap(\.scalars) == net.parameters.flatMap(\.scalars))
        #expect(throws: TrainingError.self) { try RunDirectory(dir.url.appendingPathComponent("missing")).readModel() }
        // history.csv reads back with its collapse notes (quoted, commas inside) and restarts.
        var collapsed = EpochRecord(epoch: 2, trainLoss: 0.5, validationLoss: nil, validationAUC: 0.5, seconds: 1.25,
                                    imagesPerSecond: 8, collapse: "collapsed: a \"flat\" map, everywhere", best: false)
        collapsed.restart = 0.0005
        let history = [EpochRecord(epoch: 1, trainLoss: 0.25, validationLoss: 0.125, validationAUC: 1, seconds: 1.5,
                                   imagesPerSecond: 8, collapse: nil, best: true), collapsed]
        try dir.writeHistory(history)
        let read = try dir.readHistory()
        #expect(read.map(\.collapse) == [nil, "collapsed: a \"flat\" map, everywhere"] && read.map(\.restart) == [nil, 0.0005])
        #expect(read.map(\.epoch) == [1, 2] && read.map(\.best) == [true, false] && read[0].validationLoss == 0.125)
    }

    /// model.json records the settings that apply: augmentation always (`none` too), momentum only
    /// for SGD; a run written before (momentum for every optimizer, no augmentation key) reads as it trained.
    @Test func trainingSettingsRecordWhatApplies() throws {
        func keys(_ s: TrainingSettings) throws -> [String: JSONValue] {
            try #require(JSONValue(encoding: s).objectValue)
        }
        let adam = try keys(TrainingSettings())
        #expect(adam["momentum"] == nil && adam["augmentation"] == "none", "\(adam)")
        var sgd = TrainingSettings()
        sgd.optimizer = .sgd; sgd.momentum = 0.5; sgd.augmentation = .dihedral
        #expect(try keys(sgd)["momentum"] == 0.5 && keys(sgd)["augmentation"] == "dihedral")
        #expect(try JSONDecoder().decode(TrainingSettings.self, from: JSONEncoder().encode(sgd)) == sgd)
        let before = #"{"epochs":4,"batchSize":7,"learningRate":0.001,"optimizer":"adam","weightDecay":0,"momentum":0.9,"seed":3,"#
            + #""balancedBatches":true,"minDelta":0,"warmupEpochs":3}"#
        var expected = TrainingSettings()
        expected.epochs = 4; expected.seed = 3
        #expect(try JSONDecoder().decode(TrainingSettings.self, from: Data(before.utf8)) == expected)
        // A checkpoint written before (momentum, no augmentation) holds the settings of such a run: nothing edited.
        let checkpoint = TrainingCheckpoint(network: [:], optimizerState: [:], optimizerUpdates: [:], best: nil, history: [],
                                            settings: try JSONDecoder().decode(JSONValue.self, from: Data(before.utf8)))
        #expect(TrainingRun.settingsEdited(expected, since: checkpoint).isEmpty)
        var augmented = expected
        augmented.learningRate = 0.01
        #expect(TrainingRun.settingsEdited(augmented, since: checkpoint) == ["learningRate 0.01 (the checkpoint's: 0.001)"])
    }
}
