import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegDemo
import CompSegNN
import CompSegTraining
import Foundation

/// `compseg demo`: the whole method on a built-in synthetic infrared tissue microarray: image
/// labels only for training, model selection on validation loss, then test AUC and Dice against
/// the ground truth that training never saw.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train CompSegNet on a synthetic infrared TMA from image labels and evaluate it against ground truth.")

    @Option(help: "Modality of the phantom (infrared; Raman and H&E phantoms come with their modalities).")
    var modality = "infrared"
    @Option(help: "Spots in the phantom (60% train, 20% val, 20% test).") var spots = 100
    @Option(help: "Spot side in pixels.") var size = 64
    @Option(help: "Principal components fed to the network.") var components = 16
    @Option(help: "Topology identifier.") var topology = "unet"
    @Option(help: "Network base width.") var width = 16
    @Option(help: "Network pooling steps.") var depth = 3
    @OptionGroup var training: TrainingOptions
    @Option(help: "The network's activation at start (its head's bias); default: the topology's.") var initialActivation: Float?
    @Flag(inversion: .prefixedNo, help: "Batch norm after every convolution (default: the topology's; the U-Net's is off, as in the paper).")
    var batchNorm: Bool?
    @Option(help: "The CompSegNet head's α: the tumor fraction a cancer sample is assumed to hold at least.")
    var alpha: Float = 0.1
    @Option(help: "Activation threshold for masks (default: chosen on the validation spots).") var threshold: Float?
    @Option(help: "Folder for the run, the figures and report.html.") var out = "compseg-demo"
    @Flag(help: "Write into an output folder that already holds a demo.") var force = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard ["infrared", "ir", "ftir"].contains(modality.lowercased()) else {
            throw ValidationError("--modality: the demo has a phantom for infrared only, got '\(modality)'")
        }
    }

    func run() throws {
        threading.apply()
        let started = DispatchTime.now().uptimeNanoseconds
        let registry = try builtinRegistry()
        var settings = PhantomDemo.Settings(modality: try resolveModality("infrared", registry: registry))
        settings.training = training.settings()
        let seed = settings.training.seed
        settings.phantom.spots = spots; settings.phantom.size = size; settings.phantom.seed = seed
        settings.threshold = threshold
        // --components replaces the manifest's PCA size.
        settings.modality.preprocessing = settings.modality.preprocessing.map { step in
            step.identifier == "pca" ? PluginDescription(identifier: "pca", configuration: ["components": JSONValue(components)]) : step
        }
        var network: [String: JSONValue] = ["depth": JSONValue(depth), "width": JSONValue(width)]
        network["initialActivation"] = initialActivation.map(JSONValue.init)
        network["batchNorm"] = batchNorm.map { .bool($0) }
        settings.topology = PluginDescription(identifier: topology, configuration: .object(network))
        settings.head = PluginDescription(identifier: "compsegnet", configuration: ["alpha": JSONValue(alpha)])

        let folder = URL(fileURLWithPath: out)
        let run = RunDirectory(folder.appendingPathComponent("run"))
        if FileManager.default.fileExists(atPath: run.modelFile.path) {
            guard force else { throw CLIError("\(folder.path) already holds a demo; pass --force to replace it or choose another --out") }
            try FileManager.default.removeItem(at: run.url)
        }
        let progress = ProgressReporter(epochs: settings.training.epochs, images: Int(Double(spots) * 0.6))
        var epoch = 0
        let outcome = try PhantomDemo.run(settings, in: run, registry: registry, report: { print($0) },
                                          progress: { epoch = $0.epoch; progress.finish($0) },
                                          step: { k, n in progress.step(epoch: epoch + 1, k, of: n) })
        let result = outcome.evaluation
        try EvaluationFiles.write(result, to: folder)
        try EvaluationReport.write(result, samples: outcome.test, maps: outcome.maps, truth: outcome.truth,
                                   title: "compseg demo: \(spots) phantom spots, seed \(seed), \(topology)", to: folder)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        print(String(format: "Best epoch %d, threshold %.2f. Test AUC %.3f; Dice %.3f ± %.3f over %d cancer spots; %.0f s in all.",
                     outcome.run.trainer.best?.epoch ?? 0, result.threshold, result.auc ?? .nan, result.diceMean, result.diceSD,
                     result.dice.count, seconds))
        print("Report: \(folder.appendingPathComponent("report.html").path)")
    }
}
