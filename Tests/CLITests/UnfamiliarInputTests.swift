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
            #expect(csv.first?.last == "unfamiliar_input" && csv.dropFirst().map { [$0[0], $0.last!] } == [["spot001", "no"], ["transmittance", "yes"]],
                    "\(csv)")
        }
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--split", "all", "--out", folder.path("evaluated")])
        let perSample = try String(contentsOfFile: folder.path("evaluated/per_sample.csv"), encoding: .utf8).split(separator: "\n")
        #expect(evaluated.status == 0 && perSample.first?.hasSuffix(",path,unfamiliar_input") == true
                    && perSample.dropFirst().allSatisfy { $0.hasSuffix(",no") }, "\(evaluated.output)\n\(perSample)")

        // A run written before the range was recorded: no warning, and no error.
        var old = model
        old.removeValue(forKey: "inputRange")
        try JSONSerialization.data(withJSONObject: old).write(to: URL(fileURLWithPath: folder.path("run/model.json")))
        let r = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("old"), folder.path("transmittance.h5")])
        #expect(r.status == 0 && !r.output.contains("outside the inputs"), "\(r.output)")
        #expect(try String(contentsOfFile: folder.path("old/segmentation.csv"), encoding: .utf8).hasSuffix(",\(folder.path("transmittance.h5")),\n"),
                "nothing checked: blank")
    }
}
