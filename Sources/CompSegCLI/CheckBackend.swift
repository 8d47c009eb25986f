import ArgumentParser
import BuiltinPlugins
import CompSegCore
import CompSegNN
import Foundation

/// `compseg check-backend`: every op of the chosen device's backend beside the CPU backend's
/// (`BackendAgreement`), then whole training steps of a small network through the pooling head,
/// each result as its largest difference relative to the CPU's scale. Exits 1 beyond the bound.
struct CheckBackend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backend",
        abstract: "Check the chosen device's ops against the CPU backend's: outputs and gradients, relative differences.",
        discussion: """
            Each op runs on both backends with the same seeded inputs: convolutions (forward, both gradients), \
            pooling, element-wise functions, binary ops, concat, slice, batch norm, the pooling head's masked \
            mean, the trainer's masked range, the optimizers' updates and stacking samples into a batch; \
            then two SGD steps of a \
            U-Net with batch norm through the CompSegNet head (loss; every parameter's gradient, relative to \
            the largest gradient; the updated weights, relative to the largest weight). Prints one line per tensor; exits 1 when any difference exceeds --tolerance, 69 when no GPU can be used. \
            The device is cuda unless --device says otherwise (--device cpu checks the CPU against itself).
            """)

    @OptionGroup var compute: DeviceOptions
    @OptionGroup var threading: ThreadOptions
    @Option(parsing: .unconditional, help: "Largest relative difference accepted (default \(BackendAgreement.tolerance); results that pass through convolutions: \(BackendAgreement.tf32Tolerance) with --precision tf32, \(BackendAgreement.bf16Tolerance) with bf16).")
    var tolerance: Float?

    func validate() throws {
        if let tolerance, !(tolerance > 0 && tolerance.isFinite) {
            throw ValidationError("--tolerance must be a positive number, got \(tolerance)")
        }
    }

    func run() throws {
        threading.apply()
        // A check that fell back to the CPU would compare it with itself: the GPU unless told otherwise.
        let choice: DeviceChoice
        do { choice = try compute.apply(defaultDevice: .cuda) } catch {
            // No GPU to check: not a difference (exit 1), so a CI job can tell the two apart.
            writeToStandardError("Error: \(error)\n")
            throw ExitCode(69)
        }
        let reference = CPUBackend.shared
        let bound = { (row: BackendAgreement.Row) in self.tolerance ?? row.tolerance(choice.precision) }
        print("checking \(choice.summary) against \(reference.name)"
              + (choice.backend === reference ? " (the CPU against itself: every difference must be 0)" : ""))
        let rows = try BackendAgreement.compare(choice.backend, with: reference)
            + networkSteps(choice.backend, reference: reference)
        for row in rows {
            let columns = [row.difference <= bound(row) ? "ok  " : "FAIL", padded(row.op, 36), padded(row.output, 34)]
            print(columns.joined(separator: " ") + String(format: " %.3g", row.difference))
        }
        if let cuda = choice.backend as? CUDABackend, !cuda.convolutionsOnTheCPU.isEmpty {
            print("cuDNN had no usable algorithm for these, which ran on the CPU: " + cuda.convolutionsOnTheCPU.joined(separator: "; "))
        }
        let failed = rows.filter { !($0.difference <= bound($0)) }
        let bounds = self.tolerance.map { "\($0)" } ?? (choice.precision == .fp32 ? "\(BackendAgreement.tolerance)"
            : "\(BackendAgreement.tolerance), through convolutions \(BackendAgreement.tolerance(for: choice.precision))")
        print("\(rows.count - failed.count) of \(rows.count) within \(bounds)")
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Two SGD steps (momentum 0.9) of a U-Net (8 channels, 32×32, width 8, depth 2, batch norm)
    /// through the CompSegNet head on each backend: the loss, the gradients of step 1, the weights
    /// after step 2. Gradients are compared on the network's scale (their differences relative to
    /// the largest gradient of any parameter), weights on the largest weight's: a convolution's
    /// bias before batch norm has a true gradient of 0, so its own scale is rounding noise that
    /// differs between any two backends. SGD keeps an update linear in its gradient (RMSprop would
    /// turn that noise into steps of ±lr).
    private func networkSteps(_ candidate: any KernelBackend, reference: any KernelBackend) throws -> [BackendAgreement.Row] {
        enum Kind { case loss, gradient, weight }
        func run(_ backend: any KernelBackend) throws -> [(String, Kind, [Float])] {
            try Backend.using(backend) { try steps() }
        }
        func steps() throws -> [(String, Kind, [Float])] {
            let registry = try CompSegTool.registry()
            let configuration = PluginConfiguration(json: Data(#"{"width": 8, "depth": 2, "batchNorm": true}"#.utf8),
                                                    source: "check-backend")
            let net = try registry.topology("unet", inputChannels: 8, seed: 0, configuration)
            let head = try registry.head("compsegnet")
            let optimizer = SGD(learningRate: 1e-2, momentum: 0.9)
            var g = SeededGenerator(seed: 1)
            let x = try Tensor(shape: [4, 8, 32, 32], scalars: (0..<4 * 8 * 32 * 32).map { _ in g.nextNormal() })
            let tissue = try Tensor(shape: [4, 1, 32, 32], scalars: (0..<4 * 32 * 32).map { _ in g.nextUniform() < 0.9 ? 1 : 0 })
            let labels = try Tensor(shape: [4], scalars: [1, 0, 1, 0])
            var results: [(String, Kind, [Float])] = []
            for step in 1...2 {
                net.zeroGradients()
                let loss = try head.loss(activation: net.activation(x), tissue: tissue, labels: labels)
                try loss.backward()
                results.append(("step \(step) loss", .loss, loss.scalars))
                if step == 1 {
                    results += net.namedParameters().map { ("∂loss/∂\($0.0)", .gradient, $0.1.grad?.scalars ?? []) }
                }
                optimizer.step(net.parameters)
            }
            return results + net.namedParameters().map { ("\($0.0) after 2 steps", .weight, $0.1.scalars) }
        }
        let expected = try run(reference), actual = try run(candidate)
        func largest(_ kind: Kind) -> Float {
            expected.filter { $0.1 == kind }.flatMap(\.2).reduce(0) { max($0, abs($1)) }
        }
        let scales: [Kind: Float] = [.gradient: largest(.gradient), .weight: largest(.weight)]
        return zip(expected, actual).map { e, a in
            BackendAgreement.Row(op: "U-Net step", output: e.0,
                                 difference: BackendAgreement.relativeDifference(e.2, a.2, scale: scales[e.1]),
                                 throughConvolution: true)
        }
    }
}
