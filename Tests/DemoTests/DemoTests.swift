import BuiltinPlugins
import CompSegCore
import CompSegDemo
import CompSegTraining
import Foundation
import Phantoms
import Testing

/// A shorter demo than `compseg demo` (40 spots of 48×48, width 8, depth 3, 30 epochs, a few
/// seconds in release) through the same manifest chain and `TrainingRun`: a broken method fails
/// here. The bars sit well below what it reaches, to allow other kernels' rounding.
@Suite struct DemoTests {
    @Test func shortDemoSegmentsTumorFromImageLabels() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = try resolveModality("infrared", registry: builtinRegistry())
        var settings = PhantomDemo.Settings(modality: manifest)
        settings.phantom.spots = 40; settings.phantom.size = 48
        settings.training.epochs = 30
        settings.topology = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 8])
        let run = RunDirectory(folder.appendingPathComponent("run"))
        let outcome = try PhantomDemo.run(settings, in: run, registry: builtinRegistry())
        #expect(outcome.evaluation.auc ?? 0 >= 0.8, "test AUC \(String(describing: outcome.evaluation.auc))")
        #expect(outcome.evaluation.diceMean >= 0.4, "Dice \(outcome.evaluation.dice)")
        #expect(outcome.samples.test == 8 && outcome.evaluation.dice.count == 4)
        // The run folder is a `compseg train` run: the manifest's fitted chain, outside: zero, the weights.
        let model = try run.readModel()
        #expect(model.modality?.preprocessing.map(\.identifier) == ["crop", "normalize", "pca"] && model.modality?.outside == .zero)
        #expect(FileManager.default.fileExists(atPath: run.weightsFile.path))
    }
}
