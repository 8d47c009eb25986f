import CompSegIO
import Foundation
import Testing

/// A run records the inputs it was trained on (`inputRange` in model.json); `segment` names a
/// sample whose tissue lies outside them, loaded whole or region by region, and says
/// nothing of the run's own samples nor for a run that recorded no range.
@Suite struct UnfamiliarInputTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    @Test func samplesOutsideTheTrainingInputsAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 3)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as! [String: Any]
        let range = model["inputRange"] as? [String: Any]
        #expect((range?["low"] as? [Double])?.count == 16 && (range?["high"] as? [Double])?.count == 16 && (range?["pixels"] as? Int ?? 0) > 100,
                "\(String(describing: range))")

        // A spot stored as transmittance (10^-A) where training had absorbance: a mistake of units.
        let original = try HDF5File(url: URL(fileURLWithPath: folder.path("data/spot001.h5")))
        let (shape, cube) = try original.readFloats("/spectra")
        let writer = try HDF5Writer(url: URL(fileURLWithPath: folder.path("transmittance.h5")))
        try writer.write("/spectra", shape: shape, values: cube.map { Float(pow(10, -Double($0))) })
        try writer.write("/wavenumbers", shape: [shape[2]], values: try original.readFloats("/wavenumbers").values)
        try writer.close()

        let own = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("own")])
        #expect(own.status == 0 && !own.output.contains("outside the inputs"), "\(own.output)")
        for streaming in [[], ["--stream-above", "0"]] {
            let r = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("other\(streaming.count)"),
                                 folder.path("data/spot001.h5"), folder.path("transmittance.h5")] + streaming)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.output.contains("warning: sample transmittance lies outside the inputs the run was trained on (1 of 2 samples): ")
                    && r.output.contains("% of its tissue pixels lie") && r.output.contains("in channel PC")
                    && r.output.contains("another instrument or setting, other units"), "\(r.output)")
            // segmentation.csv marks each sample, for a lab that filters thousands of them.
            let csv = try String(contentsOfFile: folder.path("other\(streaming.count)/segmentation.csv"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(csv.first?[7] == "unfamiliar_input" && csv.dropFirst().map { [$0[0], $0[7]] } == [["spot001", "no"], ["transmittance", "yes"]],
                    "\(csv)")
            // The phantom's files record their pixel size (5.5 µm), the hand-made one none.
            #expect(csv.first?.suffix(5) == ["pixel_width_um", "pixel_height_um", "tissue_area_mm2", "tumor_area_mm2", "patient"]
                    && csv.dropFirst().map { Array($0[8...9]) } == [["5.5", "5.5"], ["", ""]], "\(csv)")
        }
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--split", "all", "--out", folder.path("evaluated")])
        let perSample = try String(contentsOfFile: folder.path("evaluated/per_sample.csv"), encoding: .utf8).split(separator: "\n")
        #expect(evaluated.status == 0 && perSample.first?.contains(",path,unfamiliar_input,") == true
                    && perSample.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[13] == "no" },
                "\(evaluated.output)\n\(perSample)")

        // A run written before the range was recorded: no warning, and no error.
        var old = model
        old.removeValue(forKey: "inputRange")
        try JSONSerialization.data(withJSONObject: old).write(to: URL(fileURLWithPath: folder.path("run/model.json")))
        let r = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("old"), folder.path("transmittance.h5")])
        #expect(r.status == 0 && !r.output.contains("outside the inputs"), "\(r.output)")
        #expect(try String(contentsOfFile: folder.path("old/segmentation.csv"), encoding: .utf8).hasSuffix(",\(folder.path("transmittance.h5")),,,,,,\n"),
                "nothing checked: blank")
    }

    /// An H&E spot whose make-up differs (its red optical density, most of hematoxylin's, at 0.3)
    /// is named by its balance across the channels; the same spot made fainter is not.
    @Test func anHEScanOfAnotherStainBalanceIsNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(try cli.run(["phantom", "--modality", "he", "--spots", "20", "--size", "24", "--seed", "5", "--out", folder.path("data")]).status == 0)
        #expect(try cli.run(["train", "--modality", "he", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"), "--epochs", "1",
                             "--width", "4", "--depth", "2"]).status == 0)
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as? [String: Any]
        let range = model?["inputRange"] as? [String: Any]
        #expect((range?["balanceLow"] as? [Double])?.count == 3 && (range?["samples"] as? Int ?? 0) >= 10, "\(String(describing: range))")
        let spot = try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("data/spot001.png")))
        /// The spot with each channel's optical density −log₁₀((I+1)/256) multiplied by `factors`.
        func scaled(_ factors: [Double], to name: String) throws {
            let pixels = spot.pixels.enumerated().map { i, v -> UInt8 in
                let c = i % spot.channels
                guard c < 3 else { return v }
                let od = -log10((Double(v) + 1) / 256) * factors[c]
                return UInt8(max(0, min(255, (256 * pow(10, -od) - 1).rounded())))
            }
            try PNGImage(width: spot.width, height: spot.height, channels: spot.channels, pixels: pixels)
                .write(to: URL(fileURLWithPath: folder.path(name)))
        }
        try scaled([0.3, 1, 1], to: "rebalanced.png")
        try scaled([0.8, 0.8, 0.8], to: "fainter.png")
        let r = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("seg"), folder.path("data/spot001.png"),
                             folder.path("rebalanced.png"), folder.path("fainter.png")])
        #expect(r.status == 0 && r.output.contains("warning: sample rebalanced lies outside the inputs the run was trained on (1 of 3 samples): "
                                                   + "the balance of its tissue across the channels") && r.output.contains("in channel OD red"),
                "\(r.output)")
    }
}
