import Testing
import CompSegDemo
import CompSegNetHead
import CompSegTraining
import UNetTopology

/// A shorter demo than `compseg demo` (40 spots of 48×48, width 8, depth 3, 30 epochs, a few
/// seconds in release): a broken method fails here. Seed 0 measured test AUC 1.0 and Dice .66
/// on 2 cores; the bar sits lower to allow other kernels' rounding (another ISA, thread count).
@Suite struct DemoTests {
    @Test func shortDemoSegmentsTumorFromImageLabels() throws {
        var settings = PhantomDemo.Settings()
        settings.phantom.spots = 40; settings.phantom.size = 48
        settings.training.epochs = 30
        var c = UNet.Configuration()
        c.width = 8; c.depth = 3
        let outcome = try PhantomDemo.run(settings, network: UNet(inputChannels: 16, configuration: c, seed: 0),
                                          head: CompSegNetHead())
        #expect(outcome.evaluation.auc ?? 0 >= 0.8, "test AUC \(String(describing: outcome.evaluation.auc))")
        #expect(outcome.evaluation.diceMean >= 0.4, "Dice \(outcome.evaluation.dice)")
        #expect(outcome.samples.test == 8 && outcome.evaluation.dice.count == 4)
    }
}
