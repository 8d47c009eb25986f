import ArgumentParser
import CompSegNN
import Foundation

/// `compseg bench-ops`: forward and backward GFLOP/s of single convolution layers through the
/// engine, one JSON line per layer (compare with tools/bench_layers_torch.py run alongside).
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ops",
        abstract: "Time single 3×3 convolution layers (forward, backward) through the tensor engine.")

    @Option(help: "Timed runs per layer; the best is reported.")
    var repeats = 5

    @Option(help: "Only layers 'CIN->COUT@SIZE' (comma-separated), e.g. 64->64@256.")
    var layers: String?

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        let wanted = layers.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        for layer in ConvolutionBenchmark.referenceLayers {
            let name = "\(layer.inputChannels)->\(layer.outputChannels)@\(layer.size)"
            if let wanted, !wanted.contains(name) { continue }
            let r = try layer.run(repeats: repeats)
            let fields = [
                "\"layer\": \"\(name)\"",
                "\"fwd_gflops\": \(String(format: "%.1f", r.forwardGFLOPs))",
                "\"bwd_gflops\": \(String(format: "%.1f", r.backwardGFLOPs))",
                "\"fwd_s\": \(String(format: "%.5f", r.forwardSeconds))",
                "\"bwd_s\": \(String(format: "%.5f", r.backwardSeconds))",
            ]
            print("{\(fields.joined(separator: ", "))}")
            fflush(nil)
        }
    }
}
