import ArgumentParser
import Foundation
import Phantoms

/// `compseg phantom`: writes a synthetic infrared tissue microarray with ground truth and a manifest.
struct Phantom: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic infrared tissue microarray (HDF5 spots, truth PNGs, manifest.csv).")

    @Option(help: "Modality (infrared only so far).") var modality = "infrared"
    @Option(help: "Spots (half cancer; 60% train, 20% val, 20% test).") var spots = 60
    @Option(help: "Spot side in pixels.") var size = 64
    @Option(help: "Bands from 1800 to 948 cm⁻¹.") var bands = 450
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Folder to write.") var out: String

    func validate() throws {
        guard ["infrared", "ir", "ftir"].contains(modality.lowercased()) else {
            throw ValidationError("--modality: only infrared phantoms exist so far, got \(modality)")
        }
        guard spots >= 2, size >= 8, bands >= 2 else {
            throw ValidationError("needs --spots ≥ 2, --size ≥ 8 and --bands ≥ 2")
        }
    }

    func run() throws {
        var s = InfraredPhantom.Settings()
        s.spots = spots; s.size = size; s.bands = bands; s.seed = seed
        let manifest = try InfraredPhantom(s).write(to: URL(fileURLWithPath: out))
        print("Wrote \(spots) spots and \(manifest.path)")
    }
}
