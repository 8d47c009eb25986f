import CompSegTestSupport
import CompSegIO
import Foundation
import Testing

/// `segment` reads each sample once, ahead of the network, in batches: the maps do not depend on
/// the batch size, every bad file is named at once, and nothing is written when one fails.
@Suite struct InferencePipelineTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    @Test func batchSizesGiveTheSameMapsAndBadRowsAreAllNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 6)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        var tables: [String] = []
        for batch in ["1", "3", "8"] {
            let out = folder.path("seg\(batch)")
            let r = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", out, "--batch", batch])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.output.contains("s per sample (reading") && r.output.contains("network"), "\(r.output)")
            tables.append(try String(contentsOfFile: out + "/segmentation.csv", encoding: .utf8))
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/spot005_map.tif"))
                    == Data(contentsOf: URL(fileURLWithPath: folder.path("seg1/spot005_map.tif"))))
        }
        #expect(tables.count == 3 && Set(tables).count == 1 && tables[0].split(separator: "\n").count == 9, "\(tables)")
        // Unrounded: each fraction is its pixel counts' quotient as written, the threshold the run's.
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("run/model.json")))) as? [String: Any]
        let threshold = ((model?["threshold"] as? [String: Any])?["value"] as? Double).map(Float.init) ?? 0.35
        for line in tables[0].split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(Double(f[4]) == Double(f[3])! / Double(f[2])! && Float(f[5]) == threshold, "\(line)")
        }

        // Truth files that are not there (yet): segment, which does not read them, goes on; overlay, which draws them, names them.
        let noTruths = folder.path("data/no_truths.csv")
        try Data(("path,label,split,truth\n" + (0..<3).map { "spot00\($0).h5,\($0 % 2),test,later_\($0).png\n" }.joined()).utf8)
            .write(to: URL(fileURLWithPath: noTruths))
        let segmented = try cli.run(["segment", "--model", folder.path("run"), "--data", noTruths, "--out", folder.path("noTruths")])
        #expect(segmented.status == 0 && segmented.output.contains("Segmented 3 samples"), "\(segmented.output)")
        let drawn = try cli.run(["overlay", "--model", folder.path("run"), "--data", noTruths, "--out", folder.path("noTruthsOverlay")])
        #expect(drawn.status == 1 && drawn.output.contains("line 2: truth file later_0.png not found"), "\(drawn.output)")

        // A truncated HDF5 file read last, on the reading thread, under --skip-unreadable: named, and
        // the library closes quietly at exit (its failed call's error records are cleared).
        let cut = folder.path("cut.h5")
        try Data(try Data(contentsOf: URL(fileURLWithPath: folder.path("data/spot000.h5"))).prefix(1000)).write(to: URL(fileURLWithPath: cut))
        let skipped = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("skipped"), folder.path("data/spot001.h5"),
                                   cut, "--skip-unreadable"])
        #expect(skipped.status == 0 && skipped.output.contains("\(cut): cannot be opened as HDF5") && !skipped.output.contains("HDF5:"),
                "\(skipped.output)")

        // Two unreadable files among good ones: both lines named (from the headers read to choose which images stream),
        // no output folder content.
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: folder.path("data/spot002.h5")))
        try Data().write(to: URL(fileURLWithPath: folder.path("data/spot006.h5")))
        let r = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("bad")])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("line 4:") && r.output.contains("spot002.h5") && r.output.contains("line 8:")
                && r.output.contains("spot006.h5") && r.output.contains("2 problems:"), "\(r.output)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: folder.path("bad"))) ?? []
        #expect(written.isEmpty, "\(written)")
    }

    /// An infrared HDF5 image larger than a tile (2×2 tiles), segmented whole and region by region
    /// (`--stream-above 0`): the same map (to 1e-5: float order in the blend may differ), masks,
    /// table and overlays; evaluate's numbers too. A file whose whole load would not fit in memory
    /// is streamed whatever --stream-above says (here: a ulimit on the process's memory).
    @Test func infraredStreamedEqualsWholeImage() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try cli.phantom(folder, size: 16, bands: 20, seed: 6)
        #expect(try cli.trainTiny(folder, manifest) == 0)
        let big = try cli.run(["phantom", "--spots", "2", "--size", "600", "--bands", "20", "--seed", "4", "--out", folder.path("big")])
        #expect(big.status == 0, "\(big.output)")
        let image = folder.path("big/spot000.h5")
        let runs = try [("whole", [String]()), ("streamed", ["--stream-above", "0"])].map { out, extra in
            try cli.run(["overlay", "--model", folder.path("run"), image, "--out", folder.path(out)] + extra)
        }
        #expect(runs[0].status == 0 && !runs[0].output.contains("region by region"), "\(runs[0].output)")
        #expect(runs[1].status == 0 && runs[1].output.contains("spot000.h5 (600×600) region by region"), "\(runs[1].output)")
        let (a, b) = try (FloatImage(contentsOf: URL(fileURLWithPath: folder.path("whole/spot000_map.tif"))),
                          FloatImage(contentsOf: URL(fileURLWithPath: folder.path("streamed/spot000_map.tif"))))
        #expect(a.width == 600 && a.height == 600 && zip(a.values, b.values).map { Swift.abs($0 - $1) }.max() ?? 1 <= 1e-5)
        for kind in ["mask", "overlay", "contour", "label"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("whole/spot000_\(kind).png")))
                        == Data(contentsOf: URL(fileURLWithPath: folder.path("streamed/spot000_\(kind).png"))), "\(kind)")
        }
        #expect(try String(contentsOfFile: folder.path("whole/segmentation.csv"), encoding: .utf8)
                    == String(contentsOfFile: folder.path("streamed/segmentation.csv"), encoding: .utf8))
        let evaluations = try [("ew", [String]()), ("es", ["--stream-above", "0"])].map { out, extra in
            try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("big/manifest.csv"), "--split", "all",
                         "--out", folder.path(out), "--threshold", "0.5"] + extra)
        }
        #expect(evaluations[0].status == 0 && evaluations[1].status == 0 && evaluations[1].output.contains("region by region"),
                "\(evaluations[1].output)")
        #expect(try String(contentsOfFile: folder.path("ew/per_sample.csv"), encoding: .utf8)
                    == String(contentsOfFile: folder.path("es/per_sample.csv"), encoding: .utf8))
        // A file declaring 2²⁰×2²⁰×450 values (never written) would need petabytes loaded whole: it is streamed unasked,
        // and refused for the tissue mask that even streaming holds, naming the file.
        let huge = fixturesDirectory.appendingPathComponent("infrared/huge_declared.h5").path
        let refused = try cli.run(["segment", "--model", folder.path("run"), huge, "--out", folder.path("huge")])
        #expect(refused.status == 1 && refused.output.contains("\(huge): the tissue mask and preview of 1048576×1048576 pixels, read region by region needs"),
                "\(refused.output)")
        // One declaring 2⁴⁰×2⁴⁰ pixels (their count overflows 64 bits): refused as such, not a crash.
        let overflowing = fixturesDirectory.appendingPathComponent("infrared/pixels_overflow.h5").path
        let overflowed = try cli.run(["segment", "--model", folder.path("run"), overflowing, "--out", folder.path("overflow")])
        #expect(overflowed.status == 1 && overflowed.output.contains("\(overflowing): the tissue mask and preview of 1099511627776×1099511627776 pixels"),
                "\(overflowed.output)")
    }
}
