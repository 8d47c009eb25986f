import Foundation
import Testing
import CompSegCore
import CompSegTraining

/// The one comparison `train --resume` and `compare --resume` make between settings given and the
/// ones a run recorded in model.json.
@Suite struct RecordedSettingsTests {
    @Test func fractionsMatchAsTheRunKeepsThemAndCountsExactly() {
        #expect(RecordedSettings.matches(0.123456789, .number(Double(Float(0.123456789)))))  // kept as a 32-bit float
        #expect(!RecordedSettings.matches(0.1234, 0.1235))
        #expect(!RecordedSettings.matches(16, 16.000001))  // a count is exact
        #expect(RecordedSettings.matches([1, 2, 0.3], .array([1, 2, .number(Double(Float(0.3)))])))
        #expect(!RecordedSettings.matches([1, 2], [1, 2, 3]))
        #expect(RecordedSettings.matches(["a": 1], ["a": 1, "fitted": [5, 6]]))  // nested: on the keys both hold
        #expect(!RecordedSettings.matches("rmsprop", "adam") && !RecordedSettings.matches(1, nil))
    }

    @Test func differencesAreWordedByKeyInOrder() {
        let given: JSONValue = ["width": 8, "depth": 4, "dropout": 0.1, "extra": true]
        let recorded: JSONValue = ["width": 4, "depth": 4, "dropout": .number(Double(Float(0.1)))]
        #expect(RecordedSettings.differences(given, recorded, prefix: "t.") == ["t.extra true (the run's: none)", "t.width 8 (the run's: 4)"])
        #expect(RecordedSettings.difference("optimizer", "sgd", "adam") == "optimizer sgd (the run's: adam)")
        #expect(RecordedSettings.difference("optimizer", nil, "adam") == nil)  // not given: the run's stands
    }

    /// A fitted step records its fit in place of a key it was given (a stain step's reference image):
    /// that key is not a difference, the keys the run recorded are.
    /// A plugin that reads its choice in any letters, as the built-in ones do.
    struct Lowering: ReportsConfiguration {
        struct Configuration: DefaultedConfiguration { var activation = "relu"; var width = 4 }
        var configuration: Configuration
    }

    /// Text that differs as written is compared as the plugin reads it (`ReLU` is the run's `relu`);
    /// the plugin is made only for such text, never for a number that differs (a network of a
    /// width given otherwise would be made just to say so).
    @Test func choicesAreComparedAsThePluginReadsThem() {
        final class Count: @unchecked Sendable { var made = 0 }
        let count = Count()
        let make: (PluginConfiguration) throws -> Any = { given in
            count.made += 1
            var c = try given.decode(Lowering.Configuration.self)
            c.activation = c.activation.lowercased()
            return Lowering(configuration: c)
        }
        let recorded: JSONValue = ["activation": "relu", "width": 4]
        #expect(RecordedSettings.differences(["activation": "ReLU", "width": 4], recorded, readBy: make).isEmpty && count.made == 1)
        #expect(RecordedSettings.differences(["width": 512], recorded, readBy: make) == ["width 512 (the run's: 4)"] && count.made == 1)
        #expect(RecordedSettings.differences(["activation": "ReLU", "width": 8], recorded, readBy: make) == ["width 8 (the run's: 4)"])
        #expect(RecordedSettings.differences(["activation": "Tanh"], recorded, readBy: make) == ["activation tanh (the run's: relu)"])
        #expect(RecordedSettings.differences(["activation": "ReLU"], recorded) == ["activation ReLU (the run's: relu)"])  // no plugin to ask
    }

    @Test func fittedStepsAreComparedOnTheKeysTheRunRecorded() {
        let given: JSONValue = ["referenceImage": "ref.png", "alpha": 1]
        let recorded: JSONValue = ["stains": [[0.65, 0.70, 0.29]], "alpha": 2]
        #expect(RecordedSettings.differences(given, recorded, recordedKeysOnly: true) == ["alpha 1 (the run's: 2)"])
        #expect(RecordedSettings.differences(given, recorded).count == 2)
    }

    /// A modality given is compared with the one trained: reader and steps by identifier (an alias
    /// names the same plugin), a fitted step on the keys it recorded, the reader's options.
    @Test func modalitiesAreComparedAsTrained() throws {
        var registry = Registry()
        struct Reader: ImageSource { func load(_ url: URL, label: SampleLabel?) throws -> Sample { fatalError() } }
        struct Step: SampleTransform, Encodable { func apply(_ sample: Sample) throws -> Sample { sample } }
        try registry.registerModality(PluginInfo("lab", aliases: ["lab-alias"], summary: "")) { _ in Reader() }
        try registry.registerTransform(PluginInfo("stain", summary: "")) { _ in Step() }
        let trained = ModalityManifest(name: "lab", reader: "lab", options: ["gain": 2],
                                       preprocessing: [PluginDescription(identifier: "stain", configuration: ["stains": [1, 2], "alpha": 1])],
                                       source: "model.json")
        var given = ModalityManifest(name: "lab", reader: "LAB-ALIAS", options: ["gain": 2],
                                     preprocessing: [PluginDescription(identifier: "Stain", configuration: ["referenceImage": "ref.png", "alpha": 1])],
                                     source: "lab.yaml")
        #expect(RecordedSettings.modalityDifferences(given, trained, registry: registry, prefix: "m: ").isEmpty)
        given.options = ["gain": 3]
        given.preprocessing[0].configuration = ["referenceImage": "ref.png", "alpha": 0.5]
        #expect(RecordedSettings.modalityDifferences(given, trained, registry: registry, prefix: "m: ")
                    == ["m: stain.alpha 0.5 (the run's: 1)", "m: options.gain 3 (the run's: 2)"])
    }
}
