import ArgumentParser
import CompSegCore
import CompSegNN

@main
struct CompSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compseg",
        abstract: "Train segmenting networks from image-level labels (CompSegNet) and apply them.",
        version: "compseg \(CompSegVersion.string) (oneDNN \(CPUBackend.oneDNNVersion))",
        subcommands: [Demo.self, Phantom.self, Train.self, Segment.self, Evaluate.self, OverlayCommand.self, Compare.self, Inspect.self, Convert.self, Plugins.self, Bench.self, BenchOps.self])
}

enum CompSegVersion {
    static let string = "0.1.0"
}
