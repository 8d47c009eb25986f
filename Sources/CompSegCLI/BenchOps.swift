import ArgumentParser
import CompSegCore
import CompSegNN
import Foundation

/// `compseg bench-ops`: forward and backward GFLOP/s of single convolution layers through the
/// engine, one JSON line per layer (compare with tools/bench_layers_torch.py run alongside).
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ops",
        abstract: "Time single 3×3 convolution layers (forward, backward) through the tensor engine.")

    @Option(parsing: .unconditional, help: "Timed runs per layer; the best is reported.")
    var repeats = 5

    @Option(help: "Layers to time, 'CIN->COUT@SIZE' comma-separated, e.g. 64->64@256 (default: 450->64@256 and four more of the paper's U-Net).")
    var layers: String?

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        _ = try chosenLayers()
    }

    /// The layers of --layers, or the reference ones.
    func chosenLayers() throws -> [ConvolutionBenchmark] {
        guard let layers else { return ConvolutionBenchmark.referenceLayers }
        return try layers.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let text = item.trimmingCharacters(in: .whitespaces)
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            let channels = parts.first?.components(separatedBy: "->") ?? []
            guard parts.count == 2, channels.count == 2, let i = Int(channels[0]), let o = Int(channels[1]), let size = Int(parts[1]),
                  (1...16_384).contains(i), (1...16_384).contains(o), (3...8192).contains(size) else {
                throw ValidationError("--layers: '\(text)' is not CIN->COUT@SIZE with channels in 1…16384 and a size in 3…8192 "
                                      + "(e.g. 64->64@256)")
            }
            return ConvolutionBenchmark(inputChannels: i, outputChannels: o, size: size)
        }
    }

    func run() throws {
        threading.apply()
        for layer in try chosenLayers() {
            let name = "\(layer.inputChannels)->\(layer.outputChannels)@\(layer.size)"
            try requireMemory(Double((layer.inputChannels + layer.outputChannels) * layer.size * layer.size) * 4 * 4,
                              for: "layer \(name)", "time a smaller layer")
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
