import CompSegIO
import Foundation
import Testing

/// docs/using-compseg-as-a-library.md: a program of its own runs `compseg`'s commands over the
/// built-in plugins and its own (`Examples/ExampleTool`), and `compseg` itself names the plugins
/// it lacks for a run made that way.
@Suite struct ExampleToolTests {
    @Test func listsItsOwnPluginsBesideTheBuiltInOnes() throws {
        let run = try runBuilt("ExampleTool", ["plugins"])
        #expect(run.status == 0, "\(run.error)")
        for name in ["greyscale-png", "tiny-fcn", "power-mean", "he", "unet", "compsegnet", "pca"] {
            #expect(run.output.contains(name), "plugins does not list \(name):\n\(run.output)")
        }
        // One plugin's settings with their defaults, its own and the built-in ones, and where to give them.
        let head = try runBuilt("ExampleTool", ["plugins", "gem"])
        #expect(head.status == 0 && head.output.hasPrefix("power-mean (pooling head; aliases: gem)")
                    && head.output.contains("  exponent: ") && head.output.contains("--head-option KEY=VALUE"), "\(head.output)")
        let paper = try runBuilt("ExampleTool", ["plugins", "compsegnet"])
        #expect(paper.output.contains("  alpha: 0.1\n  beta: 5\n  gamma: 0.001\n"), "\(paper.output)")
        let reader = try runBuilt("ExampleTool", ["plugins", "he"])
        #expect(reader.output.contains("under `options:` of a modality manifest whose reader is he")
                    && reader.output.contains("  tissue:\n    channel: grey\n"), "\(reader.output)")
        let raman = try runBuilt("ExampleTool", ["plugins", "raman"])
        #expect(raman.output.contains("  excitationWavelength: none\n") && raman.output.contains("  spectra: /spectra\n"), "\(raman.output)")
        let step = try runBuilt("ExampleTool", ["plugins", "resample"])
        #expect(step.output.contains("): count, from, to, values; some must be given: with none, expected either 'values' or all of 'from', 'to', 'count'"), "\(step.output)")
        // A step whose every setting must be given lists the keys it takes.
        let pca = try runBuilt("ExampleTool", ["plugins", "pca"])
        #expect(pca.output.contains("): components, fitPixels, whiten; some must be given: with none, missing key 'components'"), "\(pca.output)")
        // Keys without a default are named too, and a step's keys it takes out before reading the rest.
        let standardize = try runBuilt("ExampleTool", ["plugins", "standardize"])
        #expect(standardize.output.contains("Settings, none set by default (in a modality manifest's preprocessing list")
                    && standardize.output.contains("  without a default (unset unless given): channels, mean, sd\n"), "\(standardize.output)")
        let reinhard = try runBuilt("ExampleTool", ["plugins", "reinhard"])
        #expect(reinhard.output.contains("  method: standard\n  without a default (unset unless given): referenceImage, targetMeans, "
                                         + "targetStds\n"), "\(reinhard.output)")
        #expect(try runBuilt("ExampleTool", ["plugins", "macenko"]).output.contains("(unset unless given): referenceImage\n"))
        let topology = try runBuilt("ExampleTool", ["plugins", "unet"])
        #expect(topology.output.contains("  width: 64\n") && topology.output.contains("train: --width, --depth"), "\(topology.output)")
        // The example reader reports its settings (ReportsConfiguration).
        let grey = try runBuilt("ExampleTool", ["plugins", "grey-png"])
        #expect(grey.output.contains("Settings, with their defaults") && grey.output.contains("  tissueThreshold: 0\n"), "\(grey.output)")
        // The modality manifests --modality finds are listed, the program's own with its file, and one is printed by name.
        #expect(run.output.contains("Modality manifests (--modality NAME") && run.output.contains("grey-spots.yaml)"), "\(run.output)")
        let manifest = try runBuilt("ExampleTool", ["plugins", "grey-spots"])
        #expect(manifest.status == 0 && manifest.output.hasPrefix("grey-spots (modality manifest, ")
                    && manifest.output.contains("\n  reader: greyscale-png\n"), "\(manifest.output)")
        // A manifest file, as --modality takes it, is printed too.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("reader: infrared\npreprocessing: [normalize]\n".utf8).write(to: file)
        let fromFile = try runBuilt("ExampleTool", ["plugins", file.path])
        #expect(fromFile.status == 0 && fromFile.output.hasPrefix("\(file.path) (modality manifest, \(file.path); --modality \(file.path))")
                    && fromFile.output.contains("\n  reader: infrared\n") && fromFile.output.contains("  preprocessing: normalize"), "\(fromFile.output)")
        let unknown = try runBuilt("ExampleTool", ["plugins", "segnt"])
        #expect(unknown.status == 1 && unknown.error.contains("no plugin or modality manifest answers to 'segnt'; did you mean 'segnet'?"),
                "\(unknown.error)")
        let misspelt = try runBuilt("ExampleTool", ["plugins", "grey-spot"])  // a manifest's name
        #expect(misspelt.status == 1 && misspelt.error.contains("did you mean 'grey-spots'?"), "\(misspelt.error)")
        // Its version names it and the compseg it is built on.
        let version = try runBuilt("ExampleTool", ["--version"])
        #expect(version.status == 0 && version.output.hasPrefix("ExampleTool, on compseg "), "\(version.output)")
        // Its help and messages call it by its own name.
        #expect(try runBuilt("ExampleTool", ["--help"]).output.contains("USAGE: ExampleTool <subcommand>"))
        #expect(try runBuilt("ExampleTool", ["segmnt"]).error.contains("unknown command 'segmnt' for 'ExampleTool'"))
    }

    @Test func theGuideQuotesTheToolVerbatim() throws {
        try expectQuotedVerbatim("Examples/ExampleTool/main.swift", in: "docs/using-compseg-as-a-library.md")
    }

    /// Greyscale spots of 32×32: a disc of tissue, and in cancer spots a bright square in it.
    static func writeSpots(in folder: ScratchFolder) throws -> URL {
        var rows = ["path,label,split"]
        for i in 0..<12 {
            let cancer = i % 2 == 0, n = 32
            var pixels = [UInt8](repeating: 0, count: n * n)
            for y in 0..<n { for x in 0..<n {
                let (dy, dx) = (y - n / 2, x - n / 2)
                guard dy * dy + dx * dx < 14 * 14 else { continue }
                let square = cancer && (6..<16).contains(y - i % 4) && (8..<18).contains(x + i % 3)
                pixels[y * n + x] = square ? 220 : UInt8(90 + (x * 7 + y * 13 + i) % 20)
            } }
            let name = "spot\(i).png"
            try PNGImage(width: n, height: n, channels: 1, pixels: pixels).write(to: folder.file(name))
            rows.append("\(name),\(cancer ? "cancer" : "cancer-free"),\(i < 8 ? "train" : i < 10 ? "val" : "test")")
        }
        let manifest = folder.file("manifest.csv")
        try rows.joined(separator: "\n").write(to: manifest, atomically: true, encoding: .utf8)
        return manifest
    }

    @Test func trainsAndSegmentsWithItsPluginsWhileCompsegNamesWhatItLacks() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let manifest = try Self.writeSpots(in: folder)
        let (run, segmented) = (folder.file("run").path, folder.file("segmented").path)
        let train = try runBuilt("ExampleTool", ["train", "--modality", "grey-spots", "--topology", "tiny-fcn", "--head", "power-mean",
                                                 "--width", "8", "--epochs", "2", "--batch", "4", "--data", manifest.path, "--out", run,
                                                 "--threads", "1"])
        #expect(train.status == 0, "\(train.output)\n\(train.error)")
        let model = try String(contentsOf: folder.file("run/model.json"), encoding: .utf8)
        #expect(model.contains("\"tiny-fcn\"") && model.contains("\"power-mean\"") && model.contains("\"greyscale-png\""))
        #expect(model.contains("\"standardize\"") && model.contains("\"sd\""), "the named manifest's step, fitted: \(model)")

        let segment = try runBuilt("ExampleTool", ["segment", "--model", run, folder.file("spot10.png").path, "--out", segmented])
        #expect(segment.status == 0, "\(segment.output)\n\(segment.error)")
        #expect(FileManager.default.fileExists(atPath: folder.file("segmented/spot10_mask.png").path))

        // inspect reads a file through the plugin reader: its size, channels, tissue and ranges.
        let inspected = try runBuilt("ExampleTool", ["inspect", "--modality", "greyscale-png", folder.file("spot0.png").path])
        #expect(inspected.status == 0 && inspected.output.contains("spot0.png: 1×32×32 (C×H×W), channels 1 bands grey, tissue ")
                    && inspected.output.contains("  grey: 0.352941–0.862745 on tissue"), "\(inspected.output)\n\(inspected.error)")

        // compseg names what it lacks: segmenting needs the reader and the network, resuming the head too.
        let builtIn = try runBuilt("compseg", ["segment", "--model", run, folder.file("spot10.png").path, "--out", folder.file("other").path])
        #expect(builtIn.status == 1 && !builtIn.error.contains("power-mean"), "\(builtIn.error)")
        #expect(builtIn.error.contains("the run was made with plugins this program does not have"), "\(builtIn.error)")
        for missing in ["topology 'tiny-fcn' (known: segnet, unet)", "modality 'greyscale-png'", "Use the program that trained it (ExampleTool)",
                        "CompSegTool.main(registry:)"] {
            #expect(builtIn.error.contains(missing), "\(builtIn.error)")
        }
        let resumed = try runBuilt("compseg", ["train", "--resume", run, "--epochs", "3"])
        #expect(resumed.status == 1, "\(resumed.error)")
        for missing in ["topology 'tiny-fcn'", "pooling head 'power-mean'", "modality 'greyscale-png'"] {
            #expect(resumed.error.contains(missing), "\(resumed.error)")
        }
        #expect(try String(contentsOf: folder.file("run/history.csv"), encoding: .utf8).split(separator: "\n").count == 3)  // untouched
    }
}
