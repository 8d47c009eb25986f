import ArgumentParser
import Foundation
import CompSegCore
import Phantoms

/// `compseg phantom`: writes a synthetic tissue microarray with ground truth and a manifest.
struct Phantom: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic tissue microarray: infrared HDF5, Raman ENVI and WiRE-text, or H&E TIFF and PNG spots; truth PNGs, manifest.csv.")

    enum Modality: String, ExpressibleByArgument, CaseIterable {
        case infrared, raman, he
        init?(argument: String) {
            switch argument.lowercased() {
            case "infrared", "ir", "ftir": self = .infrared
            case "raman": self = .raman
            case "he", "h&e", "hne": self = .he
            default: return nil
            }
        }
    }

    @Option(help: "Modality: infrared (HDF5 spots), raman (ENVI spots, every eighth as WiRE's text export) or he (RGB H&E: tiled TIFF and PNG spots).")
    var modality = Modality.infrared
    @Option(parsing: .unconditional, help: "Spots (half cancer; about 60% train, 20% val, 20% test).") var spots = 60
    @Option(parsing: .unconditional, help: "Spot side in pixels (default: infrared 64, raman 48, he 64).") var size: Int?
    @Option(parsing: .unconditional, help: "Bands (default: infrared 450 from 1800 to 948 cm⁻¹, raman 300 from 400 to 1800 cm⁻¹ (Raman: 32 or more); not for he).") var bands: Int?
    @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Folder to write.") var out: String

    func validate() throws {
        try requireOption("--spots", spots, in: 2...100_000)
        try requireOption("--size", size, in: 8...8192)
        try requireOption("--bands", bands, in: 2...100_000)
        guard !out.isEmpty else { throw ValidationError("--out must name a folder, got an empty path") }
        guard modality != .he || bands == nil else { throw ValidationError("--bands: H&E images are RGB") }
        // Each Raman spot pixel may carry a cosmic-ray spike of one or two bands: over fewer bands it outweighs the
        // tissue's signal, and spots lose their tissue to the modality's rule (measured: 2 of 60 at 16 bands, none at 24 or 32).
        if modality == .raman, let bands, bands < Self.fewestRamanBands {
            throw ValidationError("--bands: a Raman phantom needs \(Self.fewestRamanBands) or more (over fewer, its cosmic-ray spikes outweigh "
                                  + "the tissue's signal and spots lose their tissue), got \(bands)")
        }
    }

    /// The fewest bands a Raman phantom may have.
    static let fewestRamanBands = 32

    func run() throws {
        _ = InterruptFlag.install()  // Ctrl-C or SIGTERM stops between spots, keeping nothing
        let folder = fileURL(out)
        let manifest: URL, plan: (Int) -> (label: SampleLabel, split: Split)
        switch modality {
        case .infrared:
            var s = InfraredPhantom.Settings()
            s.spots = spots; s.size = size ?? s.size; s.bands = bands ?? s.bands; s.seed = seed
            manifest = try InfraredPhantom(s).write(to: folder)
            plan = s.plan
        case .raman:
            var s = RamanPhantom.Settings()
            s.spots = spots; s.size = size ?? s.size; s.bands = bands ?? s.bands; s.seed = seed
            manifest = try RamanPhantom(s).write(to: folder)
            plan = s.plan
        case .he:
            var s = HEPhantom.Settings()
            s.spots = spots; s.size = size ?? s.size; s.seed = seed
            manifest = try HEPhantom(s).write(to: folder)
            plan = s.plan
        }
        print("Wrote \(spots) spots and \(manifest.path)")
        let training = (0..<spots).map(plan).filter { $0.split == .train }
        if Set(training.map(\.label)).count < 2 {
            warn("the train split holds " + (training.isEmpty ? "no spot" : "\(counted(training.count, "spot")), all \(training[0].label.rawValue)")
                 + ", and train needs both labels; give --spots 4 or more")
        }
    }
}
