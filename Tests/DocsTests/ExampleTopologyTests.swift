import CompSegCore
import CompSegNetHead
import CompSegNN
import CompSegTraining
import ExampleTopology
import Foundation
import Testing

/// The worked example of docs/adding-a-topology.md: it registers, names its tensors, trains
/// through the CompSegNet head, and the guide quotes it as it is.
@Suite struct ExampleTopologyTests {
    @Test func registersWithTheKeysTheCLISets() throws {
        var registry = Registry()
        try TinyFCN.register(in: &registry)
        // `compseg compare` passes exactly this configuration to every topology.
        let configuration = PluginConfiguration(json: Data(#"{"depth":2,"width":8}"#.utf8))
        let network = try registry.topology("tinyfcn", inputChannels: 3, seed: 1, configuration)
        #expect(network.inputChannels == 3)
        #expect(network.namedParameters().map(\.0) == ["convolutions.0.weight", "convolutions.0.bias",
                                                       "convolutions.1.weight", "convolutions.1.bias",
                                                       "head.weight", "head.bias"])
        let a = try withoutGradients { try network.activation(Tensor(repeating: 0.5, shape: [2, 3, 5, 7])) }
        #expect(a.shape == [2, 1, 5, 7])
        #expect(a.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(throws: ConfigurationError.self) {
            try registry.topology("tiny-fcn", inputChannels: 3, seed: 1, PluginConfiguration(json: Data(#"{"layers":2}"#.utf8)))
        }
    }

    @Test func sameSeedSameWeights() throws {
        let a = try TinyFCN(inputChannels: 2, seed: 9).parameters.flatMap(\.scalars)
        let b = try TinyFCN(inputChannels: 2, seed: 9).parameters.flatMap(\.scalars)
        #expect(a == b)
    }

    @Test func trainsFromImageLabelsAndFindsTheSquare() throws {
        var registry = Registry()
        try TinyFCN.register(in: &registry)
        try CompSegNetHead.register(in: &registry)
        let data = try Squares(count: 16, seed: 7)
        let network = try registry.topology("tiny-fcn", inputChannels: 2, seed: 3,
                                            PluginConfiguration(json: Data(#"{"width":8}"#.utf8)))
        var settings = TrainingSettings()
        settings.epochs = 15; settings.batchSize = 4; settings.learningRate = 3e-3; settings.seed = 1
        let trainer = try Trainer(network: network, head: try registry.head("compsegnet"), settings: settings)
        try trainer.run(train: data.samples, validation: [])
        let losses = trainer.history.map(\.trainLoss)
        #expect(losses.last! < losses.first! * 0.7, "training loss \(losses)")

        // The head is gone: the network alone lights up the square in cancer images.
        network.setTraining(false)
        let cancer = data.samples.filter { $0.label == .cancer }
        let maps = try withoutGradients { try network.activation(Batch(cancer).images) }.scalars
        var inside: [Float] = [], outside: [Float] = []
        let n = data.size
        for (k, s) in cancer.enumerated() {
            for p in 0..<(n * n) where s.tissue.pixels[p] {
                if data.inSquare(s.id, p / n, p % n) { inside.append(maps[k * n * n + p]) } else { outside.append(maps[k * n * n + p]) }
            }
        }
        let meanIn = inside.reduce(0, +) / Float(inside.count), meanOut = outside.reduce(0, +) / Float(outside.count)
        #expect(meanIn > 2 * meanOut, "mean activation inside the square \(meanIn), outside \(meanOut)")
    }

    @Test func theGuideQuotesTheExampleVerbatim() throws {
        let guide = try Repository.text("docs/adding-a-topology.md")
        let source = try Repository.text("Examples/ExampleTopology/TinyFCN.swift")
        #expect(guide.contains(source.trimmingCharacters(in: .newlines)),
                "docs/adding-a-topology.md must quote Examples/ExampleTopology/TinyFCN.swift in full")
    }
}

/// Tiny synthetic data: 2-channel images with tissue inside a border; cancer images carry a
/// bright 5×5 square in channel 1 that cancer-free images lack.
struct Squares {
    var squares: [String: (row: Int, col: Int)] = [:]
    var samples: [Sample] = []
    let size: Int, squareSide = 5

    init(count: Int, size: Int = 16, seed: UInt64) throws {
        self.size = size
        var g = SeededGenerator(seed: seed)
        for k in 0..<count {
            let cancer = k % 2 == 0
            let id = "s\(k)"
            var pixels = [Float](repeating: 0, count: 2 * size * size)
            var tissue = [Bool](repeating: false, count: size * size)
            for r in 0..<size {
                for c in 0..<size {
                    let inside = r >= 2 && r < size - 2 && c >= 2 && c < size - 2
                    tissue[r * size + c] = inside
                    pixels[r * size + c] = (inside ? 0.5 : 0) + 0.1 * g.nextNormal()
                    pixels[size * size + r * size + c] = 0.1 * g.nextNormal()
                }
            }
            if cancer {
                let row = 2 + Int(g.next() % UInt64(size - 4 - squareSide + 1))
                let col = 2 + Int(g.next() % UInt64(size - 4 - squareSide + 1))
                squares[id] = (row, col)
                for r in row..<(row + squareSide) { for c in col..<(col + squareSide) { pixels[size * size + r * size + c] += 1 } }
            }
            samples.append(try Sample(id: id, image: Tensor(shape: [2, size, size], scalars: pixels),
                                      channels: .bands(["tissue", "marker"]),
                                      tissue: Mask(height: size, width: size, pixels: tissue),
                                      preview: RGBImage(height: size, width: size, bytes: Array(repeating: 0, count: 3 * size * size)),
                                      label: cancer ? .cancer : .cancerFree))
        }
    }

    func inSquare(_ id: String, _ r: Int, _ c: Int) -> Bool {
        guard let s = squares[id] else { return false }
        return r >= s.row && r < s.row + squareSide && c >= s.col && c < s.col + squareSide
    }
}
