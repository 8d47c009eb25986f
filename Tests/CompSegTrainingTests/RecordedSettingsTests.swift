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
    @Test func fittedStepsAreComparedOnTheKeysTheRunRecorded() {
        let given: JSONValue = ["referenceImage": "ref.png", "alpha": 1]
        let recorded: JSONValue = ["stains": [[0.65, 0.70, 0.29]], "alpha": 2]
        #expect(RecordedSettings.differences(given, recorded, recordedKeysOnly: true) == ["alpha 1 (the run's: 2)"])
        #expect(RecordedSettings.differences(given, recorded).count == 2)
    }
}
