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
        var phantom = InfraredPhantom.Settings()
        phantom.spots = 40; phantom.size = 48
        var settings = PhantomDemo.Settings(.infrared(phantom), modality: manifest)
        settings.training.epochs = 30
        settings.topology = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 8])
        let run = RunDirectory(folder.appendingPathComponent("run"))
        let outcome = try PhantomDemo.run(settings, in: run, registry: builtinRegistry())
        #expect(outcome.evaluation.auc ?? 0 >= 0.8, "test AUC \(String(describing: outcome.evaluation.auc))")
        #expect(outcome.evaluation.diceMean >= 0.4, "Dice \(outcome.evaluation.dice)")
        #expect(outcome.samples.test == 8 && outcome.evaluation.dice.count == 4, "\(outcome.samples), \(outcome.evaluation.dice)")
        // The run folder is a `compseg train` run: the manifest's fitted chain, outside: zero, the weights.
        let model = try run.readModel()
        #expect(model.modality?.preprocessing.map(\.identifier) == ["crop", "normalize", "pca"] && model.modality?.outside == .zero)
        #expect(FileManager.default.fileExists(atPath: run.weightsFile.path))
    }

    /// The Raman demo, shorter: its phantom written as ENVI and WiRE-text files, read by the
    /// Raman reader and prepared by `modalities/raman.yaml` (despike, arPLS, PCA).
    @Test func shortRamanDemoGoesThroughTheReaders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var phantom = RamanPhantom.Settings()
        phantom.spots = 40; phantom.size = 32; phantom.bands = 150
        var settings = PhantomDemo.Settings(.raman(phantom, folder: folder.appendingPathComponent("data")),
                                            modality: try resolveModality("raman", registry: builtinRegistry()))
        settings.training.epochs = 20
        settings.topology = PluginDescription(identifier: "unet", configuration: ["depth": 3, "width": 8])
        let run = RunDirectory(folder.appendingPathComponent("run"))
        let outcome = try PhantomDemo.run(settings, in: run, registry: builtinRegistry())
        #expect(outcome.evaluation.auc ?? 0 >= 0.8, "test AUC \(String(describing: outcome.evaluation.auc))")
        #expect(outcome.evaluation.diceMean >= 0.4, "Dice \(outcome.evaluation.dice)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/spot001.txt").path))
        #expect(try run.readModel().modality?.reader == "raman")
    }
}
