import ArgumentParser
import BuiltinPlugins
import CompSegCore

/// `compseg plugins`: every registered modality, topology, pooling head and preprocessing step.
struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the registered modalities, topologies, pooling heads and preprocessing steps.")

    func run() throws {
        let registry = try CompSegTool.registry()
        let sections: [(String, [PluginInfo])] = [
            ("Modalities (--modality)", registry.modalities.infos),
            ("Topologies (--topology)", registry.topologies.infos),
            ("Pooling heads (--head)", registry.heads.infos),
            ("Preprocessing steps (a modality manifest's preprocessing: list)", registry.transforms.infos),
        ]
        for (index, (title, infos)) in sections.enumerated() {
            print(title)
            if infos.isEmpty { print("  (none registered yet)") }
            let width = infos.map { $0.identifier.count }.max() ?? 0
            for info in infos {
                let aliases = info.aliases.isEmpty ? "" : " (aliases: \(info.aliases.joined(separator: ", ")))"
                print("  \(info.identifier.padding(toLength: width, withPad: " ", startingAt: 0))  \(info.summary)\(aliases)")
            }
            if index < sections.count - 1 { print() }
        }
    }
}

import Foundation
