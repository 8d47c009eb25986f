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

        // A truncated HDF5 file read last, on the reading thread, under --skip-unreadable: named, and
        // the library closes quietly at exit (its failed call's error records are cleared).
        let cut = folder.path("cut.h5")
        try Data(try Data(contentsOf: URL(fileURLWithPath: folder.path("data/spot000.h5"))).prefix(1000)).write(to: URL(fileURLWithPath: cut))
        let skipped = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("skipped"), folder.path("data/spot001.h5"),
                                   cut, "--skip-unreadable"])
        #expect(skipped.status == 0 && skipped.output.contains("\(cut): cannot be opened as HDF5") && !skipped.output.contains("HDF5:"),
                "\(skipped.output)")

        // Two unreadable files among good ones: both lines named, no output folder content.
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: folder.path("data/spot002.h5")))
        try Data().write(to: URL(fileURLWithPath: folder.path("data/spot006.h5")))
        let r = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("bad")])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("line 4:") && r.output.contains("spot002.h5") && r.output.contains("line 8:")
                && r.output.contains("spot006.h5") && r.output.contains("2 samples cannot be used"), "\(r.output)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: folder.path("bad"))) ?? []
        #expect(written.isEmpty, "\(written)")
    }
}
