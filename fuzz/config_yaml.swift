// Fuzz target: YAML (and JSON) settings files and modality manifests as read through Yams
// (Sources/CompSegCore/ConfigurationFile.swift, ModalityManifest.swift), then decoded as
// `compseg train --config` decodes them (its settings struct, extracted from Sources/CompSegCLI/Train.swift)
// and a plugin section. The input is the file, written as settings.yaml.
import CompSegCore
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Scratch.reset()
    let url = Scratch.write(input(data, size), to: "settings.yaml")
    expectCleanError {
        let file = try ConfigurationFile.read(url)
        expectCleanError { _ = try file.decode(File.self) }
        expectCleanError { _ = try file.section("topologyConfiguration").decode(TrainingSettings.self) }
    }
    expectCleanError {
        let manifest = try ModalityManifest(contentsOf: url)
        _ = manifest.readerConfiguration
        _ = try JSONEncoder().encode(manifest)
    }
    return 0
}
