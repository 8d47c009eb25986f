// Fuzz target: JSON configuration decoding (Sources/CompSegCore/JSONValue.swift, Plugins.swift:
// PluginConfiguration.decode with unknown-key checks and defaults laid under the given keys) and
// `model.json` (Sources/CompSegTraining/RunConfiguration.swift, current and legacy formats, with
// TrainingSettings). The input is the JSON text.
import CompSegCore
import Foundation

/// A plugin configuration like the real ones: every key defaulted, a nested object, an enum.
struct HarnessConfiguration: DefaultedConfiguration, Equatable {
    struct Tissue: Codable, Equatable { var fillHolesSmallerThan = 64, removeSpecksSmallerThan = 16 }
    enum Initializer: Codable, Equatable { case heNormal, torchDefault, uniform(scale: Float) }
    var width = 16, depth = 4
    var rate: Float = 0.1
    var name: String? = nil
    var tissue = Tissue()
    var initializer = Initializer.heNormal
    var options: JSONValue = [:]
    init() {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let json = Data(UnsafeBufferPointer(start: data, count: size))
    expectCleanError {
        let value = try JSONValue(parsing: String(decoding: json, as: UTF8.self))
        _ = value.text
        _ = value.overlaid(on: try JSONValue(encoding: HarnessConfiguration()))
        _ = try JSONValue(parsing: value.text)  // what is written reads back
    }
    expectCleanError {
        let model = try RunConfiguration(modelJSON: json, file: "model.json")
        try model.training.validate()
        _ = model.modality?.readerConfiguration
        _ = try JSONEncoder().encode(model)  // written again as model.json
    }
    let configuration = PluginConfiguration(json: json, source: "settings.json")
    expectCleanError { _ = try configuration.decode(HarnessConfiguration.self) }
    expectCleanError { _ = try configuration.decode(File.self) }  // `compseg train --config`
    expectCleanError { _ = try configuration.decode(TrainingSettings.self) }
    expectCleanError { _ = try configuration.section("topologyConfiguration").decode(HarnessConfiguration.self) }
    return 0
}
