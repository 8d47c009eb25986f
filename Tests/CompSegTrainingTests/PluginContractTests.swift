import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegNN
import CompSegNetHead
import CompSegTestSupport
@testable import CompSegTraining
import UNetTopology

/// A topology or head that breaks what training relies on is named at the first step, with the
/// rule it breaks: not met as an engine error, or trained to nonsense without a word.
@Suite struct PluginContractTests {
    /// A small U-Net whose maps `alter` changes (a topology author's mistake).
    final class Altered: Module, SegmentingNetwork, @unchecked Sendable {
        let net: UNet
        let alter: @Sendable (Tensor) throws -> Tensor
        var inputChannels: Int { net.inputChannels }
        init(_ alter: @escaping @Sendable (Tensor) throws -> Tensor) throws {
            var c = UNet.Configuration()
            c.width = 4; c.depth = 1
            net = try UNet(inputChannels: 2, configuration: c, seed: 0)
            self.alter = alter
        }
        func activation(_ x: Tensor) throws -> Tensor { try alter(net.activation(x)) }
    }

    /// The CompSegNet head with its loss or scores changed (a head author's mistake).
    struct AlteredHead: PoolingHead {
        let head = try! CompSegNetHead()
        /// The loss from the head's, the activation and the tissue.
        var loss: @Sendable (Tensor, Tensor, Tensor) throws -> Tensor = { loss, _, _ in loss }
        var score: @Sendable (Tensor) throws -> Tensor = { $0 }
        func score(activation: Tensor, tissue: Tensor) throws -> Tensor { try score(head.score(activation: activation, tissue: tissue)) }
        func loss(activation: Tensor, tissue: Tensor, labels: Tensor) throws -> Tensor {
            try loss(head.loss(activation: activation, tissue: tissue, labels: labels), activation, tissue)
        }
    }

    func training(_ network: any SegmentingNetwork, _ head: any PoolingHead = AlteredHead()) throws -> String {
        let data = try SyntheticSquares(count: 4, seed: 1)
        var settings = TrainingSettings()
        settings.epochs = 1; settings.batchSize = 4
        let trainer = try Trainer(network: network, head: head, settings: settings, topologyName: "lab-net", headName: "lab-head")
        do { try trainer.run(train: data.samples, validation: data.samples) } catch { return "\(error)" }
        return "trained"
    }

    @Test func aMapOfAnotherShapeIsNamed() throws {
        let halved = try training(Altered { try maxPool2d($0).output })
        #expect(halved.hasPrefix("topology 'lab-net' returned 4×1×8×8 for a batch of 4×2×16×16; a topology must return N×1×H×W"),
                "\(halved)")
        let twoMaps = try training(Altered { try concat([$0, $0]) })
        #expect(twoMaps.hasPrefix("topology 'lab-net' returned 4×2×16×16"), "\(twoMaps)")
    }

    @Test func activationsOutsideZeroToOneAreNamed() throws {
        let scaled = try training(Altered { try affine($0, scale: 10, offset: -1) })  // a raw logit, say
        #expect(scaled.hasPrefix("topology 'lab-net' returned activations in [") && scaled.contains("must lie in [0, 1]: end it in a sigmoid"),
                "\(scaled)")
        // Without names given, the types name the plugins.
        let trainer = try Trainer(network: Altered { try affine($0, scale: 10, offset: -1) }, head: AlteredHead(), settings: TrainingSettings())
        do { try trainer.run(train: SyntheticSquares(count: 4, seed: 1).samples, validation: []); Issue.record("trained") } catch {
            #expect("\(error)".hasPrefix("topology 'Altered' returned"), "\(error)")
        }
    }

    @Test func aHeadsUnreducedOrNonFiniteLossIsNamed() throws {
        var unreduced = AlteredHead()
        unreduced.loss = { _, activation, tissue in try maskedMean(activation, mask: tissue) }  // one per image
        let perImage = try training(Altered { $0 }, unreduced)
        #expect(perImage.hasPrefix("pooling head 'lab-head' returned a loss of shape 4 for the network's maps; a head's loss must be one value"),
                "\(perImage)")
        var logged = AlteredHead()  // log of the mean activation, unclipped: -inf on an all-dark map
        logged.loss = { loss, activation, _ in try add(loss, scale(log(mean(activation)), by: 0.001)) }
        let dark = try training(Altered { $0 }, logged)
        #expect(dark.hasPrefix("pooling head 'lab-head' gives a loss of ") && dark.contains("for an all-dark map (every activation 0)"),
                "\(dark)")
        var oneScore = AlteredHead()
        oneScore.score = { try mean($0) }
        let scores = try training(Altered { $0 }, oneScore)
        #expect(scores.hasPrefix("pooling head 'lab-head' returned 1 scores for 4 images"), "\(scores)")
    }

    @Test func aNetworkThatKeepsTheContractTrains() throws {
        #expect(try training(Altered { $0 }) == "trained")
    }
}

/// A reader's own error type (a lab's) is said with the file and the reader, as the built-in
/// readers' `IOError`s name their files.
@Suite struct ReaderErrorTests {
    struct LabError: Error { let code: Int }
    struct Throwing: ImageSource {
        func load(_ url: URL, label: SampleLabel?) throws -> Sample {
            if url.lastPathComponent == "named.lab" { throw IOError(file: url.path, "is damaged") }
            throw LabError(code: 42)
        }
    }

    @Test func aReadersOwnErrorNamesTheFileAndTheReader() throws {
        var registry = Registry()
        try registry.registerModality(PluginInfo("lab-reader", summary: "throws")) { _ in Throwing() }
        let modality = try PreparedModality(ModalityManifest(name: "lab", reader: "lab-reader", source: "lab.yaml"), registry: registry)
        #expect(throws: IOError(file: "/data/spot7.lab", "reader 'lab-reader': LabError(code: 42)")) {
            try modality.read(URL(fileURLWithPath: "/data/spot7.lab"))
        }
        // An error that names the file already is passed on as it is.
        #expect(throws: IOError(file: "/data/named.lab", "is damaged")) { try modality.read(URL(fileURLWithPath: "/data/named.lab")) }
    }
}
