import Testing
import CompSegCore
import Phantoms
import CompSegNN
import CompSegNetHead
import CompSegTraining
import UNetTopology

/// The collapse the old initialisation fell into on the independent phantom (He-normal weights
/// without batch norm: all-dark maps from epoch 1, the loss flat at α times the cancer images per
/// batch, validation AUC .5), reproduced small: a 20-spot phantom of 32×32 through PCA, a U-Net
/// of width 8 and depth 3, learning rate 1e-2, seed 2 (measured on 2 cores: with He-normal the
/// loss sat at the all-dark loss with validation AUC .5 from epoch 1; with PyTorch's
/// initialisation it fell and the AUC was 1). The warning needs two such epochs, so it fires at 2.
@Suite struct CollapseDetectionTests {
    func train(_ initializer: Initializer, epochs: Int = 2) throws -> [EpochRecord] {
        var phantom = InfraredPhantom.Settings()
        phantom.spots = 20; phantom.size = 32; phantom.seed = 2
        let data = try PhantomDataset(InfraredPhantom(phantom), components: 16)
        var settings = TrainingSettings()
        settings.epochs = epochs; settings.seed = 2; settings.learningRate = 1e-2
        settings.warmupEpochs = 0  // as the old defaults trained
        var c = UNet.Configuration()
        c.width = 8; c.depth = 3; c.batchNorm = false; c.initializer = initializer
        let trainer = try Trainer(network: UNet(inputChannels: 16, configuration: c, seed: 2), head: CompSegNetHead(),
                                  settings: settings)
        try trainer.run(train: data.split(.train), validation: data.split(.val))
        return trainer.history
    }

    @Test func oldInitialisationCollapsesInEpochOneAndIsReported() throws {
        let history = try train(.heNormal, epochs: 3)
        #expect(history.prefix(2).map(\.validationAUC) == [0.5, 0.5], "validation AUC per epoch")
        let second = history[1]
        let note = try #require(second.collapse, "epoch 2: loss \(second.trainLoss), validation AUC \(String(describing: second.validationAUC))")
        #expect(note.hasPrefix("collapsed:") && note.contains("lights up nothing"), "\(note)")
        #expect(note.contains("Keep the topology's defaults (its initializer: He-normal weights without batch norm collapse)"), "\(note)")
        // A collapsed epoch restarts training from the best weights at half the learning rate (not
        // the last: no epoch follows it).
        #expect(second.restart != nil, "\(history.map(\.restart))")
        let lastOnly = try train(.heNormal, epochs: 2)
        #expect(lastOnly[1].collapse != nil && lastOnly[1].restart == nil, "\(lastOnly.map(\.restart))")
    }

    @Test func defaultInitialisationTrainsTheSameCase() throws {
        let history = try train(UNet.Configuration().initializer)
        #expect(history.allSatisfy { $0.collapse == nil }, "\(history.map(\.collapse))")
        #expect(history.last!.trainLoss < history.first!.trainLoss, "\(history.map(\.trainLoss))")
    }
}
