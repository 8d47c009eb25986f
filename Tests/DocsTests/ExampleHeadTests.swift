import CompSegCore
import CompSegTestSupport
import CompSegNN
import CompSegTraining
import ExampleHead
import ExampleTopology
import Foundation
import Testing

/// The worked example of docs/adding-a-head.md: it registers, checks its configuration, has the
/// gradient its loss computes, trains a network, and the guide quotes it as it is.
@Suite struct ExampleHeadTests {
    @Test func registersAndChecksItsConfiguration() throws {
        var registry = Registry()
        try PowerMeanHead.register(in: &registry)
        let head = try registry.head("gem", PluginConfiguration(json: Data(#"{"exponent": 2}"#.utf8)))
        #expect((head as? PowerMeanHead)?.configuration.exponent == 2)
        #expect((head as? PowerMeanHead)?.configuration.balanced == false)  // absent: the default
        let error = #expect(throws: ConfigurationError.self) {
            try registry.head("power-mean", PluginConfiguration(json: Data(#"{"p": 2}"#.utf8), source: "run.yaml: head"))
        }
        #expect(error?.description == "run.yaml: head: unknown key 'p'; known keys: balanced, exponent")
        let range = #expect(throws: ConfigurationError.self) {
            try registry.head("power-mean", PluginConfiguration(json: Data(#"{"exponent": 8}"#.utf8), source: "run.yaml: head"))
        }
        #expect(range?.description == "run.yaml: head: exponent must lie in [1, 6], got 8.0")  // named where it was written
    }

    /// Exponent 1 is the tissue mean; 2 the root mean square over tissue (the pixel off tissue, .9, must not count).
    @Test func scoreIsThePowerMeanOverTissue() throws {
        let a = try Tensor(shape: [1, 1, 2, 2], scalars: [0.1, 0.9, 0.3, 0.5])
        let tissue = try Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 1, 1])
        var c = PowerMeanHead.Configuration()
        for (p, expected) in [(Float(1), 0.3), (2, (0.35 / 3.0).squareRoot())] {
            c.exponent = p
            let s = try PowerMeanHead(c).score(activation: a, tissue: tissue).scalars[0]
            #expect(Swift.abs(Double(s) - expected) < 1e-5, "exponent \(p): \(s)")
        }
    }

    /// The loss's gradient against central differences. Activations lie in [.05, .95], far from the
    /// clips at 1e-6 and 1 − 1e-6, where the loss is smooth; step and tolerance are gradientCheck's.
    @Test(arguments: [false, true])
    func lossGradientMatchesFiniteDifferences(balanced: Bool) throws {
        var c = PowerMeanHead.Configuration()
        c.balanced = balanced
        let head = try PowerMeanHead(c)
        var g = SeededGenerator(seed: 4)
        let shape: Shape = [3, 1, 2, 4]
        let a = try Tensor(shape: shape, scalars: (0..<shape.count).map { _ in 0.05 + 0.9 * g.nextUniform() })
        let tissue = try Tensor(shape: shape, scalars: (0..<shape.count).map { $0 % 4 == 3 ? 0 : 1 })
        let labels = try Tensor(shape: [3], scalars: [1, 0, 1])
        let failures = try gradientCheck([a]) { t in try head.loss(activation: t[0], tissue: tissue, labels: labels) }
        #expect(failures.isEmpty, "\(failures)")
    }

    /// Where training starts, every activation near .02 (the topologies' initial activation): the
    /// loss must pull cancer tissue up and push cancer-free tissue down, else training stays at the
    /// all-dark loss. A finite-difference check alone passes a flat loss (both gradients zero).
    @Test func gradientAtTheStartLiftsCancerTissueOnly() throws {
        let a = Tensor(repeating: 0.02, shape: [2, 1, 2, 2])
        a.requiresGrad = true
        let tissue = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 1, 1, 0, 1, 1, 1, 0])
        try PowerMeanHead().loss(activation: a, tissue: tissue, labels: Tensor(shape: [2], scalars: [1, 0])).backward()
        let grad = try #require(a.grad).scalars
        #expect([0, 1, 2].allSatisfy { grad[$0] < 0 }, "cancer tissue: \(grad[0..<4])")
        #expect([4, 5, 6].allSatisfy { grad[$0] > 0 }, "cancer-free tissue: \(grad[4..<8])")
        #expect(grad[3] == 0 && grad[7] == 0, "off tissue: \(grad)")
    }

    @Test func trainsATinyNetwork() throws {
        let (losses, meanIn, meanOut) = try trainTinyFCN(head: "power-mean", register: PowerMeanHead.register, epochs: 10)
        #expect(losses.last! < losses.first! * 0.7, "training loss \(losses)")
        // The power mean lifts a cancer image's whole tissue somewhat: the square is 3.2 times as
        // bright as the rest here, 1.6–1.8 times with other seeds, hence 1.5 (ExampleTopologyTests: 2).
        #expect(meanIn > 1.5 * meanOut, "mean activation inside the square \(meanIn), outside \(meanOut)")
    }

    @Test func theGuideQuotesTheExampleVerbatim() throws {
        try expectQuotedVerbatim("Examples/ExampleHead/PowerMeanHead.swift", in: "docs/adding-a-head.md")
    }
}
