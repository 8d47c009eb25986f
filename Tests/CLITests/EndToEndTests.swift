import CompSegIO
import Foundation
import Testing

/// The tool as a user runs it: phantom files → train → segment, interruption and resume, and the
/// errors that name the problem.
@Suite(.serialized) struct EndToEndTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// Small phantom: 8 spots of 24×24 with 40 bands (seconds to train).
    func phantom(_ folder: TemporaryFolder) throws -> String { try cli.phantom(folder, size: 24, bands: 40, seed: 3) }

    func train(_ manifest: String, _ out: String, epochs: Int = 3) -> [String] {
        ["train", "--modality", "infrared", "--data", manifest, "--out", out, "--epochs", "\(epochs)",
         "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2"]
    }

    @Test func phantomTrainSegment() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let trained = try cli.run(train(manifest, folder.path("run")))
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("epoch 3/3"))
        // The device it ran on, at the end of the output and in model.json.
        #expect(trained.output.contains(" s on cpu (oneDNN ") || trained.output.contains(" s on cuda ("), "\(trained.output)")
        let model = try String(contentsOfFile: folder.path("run/model.json"), encoding: .utf8)
        #expect(model.contains("\"device\" : \"cpu (oneDNN ") || model.contains("\"device\" : \"cuda ("), "\(model)")
        // The settings in effect, defaults included: the head's α and the U-Net's upsampling were not given.
        #expect(model.contains("\"alpha\" : 0.1,") && model.contains("\"upsampling\" : \"transposed\""), "\(model)")
        // And the reader's (infrared.yaml gives neither maximumValues nor the tissue method).
        #expect(model.contains("\"maximumValues\" : 2147483648") && model.contains("\"method\" : \"otsu\""), "\(model)")
        for file in ["model.json", "weights.safetensors", "history.csv", "checkpoint.safetensors", "curves.png", "curves.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("run/\(file)")), "\(file)")
        }
        let history = try String(contentsOfFile: folder.path("run/history.csv"), encoding: .utf8)
        #expect(history.split(separator: "\n").count == 4)  // header + 3 epochs
        let curves = try String(contentsOfFile: folder.path("run/curves.svg"), encoding: .utf8)
        #expect(curves.contains("training loss") && curves.contains("validation loss") && curves.contains("best epoch"), "\(curves.prefix(300))")

        let segmented = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg")])
        #expect(segmented.status == 0, "\(segmented.output)")
        for file in ["spot000_map.png", "spot000_map.tif", "spot000_mask.png", "segmentation.csv"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("seg/\(file)")), "\(file)")
        }
        let table = try String(contentsOfFile: folder.path("seg/segmentation.csv"), encoding: .utf8)
        #expect(table.split(separator: "\n").count == 9)  // header + 8 spots

        let again = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg")])
        #expect(again.status != 0 && again.output.contains("pass --force"), "\(again.output)")
        let forced = try cli.run(["segment", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("seg"), "--force"])
        #expect(forced.status == 0, "\(forced.output)")
        // --force replaces an earlier segmentation whole: with --geojson on two samples, then
        // without it on one, none of the first one's files stays.
        let pair = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("pair"), "--geojson",
                                folder.path("data/spot000.h5"), folder.path("data/spot001.h5")])
        #expect(pair.status == 0 && FileManager.default.fileExists(atPath: folder.path("pair/spot001_mask.geojson")), "\(pair.output)")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path("pair/notes.txt")))
        let one = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("pair"), "--force", folder.path("data/spot000.h5")])
        #expect(one.status == 0, "\(one.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("pair")).sorted()
                    == [".compseg-outputs", "notes.txt", "segmentation.csv", "spot000_map.png", "spot000_map.tif", "spot000_mask.png"])
        // overlay keeps the same record, so its --force too leaves none of an earlier overlay's files.
        let overlaid = try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path("over"),
                                    folder.path("data/spot000.h5"), folder.path("data/spot001.h5")])
        #expect(overlaid.status == 0, "\(overlaid.output)")
        let record = try String(contentsOfFile: folder.path("over/segmentation.csv"), encoding: .utf8).split(separator: "\n")
        #expect(record.count == 3 && record[1].hasPrefix("spot000,,") && record[1].contains(folder.path("data/spot000.h5") + ",no,5.5,5.5,"), "\(record)")
        #expect(try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path("over"), "--force",
                             folder.path("data/spot001.h5")]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("over")).allSatisfy { !$0.hasPrefix("spot000") })
        // segment --force over an overlay removes its pictures too: none disagrees with the new mask.
        #expect(try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), "--force", "--threshold", "0.9",
                             folder.path("data/spot001.h5")]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("over")).sorted()
                    == [".compseg-outputs", "segmentation.csv", "spot001_map.png", "spot001_map.tif", "spot001_mask.png"])
        // The hidden list names what compseg wrote there, and only that, each with its size, time and digest.
        // Its first line says the names are escaped (a newline, tab or backslash in one).
        let list = try String(contentsOfFile: folder.path("over/.compseg-outputs"), encoding: .utf8).split(separator: "\n")
        #expect(list.first?.hasPrefix("# names escaped: ") == true, "\(list)")
        let listed = list.dropFirst()
        #expect(listed.map { $0.split(separator: "\t")[0] } == ["segmentation.csv", "spot001_map.png", "spot001_map.tif", "spot001_mask.png"]
                    && listed.allSatisfy { $0.split(separator: "\t").count == 4 }, "\(listed)")
        // A copy keeps the bytes, not the time (cp -r, tar): still compseg's, so --force replaces it.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)],
                                              ofItemAtPath: folder.path("over/spot001_map.png"))
        let copied = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), "--force", "--threshold", "0.9",
                                  folder.path("data/spot001.h5")])
        #expect(copied.status == 0, "\(copied.output)")
        // A list an earlier compseg wrote (size and time only) cannot tell a copy from an edit: named so.
        let listPath = folder.path("over/.compseg-outputs")
        let digested = try String(contentsOfFile: listPath, encoding: .utf8)
        try (digested.split(separator: "\n").map { $0.split(separator: "\t").prefix(3).joined(separator: "\t") }.joined(separator: "\n") + "\n")
            .write(toFile: listPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)],
                                              ofItemAtPath: folder.path("over/spot001_map.png"))
        let undigested = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), "--force", "--threshold", "0.9",
                                      folder.path("data/spot001.h5")])
        #expect(undigested.status != 0 && undigested.output.contains("holds no digest of its bytes to tell a copy from an edit"),
                "\(undigested.output)")
        try digested.write(toFile: listPath, atomically: true, encoding: .utf8)
        // A file of ours edited since (a mask corrected by hand) stops --force, named; so the edit is kept.
        try Data("corrected".utf8).write(to: URL(fileURLWithPath: folder.path("over/spot001_mask.png")))
        let edited = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), "--force", folder.path("data/spot001.h5")])
        #expect(edited.status != 0 && edited.output.contains("\(folder.path("over/spot001_mask.png")) was changed after compseg wrote it"),
                "\(edited.output)")
        // Without --force the same is said first, not advice to pass --force, which would then refuse.
        let plain = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), folder.path("data/spot001.h5")])
        #expect(plain.status != 0 && plain.output.contains("was changed after compseg wrote it") && !plain.output.contains("pass --force"),
                "\(plain.output)")
        #expect(try String(contentsOfFile: folder.path("over/spot001_mask.png"), encoding: .utf8) == "corrected")
        try FileManager.default.moveItem(atPath: folder.path("over/spot001_mask.png"), toPath: folder.path("corrected_mask.png"))
        // Names added to the list by hand are not taken for outputs: a file, or a folder, stays.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path("over/precious.txt")))
        try FileManager.default.createDirectory(atPath: folder.path("over/sub"), withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: folder.path("over/sub/keep.txt")))
        let signed = try String(contentsOfFile: folder.path("over/.compseg-outputs"), encoding: .utf8)
        try (signed + "precious.txt\nsub\n").write(toFile: folder.path("over/.compseg-outputs"), atomically: true, encoding: .utf8)
        #expect(try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("over"), "--force",
                             folder.path("data/spot001.h5")]).status == 0)
        #expect(FileManager.default.fileExists(atPath: folder.path("over/precious.txt"))
                    && FileManager.default.fileExists(atPath: folder.path("over/sub/keep.txt")))
        try FileManager.default.removeItem(atPath: folder.path("over/precious.txt"))
        try FileManager.default.removeItem(atPath: folder.path("over/sub"))
        let beyond = try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path("over2"), "--threshold", "1.2",
                                  folder.path("data/spot001.h5")])
        #expect(beyond.status == 64 && beyond.output.contains("--threshold must be a number in (0, 1), got 1.2"), "\(beyond.output)")
        // overlay writes polygons and batches samples as segment does.
        let shapes = try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path("shapes"), "--geojson", "--batch", "1",
                                  folder.path("data/spot000.h5"), folder.path("data/spot001.h5")])
        #expect(shapes.status == 0, "\(shapes.output)")
        for file in ["spot000_mask.geojson", "spot001_mask.geojson", "spot001_overlay.png", "segmentation.csv"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("shapes/\(file)")), "\(file)")
        }
        #expect(try String(contentsOfFile: folder.path("shapes/segmentation.csv"), encoding: .utf8).split(separator: "\n") == record)

        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("eval"),
                                     "--split", "all", "--threshold", "auto"])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("eval/summary.json"))))
            as? [String: Any] ?? [:]
        for key in ["auc", "threshold", "dice_mean", "dice_sd", "n_cancer", "n_cancer_free", "auc_ci", "youden_fraction", "model", "data",
                    "split", "threshold_origin", "truth_pixels", "truth_pixels_outside_tissue", "cancer_free_fraction_mean", "cancer_free_fraction_sd"] {
            #expect(summary[key] != nil, "summary.json lacks \(key)")  // null where it cannot be computed, never left out
        }
        #expect((summary["truth_pixels"] as? Int ?? 0) > 0 && summary["truth_pixels_outside_tissue"] as? Int == 0, "\(summary)")
        #expect(summary["split"] as? String == "all" && summary["model"] as? String == folder.path("run"), "\(summary)")
        #expect((summary["threshold_origin"] as? String).map { $0.hasPrefix("chosen on the ") && $0.contains("(--threshold auto)") } == true,
                "\(summary)")
        #expect((summary["n_cancer"] as? Int) == 4 && (summary["n_cancer_free"] as? Int) == 4)
        // The same truth as GeoJSON polygons (as QuPath exports annotations) scores the same.
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        for truth in text.split(separator: "\n").compactMap({ $0.split(separator: ",").last }).filter({ $0.hasSuffix("_truth.png") }) {
            let png = folder.path("data/\(truth)"), image = try PNGImage(contentsOf: URL(fileURLWithPath: png))
            try MaskPolygons(width: image.width, height: image.height,
                             pixels: try PNGImage.mask(contentsOf: URL(fileURLWithPath: png), height: image.height, width: image.width))
                .write(to: URL(fileURLWithPath: png.replacingOccurrences(of: ".png", with: ".geojson")))
        }
        let polygons = folder.path("data/polygons.csv")
        try text.replacingOccurrences(of: "_truth.png", with: "_truth.geojson").write(toFile: polygons, atomically: true, encoding: .utf8)
        // Like segment, evaluate writes beside a user's file, and one sample at a time (--batch 1) scores the same.
        try FileManager.default.createDirectory(atPath: folder.path("evalPolygons"), withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: folder.path("evalPolygons/notes.txt")))
        let scoring = ["evaluate", "--model", folder.path("run"), "--data", polygons, "--out", folder.path("evalPolygons"),
                       "--split", "all", "--threshold", "auto", "--batch", "1"]
        let fromPolygons = try cli.run(scoring)
        #expect(fromPolygons.status == 0, "\(fromPolygons.output)")
        #expect(try String(contentsOfFile: folder.path("evalPolygons/per_sample.csv"), encoding: .utf8)
                    == String(contentsOfFile: folder.path("eval/per_sample.csv"), encoding: .utf8))
        // A cancer sample's truth that marks nothing (its polygon lies outside the image) is scored, with warnings that say where it lies.
        let cancerTruth = try #require(text.split(separator: "\n").first { $0.split(separator: ",").dropFirst().first == "1" && $0.hasSuffix("_truth.png") })
            .split(separator: ",").last!
        try Data(#"{"type": "Polygon", "coordinates": [[[1000, 1000], [2000, 1000], [2000, 2000], [1000, 2000]]]}"#.utf8)
            .write(to: URL(fileURLWithPath: folder.path("data/none.geojson")))
        try text.replacingOccurrences(of: String(cancerTruth), with: "none.geojson").write(toFile: folder.path("data/none.csv"), atomically: true, encoding: .utf8)
        let noTruth = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/none.csv"), "--out", folder.path("evalNone"),
                                   "--split", "all"])
        #expect(noTruth.status == 0 && noTruth.output.contains("warning: the truth of 1 cancer sample marks no pixel tumor")
                    && noTruth.output.contains("holds polygons that mark no pixel of the image (")
                    && noTruth.output.contains(": 1 polygon at x 1000…2000, y 1000…2000): positions are the full-resolution"), "\(noTruth.output)")
        // Its own earlier files are replaced only with --force; the user's file stays either way.
        let unforced = try cli.run(scoring)
        #expect(unforced.status == 1 && unforced.output.contains("exist already") && unforced.output.contains("pass --force"), "\(unforced.output)")
        #expect(try cli.run(scoring + ["--force"]).status == 0)
        #expect((try? String(contentsOfFile: folder.path("evalPolygons/notes.txt"), encoding: .utf8)) == "mine")
        // Another command there, writing none of the same names, replaces that evaluation only with --force too.
        try FileManager.default.copyItem(atPath: folder.path("data/spot000.h5"), toPath: folder.path("extra.h5"))
        let beside = try cli.run(["segment", "--model", folder.path("run"), "--out", folder.path("evalPolygons"), folder.path("extra.h5")])
        #expect(beside.status == 1 && beside.output.contains("an earlier segment, overlay or evaluate wrote") && beside.output.contains("pass --force"),
                "\(beside.output)")
        #expect(FileManager.default.fileExists(atPath: folder.path("evalPolygons/summary.json")))
        for file in ["report.html", "roc.png", "roc.svg", "fractions.png", "fractions.svg", "thresholds.png", "thresholds.svg",
                     "spot000_panel.png", "spot000_overlay.png", "spot000_label.png"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("eval/\(file)")), "\(file)")
        }
        let report = try String(contentsOfFile: folder.path("eval/report.html"), encoding: .utf8)
        let svgs = ReportChecks.checkImages(report)
        // Figures as SVG with real text: the ROC (AUC with its interval, Youden's point), the tumor
        // fraction by class, the threshold's choice and the run's training curves.
        for text in ["true positive rate", "Tumor fraction by class", "Choice of the threshold", "training loss"] {
            #expect(svgs.contains { $0.contains(text) }, "no embedded figure says \(text)")
        }
        // The AUC with DeLong's interval, or without one where it would be 0 wide (separated or tied classes).
        let interval = summary["auc_ci"] as? [Double]
        #expect(svgs.contains { $0.range(of: interval == nil ? #"AUC \d\.\d\d<"# : #"AUC \d\.\d\d \[\d\.\d\d, \d\.\d\d\]"#,
                                         options: .regularExpression) != nil }, "\(summary)")
        #expect(interval.map { $0[0] < $0[1] } ?? true, "a 0-wide interval: \(summary)")
        // The summary says what each number means; captions are HTML; the per-sample table sorts.
        for text in ["Overlap of the predicted and true tumor, over cancer samples", "DeLong's method", "validation samples (--threshold auto",
                     "<figcaption>", "class=\"sortable\"", "data-type=\"number\"", "class=\"card\" id=\"spot000\""] {
            #expect(report.contains(text), "report lacks \(text)")
        }
        #expect(report.components(separatedBy: "<article class=\"card\"").count == 9)  // one card per sample
        let perSample = try String(contentsOfFile: folder.path("eval/per_sample.csv"), encoding: .utf8)
        let lines = perSample.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines.count == 9 && Array(lines[0][10..<14]) == ["called", "split", "path", "unfamiliar_input"]
                    && lines[0].suffix(5) == ["pixel_width_um", "pixel_height_um", "tissue_area_mm2", "tumor_area_mm2", "patient"], "\(perSample)")
        // Areas from the phantom's 5.5 µm pixels: tissue pixels × 30.25 µm².
        for row in lines.dropFirst() {
            let area = Double(row[16]) ?? -1, tissue = Double(row[2]) ?? 0
            #expect(abs(area - tissue * 30.25e-6) < 1e-12, "\(row)")
        }
        // --split all: each row's split, and no Dice of its own for a cancer-free sample. After 3 epochs the maps mark
        // all tissue: every fraction is 1, so no cut calls the samples (none is called) and evaluate says so.
        #expect(Set(lines.dropFirst().map { $0[11] }) == ["train", "val", "test"] && lines.dropFirst().allSatisfy { $0[4] == "1.0" && $0[10].isEmpty },
                "\(perSample)")
        #expect(summary["youden_fraction"] is NSNull && !svgs.contains { $0.contains("Youden: fraction") }, "\(summary)")
        #expect(evaluated.output.contains("mark 100% of the cancer-free samples' tissue: at it the maps do not single out tumor"),
                "\(evaluated.output)")
        #expect(lines.dropFirst().filter { $0[1] == "cancer-free" }.allSatisfy { $0[5].isEmpty && $0[6].isEmpty && !$0[9].isEmpty }, "\(perSample)")
        // --threshold auto with nothing to choose by (validation rows of one class, no truth) is refused.
        let rows = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return "\(f[0]),\(f[1]),\(f[1] == "0" ? "val" : "test")"
        }
        try Data((["path,label,split"] + rows).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/onlyfree.csv")))
        let unchosen = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/onlyfree.csv"),
                                    "--out", folder.path("eval-free"), "--threshold", "auto"])
        #expect(unchosen.status != 0 && unchosen.output.contains("--threshold auto needs validation rows of both classes, or cancer rows "
                                                                 + "with truth masks; its 4 have only cancer-free labels and no truth")
                    && !unchosen.output.contains("Segmented"), "\(unchosen.output)")  // refused before segmenting
        // Scored on cancer-free samples alone (the val split here): no ROC and no threshold curves are
        // drawn (an empty plot captioned as curves misled), the rest is.
        let freeOnly = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/onlyfree.csv"),
                                    "--out", folder.path("eval-free"), "--split", "val"])
        #expect(freeOnly.status == 0, "\(freeOnly.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("eval-free/roc.png"))
                    && !FileManager.default.fileExists(atPath: folder.path("eval-free/thresholds.png"))
                    && FileManager.default.fileExists(atPath: folder.path("eval-free/fractions.png")))
        let freeReport = try String(contentsOfFile: folder.path("eval-free/report.html"), encoding: .utf8)
        #expect(!freeReport.contains("ROC of the tumor fraction") && freeReport.contains("Tumor fraction by class"))
        let refused = try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("eval")])
        #expect(refused.status != 0 && refused.output.contains("pass --force"), "\(refused.output)")

        let overwrite = try cli.run(train(manifest, folder.path("run")))
        #expect(overwrite.status != 0 && overwrite.output.contains("already holds a run"), "\(overwrite.output)")
    }

    /// train ends with a warning when the best weights light no cancer tissue above segment's
    /// threshold (the masks would be empty, though loss and AUC look fine), and only then.
    @Test func darkMapsAreNamedAtTheEnd() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(try cli.run(["phantom", "--spots", "20", "--size", "32", "--out", folder.path("tma")]).status == 0)
        let manifest = folder.path("tma/manifest.csv"), warning = "the best weights light up no tumor at segment's threshold"
        // After one epoch the maps are faint: the run chooses a threshold below 0.05 on the validation
        // split, records it, and segment applies it, so the cancer samples' masks are not empty.
        let early = try cli.run(train(manifest, folder.path("early"), epochs: 1))
        #expect(early.status == 0 && early.output.contains("Threshold 0.0") && early.output.contains("for segment, overlay and evaluate")
                    && early.output.contains("below the usual sweep") && !early.output.contains(warning), "\(early.output)")
        let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("early/model.json")))) as? [String: Any]
        let value = try #require((recorded?["threshold"] as? [String: Any])?["value"] as? Double)
        #expect(value > 0 && value < 0.05)
        let segmented = try cli.run(["segment", "--model", folder.path("early"), "--data", manifest, "--out", folder.path("seg")])
        #expect(segmented.status == 0 && segmented.output.contains("Threshold \(String(format: "%.2g", value)): the run's, chosen on the"),
                "\(segmented.output)")
        let fractions = try String(contentsOfFile: folder.path("seg/segmentation.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(fractions.contains { $0.contains(",cancer,") && !$0.contains(",cancer,0,") }, "\(fractions)")
        // --threshold overrides the run's.
        let given = try cli.run(["segment", "--model", folder.path("early"), "--data", manifest, "--out", folder.path("seg2"), "--threshold", "0.5"])
        #expect(given.status == 0 && !given.output.contains("the run's"), "\(given.output)")
        // overlay and evaluate apply it too; evaluate records where it came from, and warns when it scores the split it was chosen on.
        let overlaid = try cli.run(["overlay", "--model", folder.path("early"), "--data", manifest, "--out", folder.path("ov")])
        #expect(overlaid.status == 0 && overlaid.output.contains("the run's, chosen on the"), "\(overlaid.output)")
        let evaluated = try cli.run(["evaluate", "--model", folder.path("early"), "--data", manifest, "--out", folder.path("ev"), "--split", "val"])
        #expect(evaluated.status == 0 && evaluated.output.contains("the run's, chosen on the")
                    && evaluated.output.contains("warning: the run's threshold was chosen on validation samples that --split val scores too"),
                "\(evaluated.output)")
        let summary = try String(contentsOfFile: folder.path("ev/summary.json"), encoding: .utf8)
        #expect(summary.contains("the run's, chosen on the"), "\(summary)")
        let report = try String(contentsOfFile: folder.path("ev/report.html"), encoding: .utf8)
        #expect(report.contains("the validation split (it chose the kept epoch and the run&#39;s threshold: not held out)")
                    || report.contains("the validation split (it chose the kept epoch and the run's threshold: not held out)"), "the title says what val is")
        // The same manifest moved elsewhere is still the run's own; --split all warns of its training samples too.
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: manifest).deletingLastPathComponent().path, toPath: folder.path("copy"))
        let all = try cli.run(["evaluate", "--model", folder.path("early"), "--data", folder.path("copy/manifest.csv"), "--out", folder.path("ev-all"),
                               "--split", "all"])
        #expect(all.status == 0 && all.output.contains("warning: the run's threshold was chosen on validation samples that --split all scores too")
                    && all.output.contains("training samples the network learned from"), "\(all.output)")
        #expect(try String(contentsOfFile: folder.path("ev-all/report.html"), encoding: .utf8).contains("every split (training samples included)"))
        // per_sample.csv's fractions, unrounded, give its calls at summary.json's Youden cut.
        func table(_ out: String) throws -> (cut: Double?, rows: [(fraction: Double, called: String)]) {
            let s = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("\(out)/summary.json")))) as? [String: Any]
            let lines = try String(contentsOfFile: folder.path("\(out)/per_sample.csv"), encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",").map(String.init)
            let (f, c) = (header.firstIndex(of: "tumor_fraction")!, header.firstIndex(of: "called")!)
            return (s?["youden_fraction"] as? Double, lines.dropFirst().map { line in
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return (Double(cells[f]) ?? .nan, cells[c])
            })
        }
        // The faint maps mark all of each validation sample's tissue: no cut calls them better than chance.
        #expect(try table("ev").rows.allSatisfy { $0.fraction == 1 && $0.called.isEmpty })
        // A threshold no pixel exceeds: said, and no sample is called (no cut does better than chance).
        let dark = try cli.run(["evaluate", "--model", folder.path("early"), "--data", manifest, "--out", folder.path("ev-dark"),
                                "--threshold", "0.9999"])
        #expect(dark.status == 0 && dark.output.contains("warning: no pixel exceeds the threshold 0.9999: every tumor fraction is 0"),
                "\(dark.output)")
        let unscored = try table("ev-dark")
        #expect(unscored.cut == nil && unscored.rows.allSatisfy { $0.fraction == 0 && $0.called.isEmpty }, "\(unscored)")
        let darkReport = try String(contentsOfFile: folder.path("ev-dark/report.html"), encoding: .utf8)
        #expect(darkReport.contains("no cut calls the samples better than chance") && darkReport.contains("no pixel exceeds the threshold"))
        // A resumed run drops the threshold of its earlier weights and chooses anew when it ends.
        let resumed = try cli.run(["train", "--resume", folder.path("early"), "--epochs", "2"])
        #expect(resumed.status == 0 && resumed.output.contains("for segment, overlay and evaluate"), "\(resumed.output)")
        // README's quick start lights the tumor.
        let trained = try cli.run(["train", "--modality", "infrared", "--data", manifest, "--out", folder.path("run"),
                                   "--width", "16", "--depth", "3", "--epochs", "20"])
        #expect(trained.status == 0 && !trained.output.contains(warning) && trained.output.contains("Threshold 0."), "\(trained.output)")
        #expect(try cli.run(["evaluate", "--model", folder.path("run"), "--data", manifest, "--out", folder.path("ev-run"), "--split", "all"]).status == 0)
        let scored = try table("ev-run")
        let cut = try #require(scored.cut)
        #expect(scored.rows.allSatisfy { ($0.fraction >= cut ? "cancer" : "cancer-free") == $0.called }, "\(scored)")
        // The ROC marks Youden's point.
        #expect(try String(contentsOfFile: folder.path("ev-run/roc.svg"), encoding: .utf8).contains("Youden: fraction"))
        // Without a validation split the warm-up's small steps are no collapse, and the advice fits.
        let rows = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").filter { !$0.contains(",val,") }
        try (rows.joined(separator: "\n") + "\n").write(toFile: folder.path("tma/noval.csv"), atomically: true, encoding: .utf8)
        let noValidation = try cli.run(["train", "--modality", "infrared", "--data", folder.path("tma/noval.csv"), "--out",
                                        folder.path("noval"), "--width", "16", "--depth", "3", "--epochs", "3"])
        #expect(noValidation.status == 0 && !noValidation.output.contains("collapsed"), "\(noValidation.output)")
        #expect(noValidation.output.contains("training split's cancer samples") && noValidation.output.contains("a lower --threshold"),
                "\(noValidation.output)")
    }

    /// SIGTERM (a scheduler ending the job) stops as Ctrl-C does, after the epoch it is in, and
    /// exits as a shell reports a process SIGTERM ended: 143.
    @Test func sigtermSavesTheRunAndExitsWith143() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (process, pipe) = try cli.start(train(try phantom(folder), folder.path("cut"), epochs: 200))
        waitForFile(folder.path("cut/checkpoint.safetensors"), while: { process.isRunning })
        process.terminate()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 143 && output.contains("compseg train --resume"), "\(output)")
        // The epochs done are saved: the run continues from them.
        let history = try String(contentsOfFile: folder.path("cut/history.csv"), encoding: .utf8).split(separator: "\n")
        #expect(history.count >= 2, "\(history)")
        let resumed = try cli.run(["train", "--resume", folder.path("cut"), "--epochs", "\(history.count)"])
        #expect(resumed.status == 0 && resumed.output.contains("Resuming") && resumed.output.contains("after epoch \(history.count - 1) of "),
                "\(resumed.output)")
    }

    /// SIGUSR1 (a batch system's warning before the time limit) stops as SIGTERM does, after the
    /// epoch it is in: exit 138.
    @Test func sigusr1SavesTheRunAndExitsWith138() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (process, pipe) = try cli.start(train(try phantom(folder), folder.path("cut"), epochs: 200))
        waitForFile(folder.path("cut/checkpoint.safetensors"), while: { process.isRunning })
        kill(process.processIdentifier, SIGUSR1)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 138 && output.contains("compseg train --resume"), "\(output)")
    }

    /// Ctrl-\ (SIGQUIT) quits at once, as it does any program: no crash report, no work going on.
    /// Started with SIGQUIT at its default (a test runner may have been started ignoring it).
    @Test func sigquitQuits() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let arguments = [cli.binary.path] + train(try phantom(folder), folder.path("run"), epochs: 2000)
        var attributes = posix_spawnattr_t(), actions = posix_spawn_file_actions_t()
        posix_spawnattr_init(&attributes); posix_spawn_file_actions_init(&actions)
        defer { posix_spawnattr_destroy(&attributes); posix_spawn_file_actions_destroy(&actions) }
        var defaults = sigset_t()
        sigemptyset(&defaults); sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let log = folder.path("log.txt")
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // SIGQUIT dumps core: none (the soft limit is inherited; the runner's is put back after the spawn).
        let core = __rlimit_resource_t(RLIMIT_CORE.rawValue)
        var limit = rlimit(), noCore = rlimit()
        getrlimit(core, &limit)
        noCore = rlimit(rlim_cur: 0, rlim_max: limit.rlim_max)
        setrlimit(core, &noCore)
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, cli.binary.path, &actions, &attributes, argv, environ) == 0)
        setrlimit(core, &limit)
        waitForFile(folder.path("run/checkpoint.safetensors"))
        kill(pid, SIGQUIT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status & 0x7f == SIGQUIT && !output.contains("crashed"), "status \(status): \(output.suffix(500))")
    }

    /// A process started with SIGINT ignored (a script's background job, `nohup`) keeps ignoring
    /// it, as shells mean: the run goes on to its last epoch.
    @Test func anIgnoredInterruptStaysIgnored() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let epochs = 6
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' INT; exec \"$0\" \"$@\"", cli.binary.path] + train(try phantom(folder), folder.path("run"), epochs: epochs)
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        waitForFile(folder.path("run/checkpoint.safetensors"), while: { process.isRunning })
        process.interrupt()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && !output.contains("--resume"), "\(output)")
        #expect(try historyWithoutTimings(folder.path("run/history.csv")).count == epochs + 1)
    }

    /// Ctrl-C after the first saved epoch, then --resume, gives the same weights and history as one
    /// run. The resumed half keeps no samples in memory (`--cache-mb 0`: each batch read from its
    /// files), which must not change the result either.
    @Test func interruptAndResumeEqualsOneRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let epochs = 40  // long enough that the signal lands mid-run
        let whole = try cli.run(train(manifest, folder.path("whole"), epochs: epochs))
        #expect(whole.status == 0, "\(whole.output)")

        let (process, pipe) = try cli.start(train(manifest, folder.path("cut"), epochs: epochs))
        let checkpoint = folder.path("cut/checkpoint.safetensors")
        waitForFile(checkpoint, while: { process.isRunning })
        process.interrupt()  // SIGINT, as Ctrl-C
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(output)")  // 128 + SIGINT
        // The hint gives the thread count the run was given: another would make the epochs from here differ slightly.
        #expect(output.contains("compseg train --resume \(folder.path("cut")) --threads 2"), "\(output)")
        let resumed = try cli.run(["train", "--resume", folder.path("cut"), "--threads", "2", "--cache-mb", "0"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let a = try Data(contentsOf: URL(fileURLWithPath: folder.path("whole/weights.safetensors")))
        let b = try Data(contentsOf: URL(fileURLWithPath: folder.path("cut/weights.safetensors")))
        #expect(a == b, "weights.safetensors differs between the interrupted-and-resumed run and one run")
        // Seconds and images/s differ between runs; losses and AUC must not.
        #expect(try historyWithoutTimings(folder.path("whole/history.csv")) == historyWithoutTimings(folder.path("cut/history.csv")))
    }

    @Test func badManifestListsEveryBadRow() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data("path,label,split\nmissing.h5,1,train\nother.h5,maybe,train\n".utf8)  // 3 problems
            .write(to: URL(fileURLWithPath: folder.path("bad.csv")))
        let r = try cli.run(train(folder.path("bad.csv"), folder.path("run")))
        #expect(r.status != 0)
        #expect(r.output.contains("3 problems"), "\(r.output)")
        #expect(r.output.contains("line 2: image file missing.h5 not found"), "\(r.output)")
        #expect(r.output.contains("line 3: label 'maybe'"), "\(r.output)")
    }

    @Test func missingRunIsNamed() throws {
        let r = try cli.run(["segment", "--model", "/nonexistent/run", "--out", "/tmp/x", "a.h5"])
        #expect(r.status != 0)
        #expect(r.output.contains("/nonexistent/run/model.json: not found"), "\(r.output)")
    }

    /// Files store their wavenumbers either way: a spot written with its axis reversed segments to
    /// the same map as the original, whether PCA (infrared.yaml) or the network (ftir, the reader
    /// alone) takes the bands by position; a spot on another axis is refused, naming it.
    @Test func spectralAxisEitherWay() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let original = try HDF5File(url: URL(fileURLWithPath: folder.path("data/spot004.h5")))
        let (shape, cube) = try original.readFloats("/spectra"), axis = try original.readFloats("/wavenumbers").values
        let mask = try original.readFloats("/mask")
        func write(_ name: String, bands: (Int) -> Int, axis: [Float]) throws {
            let (plane, b) = (shape[0] * shape[1], shape[2])
            let writer = try HDF5Writer(url: URL(fileURLWithPath: folder.path(name)))
            try writer.write("/spectra", shape: shape, values: (0..<(plane * b)).map { cube[($0 / b) * b + bands($0 % b)] })
            try writer.write("/wavenumbers", shape: [b], values: axis)
            try writer.write("/mask", shape: mask.shape, values: mask.values)
            try writer.close()
        }
        try write("reversed.h5", bands: { shape[2] - 1 - $0 }, axis: axis.reversed())
        try write("shifted.h5", bands: { $0 }, axis: axis.map { $0 - 300 })
        // A Savitzky–Golay derivative changes sign with the axis' direction: files are turned before any step.
        try Data("reader: infrared\npreprocessing:\n  - savitzkyGolay: {window: 5, order: 2, derivative: 1}\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("derivative.yaml")))
        for modality in ["infrared", "ftir", folder.path("derivative.yaml")] {
            let name = URL(fileURLWithPath: modality).deletingPathExtension().lastPathComponent
            let run = folder.path("run-\(name)")
            let args = train(manifest, run, epochs: 1).map { $0 == "infrared" ? modality : $0 }
            let trained = try cli.run(args)
            #expect(trained.status == 0)
            #expect(trained.output.contains("note: --modality ftir is the infrared reader alone, with its defaults: modalities/"
                                            + "infrared.yaml's options and preprocessing (crop, normalize, pca) do not apply") == (name == "ftir"),
                    "\(trained.output)")
            let model = try String(contentsOfFile: run + "/model.json", encoding: .utf8)
            #expect(model.contains("\"inputAxis\" : {") && model.contains(name == "infrared" ? "\"PC16\"" : "\"spectral\" : [")
                        && model.contains("\"descendingAxis\" : true"), "\(name)")
            let out = folder.path("seg-\(name)")
            let segmented = try cli.run(["segment", "--model", run, "--out", out, folder.path("data/spot004.h5"), folder.path("reversed.h5")])
            #expect(segmented.status == 0, "\(segmented.output)")
            let maps = try ["spot004", "reversed"].map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0)_map.tif")) }
            #expect(maps[0] == maps[1], "\(name): the reversed file's map differs")
            let other = try cli.run(["segment", "--model", run, "--out", folder.path("other-\(name)"), folder.path("shifted.h5")])
            #expect(other.status != 0 && other.output.contains("sample shifted: its channels (")
                        && other.output.contains(name == "infrared" ? "'pca' was fitted on" : "the network was trained on"), "\(other.output)")
        }
        // Training files stored either way train as one order; one on another axis is refused, naming the row.
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        let spot = lines.first { $0.hasPrefix("spot004.h5,") }!.split(separator: ",", omittingEmptySubsequences: false)
        func row(_ path: String) -> String {
            ([path] + spot.dropFirst().map(String.init)).joined(separator: ",").replacingOccurrences(of: ",test", with: ",train")
        }
        let mixed = lines + [row("../reversed.h5")]
        try Data((mixed.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/mixed.csv")))
        let trained = try cli.run(train(folder.path("data/mixed.csv"), folder.path("mixed"), epochs: 1).map { $0 == "infrared" ? "ftir" : $0 })
        #expect(trained.status == 0, "\(trained.output)")
        let others = lines + [row("../shifted.h5")]
        try Data((others.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/others.csv")))
        let refused = try cli.run(train(folder.path("data/others.csv"), folder.path("others"), epochs: 1).map { $0 == "infrared" ? "ftir" : $0 })
        #expect(refused.status != 0 && refused.output.contains("line \(others.count): shifted's channels (40 bands, 1500–648 cm⁻¹)"),
                "\(refused.output)")
        // Through infrared.yaml, 'pca' refuses it while fitted: named by its line too.
        let refusedByPCA = try cli.run(train(folder.path("data/others.csv"), folder.path("others-pca"), epochs: 1))
        #expect(refusedByPCA.status != 0 && refusedByPCA.output.contains("line \(others.count): sample shifted: "), "\(refusedByPCA.output)")
    }
}

/// Waits (at most 2 minutes) until `path` exists, or `running` turns false.
func waitForFile(_ path: String, while running: () -> Bool = { true }) {
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: path) && Date() < deadline && running() { Thread.sleep(forTimeInterval: 0.005) }
}

extension EndToEndTests {
    /// A manifest's `mask` column replaces the modality's tissue mask; a mask of the wrong size is named.
    @Test func maskColumnOverridesTissue() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        let withMask = ["path,label,split,mask"] + lines.dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return "\(f[0]),\(f[1]),\(f[2]),\(f[3])"  // the truth PNG as tissue: empty for cancer-free spots
        }
        try Data((withMask.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/masked.csv")))
        let r = try cli.run(train(folder.path("data/masked.csv"), folder.path("run"), epochs: 1))
        // Cancer-free spots now have no tissue at all: refused before training, naming each sample.
        #expect(r.status != 0 && r.output.contains("line 7: sample spot005 has an empty tissue mask"), "\(r.output)")
        #expect(r.output.contains("3 problems"), "\(r.output)")  // the cancer-free spots 5 and 7 (train) and 3 (val)

        // Applying a run: evaluate refuses a sample without tissue (its Dice and tumor fraction
        // would be of nothing). segment and overlay take it (a blank core among new samples):
        // its mask is empty, its fraction blank, and a warning names it; the others are as usual.
        #expect(try cli.run(train(manifest, folder.path("trained"), epochs: 1)).status == 0)
        let apply = ["--model", folder.path("trained"), "--data", folder.path("data/masked.csv")]
        let evaluate = try cli.run(["evaluate", "--split", "all"] + apply + ["--out", folder.path("e1")])
        #expect(evaluate.status != 0 && evaluate.output.contains("sample spot001 has an empty tissue mask"), "\(evaluate.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("e1")), "a failed evaluate leaves no folder it made")
        let segment = try cli.run(["segment"] + apply + ["--out", folder.path("s1")])
        #expect(segment.status == 0 && segment.output.contains("warning: no tissue in 4 samples (spot001, spot003, spot005, spot007): "
                                                               + "their masks are empty, and their tumor fractions in segmentation.csv are blank"),
                "\(segment.output)")
        let csv = try String(contentsOfFile: folder.path("s1/segmentation.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 9 && csv[0] == "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path,unfamiliar_input,"
                    + "pixel_width_um,pixel_height_um,tissue_area_mm2,tumor_area_mm2,patient", "\(csv)")
        // No tissue: nothing to check (blank); the run's own data: familiar (no).
        #expect(csv.contains { $0.hasPrefix("spot001,cancer-free,0,0,,0.") && $0.hasSuffix(",\(folder.path("data/spot001.h5")),,5.5,5.5,0.0,0.0,") }
                    && csv.contains { $0.hasPrefix("spot002,cancer,50,") && $0.contains(",\(folder.path("data/spot002.h5")),no,5.5,5.5,") }, "\(csv)")
        let blankMask = try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("s1/spot001_mask.png")))
        #expect(blankMask.pixels.allSatisfy { $0 == 0 })
        let overlay = try cli.run(["overlay"] + apply + ["--out", folder.path("o1")])
        #expect(overlay.status == 0 && overlay.output.contains("warning: no tissue in 4 samples")
                    && overlay.output.contains("segmentation.csv are blank"), "\(overlay.output)")
        // Truth outside the tissue mask counts as missed, and evaluate says so.
        try PNGImage(width: 24, height: 24, channels: 1, pixels: (0..<576).map { $0 < 288 ? 255 : 0 })
            .write(to: URL(fileURLWithPath: folder.path("data/top.png")))
        let halved = ["path,label,split,mask,truth"] + lines.dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return "\(f[0]),\(f[1]),\(f[2]),top.png,\(f[3])"
        }
        try Data((halved.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/halved.csv")))
        let outside = try cli.run(["evaluate", "--split", "all", "--model", folder.path("trained"), "--data", folder.path("data/halved.csv"),
                                   "--out", folder.path("e3")])
        #expect(outside.status == 0 && outside.output.contains("true tumor lies outside the tissue mask, where the masks cannot mark it, "
                                                               + "so Dice and the other pixel measures count it as missed"), "\(outside.output)")
        let outsideSummary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("e3/summary.json")))) as? [String: Any]
        #expect((outsideSummary?["truth_pixels_outside_tissue"] as? Int ?? 0) > 0, "\(String(describing: outsideSummary))")
        // The note's share is the summary's: of all true tumor pixels.
        let (left, truthTotal) = (outsideSummary?["truth_pixels_outside_tissue"] as? Int ?? -1, outsideSummary?["truth_pixels"] as? Int ?? -1)
        #expect(outside.output.contains("missed: \(left) of the \(truthTotal) true tumor pixels ("), "\(outside.output)")
        #expect(try String(contentsOfFile: folder.path("e3/report.html"), encoding: .utf8).contains("True tumor outside tissue"))
        let wrongTruth = ["path,label,split,truth"] + lines.dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return "\(f[0]),\(f[1]),\(f[2]),\(["spot001", "spot004"].contains { f[0].hasPrefix($0) } ? f[0] : f[3])"
        }
        try Data((wrongTruth.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/truth.csv")))
        let bad = try cli.run(["evaluate", "--split", "all", "--model", folder.path("trained"), "--data", folder.path("data/truth.csv"),
                               "--out", folder.path("e2")])
        #expect(bad.status != 0 && bad.output.contains("truth.csv: 2 problems") && bad.output.contains("line 3: its truth is the sample's own image")
                    && bad.output.contains("line 6: its truth") && !bad.output.contains("Segmented"), "\(bad.output)")
    }
}

extension EndToEndTests {
    /// `compseg demo`, tiny: its report embeds every figure (the run's training curves among them)
    /// and nothing it would have to fetch.
    @Test func demoReport() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let demo = try cli.run(["demo", "--out", folder.path("demo"), "--spots", "10", "--size", "16", "--components", "4",
                                "--width", "4", "--depth", "2", "--epochs", "2", "--batch", "2", "--threads", "2"])
        #expect(demo.status == 0, "\(demo.output)")
        for file in ["report.html", "roc.svg", "fractions.svg", "thresholds.svg", "run/curves.png", "run/curves.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("demo/\(file)")), "\(file)")
        }
        let report = try String(contentsOfFile: folder.path("demo/report.html"), encoding: .utf8)
        #expect(report.contains("held-out test spots of"), "the title says which spots are scored")
        let svgs = ReportChecks.checkImages(report)
        #expect(svgs.contains { $0.contains("training loss") && $0.contains("best epoch") })
        #expect(report.contains("it was chosen on the 2 validation samples after training by the best mean Dice"))
        // Its summary says where its numbers come from, as evaluate's does.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("demo/summary.json"))))
            as? [String: Any] ?? [:]
        #expect(summary["model"] as? String == folder.path("demo/run") && summary["split"] as? String == "test"
                    && (summary["data"] as? String)?.hasSuffix("made in memory") == true
                    && (summary["threshold_origin"] as? String)?.hasPrefix("chosen on the ") == true, "\(summary)")
        // And which network: the compseg, and the epoch and checksum of the weights it kept; the report's last line says the same.
        let epoch = summary["weights_epoch"] as? Int, checksum = summary["weights_checksum"] as? String
        #expect(summary["compseg_version"] as? String == "0.1.0" && epoch != nil && checksum?.count == 16, "\(summary)")
        #expect(report.contains("Written by compseg 0.1.0; the network's weights: epoch \(epoch ?? 0), checksum \(checksum ?? "")"))
    }

    /// One demo writes into a folder at a time: a second, even with --force, is refused (exit 75)
    /// before it removes anything of the first's.
    @Test func aDemoHoldsItsFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let tiny = ["--spots", "10", "--size", "16", "--components", "4", "--width", "4", "--depth", "2", "--threads", "1"]
        let first = try cli.start(["demo", "--out", folder.path("demo"), "--epochs", "100000"] + tiny)
        first.pipe.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
        defer { first.process.terminate(); first.process.waitUntilExit() }
        var waited = 0
        while waited < 600, !FileManager.default.fileExists(atPath: folder.path("demo/run/history.csv")) { usleep(100_000); waited += 1 }
        let second = try cli.run(["demo", "--out", folder.path("demo"), "--force", "--epochs", "1"] + tiny)
        #expect(second.status == 75 && second.output.contains("is working in this folder now"), "\(second.output)")
        #expect(first.process.isRunning && FileManager.default.fileExists(atPath: folder.path("demo/demo.json")))
        let stamp = try String(contentsOfFile: folder.path("demo/demo.json"), encoding: .utf8)
        #expect(stamp.contains("100000") && !stamp.contains("--force"), "the first demo's record stays: \(stamp)")
    }

    /// The demo checks its test maps for dotted masks as evaluate does (these settings give three),
    /// and its summary lists the warning.
    @Test func demoWarnsOfDottedMasks() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let demo = try cli.run(["demo", "--out", folder.path("demo"), "--spots", "30", "--size", "32", "--epochs", "12", "--width", "8",
                                "--depth", "2", "--threads", "1"])
        #expect(demo.status == 0 && demo.output.contains("follow a period-2 grid in 3 samples (spot000, spot002, spot004)"), "\(demo.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("demo/summary.json"))))
            as? [String: Any] ?? [:]
        #expect((summary["warnings"] as? [String])?.contains { $0.contains("period-2 grid") } == true, "\(summary)")
    }

    @Test func compareAndOverlay() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        let compared = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,segnet",
                                    "--out", folder.path("cmp"), "--epochs", "2", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(compared.status == 0, "\(compared.output)")
        let table = try String(contentsOfFile: folder.path("cmp/comparison.csv"), encoding: .utf8).split(separator: "\n")
        #expect(table.count == 3 && table[1].hasPrefix("unet,") && table[2].hasPrefix("segnet,"), "\(table)")
        #expect(table[0].hasSuffix(",collapsed_epochs,epochs,kept_epoch_collapsed,head,head_configuration,configuration,test_patients,patient_auc,patient_auc_low,patient_auc_high")
                    && table[0].contains(",images_per_s,kept_epoch,val_loss,") && table[0].contains(",dice_sd,cancer_free_fraction_mean,test_cancer,")
                    && table[1].contains(",compsegnet,\"{") && table[1].contains("\"\"width\"\":4"), "\(table)")
        // The head the runs were trained with, and each topology's width and depth, beside the numbers.
        let markdown = try String(contentsOfFile: folder.path("cmp/comparison.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("Trained with head compsegnet {\"alpha\":0.1,") && markdown.contains("| unet | width 4, depth 2, activation softplus, batchNorm false, "),
                "\(markdown)")
        for file in ["comparison.md", "report.html", "roc.png", "roc.svg", "unet/weights.safetensors", "segnet/model.json",
                     "unet/curves.png", "segnet/curves.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("cmp/\(file)")), "\(file)")
        }
        let comparison = try String(contentsOfFile: folder.path("cmp/report.html"), encoding: .utf8)
        let svgs = ReportChecks.checkImages(comparison)
        // The AUC tile tests the lead by DeLong's paired test where it can be made; else it speaks
        // of the table's intervals only where a row has one.
        let paired = comparison.contains("DeLong's paired test on the same test samples gives p")
        #expect([paired, comparison.contains("a lead within the rows' 95% intervals (table) is no finding"),
                  comparison.contains("no row has a 95% interval")].filter { $0 }.count == 1, "\(comparison)")
        // Every warning the terminal saw is in the report; without any, there is no list.
        let warned = compared.output.split(separator: "\n").filter { $0.hasPrefix("warning: ") }.map { $0.dropFirst("warning: ".count) }
        #expect(comparison.contains("<ul class=\"warnings\">") == !warned.isEmpty)
        for w in warned {
            let escaped = [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\"", "&quot;")]
                .reduce(String(w)) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            #expect(comparison.contains("<li>\(escaped)</li>"), "\(w)")
        }
        // One ROC with both topologies, and training curves per topology.
        #expect(svgs.contains { $0.contains("unet AUC") && $0.contains("segnet AUC") })
        #expect(svgs.filter { $0.contains("training loss") }.count == 2)
        #expect(comparison.contains("id=\"topology-unet\"") && comparison.contains("id=\"topology-segnet\""))
        // Each topology's cards have anchors of their own, and its table links to them.
        #expect(comparison.components(separatedBy: "class=\"legendrow\"").count == 3, "a colour legend above each topology's cards")
        for file in ["unet/test/fractions.png", "segnet/test/fractions.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("cmp/\(file)")), "\(file)")
        }
        #expect(comparison.contains("id=\"unet-spot000\"") && comparison.contains("id=\"segnet-spot000\"")
                    && comparison.contains("href=\"#segnet-spot000\"") && !comparison.contains("id=\"spot000\""))
        // Its runs record what train's do.
        let segnet = try String(contentsOfFile: folder.path("cmp/segnet/model.json"), encoding: .utf8)
        #expect(segnet.contains("\"oneDNN\" :") && segnet.contains("\"device\" : \"cpu (oneDNN ") && segnet.contains("fp32"), "\(segnet)")
        // A test split of cancer samples alone has no ROC: none is drawn, as evaluate draws none.
        let manifestLines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n")
        let header = manifestLines[0].split(separator: ",", omittingEmptySubsequences: false)
        let (label, split) = (header.firstIndex(of: "label")!, header.firstIndex(of: "split")!)
        let cancerTests = manifestLines.filter { row in
            let f = row.split(separator: ",", omittingEmptySubsequences: false)
            return f[split] != "test" || f[label] == "1"
        }
        let cancerManifest = URL(fileURLWithPath: manifest).deletingLastPathComponent().appendingPathComponent("cancer-tests.csv").path
        try Data(cancerTests.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: cancerManifest))
        let oneClass = try cli.run(["compare", "--data", cancerManifest, "--modality", "infrared", "--topologies", "unet",
                                    "--out", folder.path("cmp1"), "--epochs", "1", "--width", "4", "--depth", "1", "--batch", "2"])
        #expect(oneClass.status == 0 && !FileManager.default.fileExists(atPath: folder.path("cmp1/roc.png"))
                    && !FileManager.default.fileExists(atPath: folder.path("cmp1/roc.svg")), "\(oneClass.output)")
        let oneClassReport = try String(contentsOfFile: folder.path("cmp1/report.html"), encoding: .utf8)
        #expect(!oneClassReport.contains("ROC of the tumor fraction")
                    && ReportChecks.checkImages(oneClassReport).contains { $0.contains("training loss") })
        let unknown = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet,resnet",
                                   "--out", folder.path("cmp2")])
        #expect(unknown.status != 0 && unknown.output.contains("--topologies resnet: unknown topology 'resnet'; known: segnet, unet"),
                "\(unknown.output)")
        // Every unknown name at once, each once: the modality's reader and steps, topologies, a shared head.
        try Data("reader: greyscale-png\npreprocessing: [standardize, smooth-lab]\n".utf8).write(to: URL(fileURLWithPath: folder.path("lab.yaml")))
        let unknowns = try cli.run(["compare", "--data", manifest, "--modality", folder.path("lab.yaml"), "--topologies", "segnt,tiny-fcn",
                                    "--head", "power-mean", "--out", folder.path("cmp2")])
        #expect(unknowns.status == 1 && unknowns.output.contains("""
            Error: 5 problems:
              \(folder.path("lab.yaml")): key 'reader': unknown modality 'greyscale-png'; known: he, infrared, raman
              \(folder.path("lab.yaml")): preprocessing step 2: unknown preprocessing step 'smooth-lab'; known: airpls,
            """) && unknowns.output.contains("""
              --topologies segnt: unknown topology 'segnt'; did you mean 'segnet'? known: segnet, unet
              --head power-mean: unknown pooling head 'power-mean'; known: compsegnet, lse, size, topk, trapezoid
              --topologies tiny-fcn: unknown topology 'tiny-fcn'; known: segnet, unet
            """), "\(unknowns.output)")
        let trainUnknowns = try cli.run(["train", "--data", manifest, "--modality", folder.path("lab.yaml"), "--topology", "tiny-fcn",
                                         "--head", "power-mean", "--out", folder.path("run2")])
        #expect(trainUnknowns.status == 1 && trainUnknowns.output.contains("Error: 4 problems:\n  \(folder.path("lab.yaml")): key 'reader'")
                    && trainUnknowns.output.contains("  --head: unknown pooling head 'power-mean'; known: compsegnet")
                    && trainUnknowns.output.contains("  --topology: unknown topology 'tiny-fcn'; known: segnet, unet"), "\(trainUnknowns.output)")

        // --config: two configurations of one topology, side by side.
        try Data("""
            topologies:
              - {name: unet-bn, topology: unet, configuration: {width: 4, depth: 2, batchNorm: true}}
              - {name: unet-plain, topology: unet, configuration: {width: 4, depth: 2, batchNorm: false}}
            """.utf8).write(to: URL(fileURLWithPath: folder.path("pair.yaml")))
        let pair = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--config", folder.path("pair.yaml"),
                                "--out", folder.path("pair"), "--epochs", "1", "--batch", "2"])
        #expect(pair.status == 0, "\(pair.output)")
        let rows = try String(contentsOfFile: folder.path("pair/comparison.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[1].hasPrefix("unet-bn,") && rows[2].hasPrefix("unet-plain,"), "\(rows)")
        let pairTable = try String(contentsOfFile: folder.path("pair/comparison.md"), encoding: .utf8)
        // Entries named apart from their topology: an entry column, and the topology beside it (table and CSV).
        #expect(pairTable.contains("| entry | topology | configuration |") && pairTable.contains("| unet-bn | unet | width 4, depth 2, batchNorm true |")
                    && pairTable.contains("| unet-plain | unet | width 4, depth 2, batchNorm false |"), "\(pairTable)")
        #expect(rows[0].hasPrefix("name,topology,seed,parameters,") && rows[1].hasPrefix("unet-bn,unet,0,"), "\(rows)")
        // A topology named as it is registered; without a validation split no val loss is shown, and the
        // threshold auto could not choose is noted.
        let noVal = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: ",val,", with: ",train,")
        try Data(noVal.utf8).write(to: URL(fileURLWithPath: folder.path("data/noval.csv")))
        let unvalidated = try cli.run(["compare", "--data", folder.path("data/noval.csv"), "--modality", "infrared", "--topologies", "UNet",
                                       "--out", folder.path("noval"), "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(unvalidated.status == 0, "\(unvalidated.output)")
        let noValRows = try String(contentsOfFile: folder.path("noval/comparison.csv"), encoding: .utf8).split(separator: "\n")
        #expect(noValRows.count == 2 && noValRows[1].hasPrefix("unet,unet,") && noValRows[1].split(separator: ",", omittingEmptySubsequences: false)[7] == "",
                "\(noValRows)")
        let noValTable = try String(contentsOfFile: folder.path("noval/comparison.md"), encoding: .utf8)
        #expect(noValTable.contains("| unet | width 4, depth 2 |") && noValTable.contains("| 1 | – | 0.35 |")
                    && noValTable.contains("threshold 0.35: no validation split to choose one on |"), "\(noValTable)")
        // A threshold given applies to the table, not the runs: said once it is printed.
        let given = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet", "--threshold", "0.3",
                                 "--out", folder.path("given"), "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(given.status == 0 && given.output.contains("The table applies --threshold 0.3 to every entry; each run's model.json keeps "
                                                           + "the threshold its validation split chose"), "\(given.output)")
        // --seeds: a run per entry and seed, and each entry's mean ± sd over them.
        let seeded = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--topologies", "unet", "--seeds", "0,1",
                                  "--out", folder.path("seeds"), "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(seeded.status == 0 && seeded.output.contains("Over the seeds 0, 1 (each run's test AUC and mean Dice"), "\(seeded.output)")
        for run in ["unet-seed0", "unet-seed1"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("seeds/\(run)/weights.safetensors")), "\(run)")
        }
        let seedRows = try String(contentsOfFile: folder.path("seeds/comparison.csv"), encoding: .utf8).split(separator: "\n")
        #expect(seedRows.count == 3 && seedRows[1].hasPrefix("unet-seed0,unet,0,") && seedRows[2].hasPrefix("unet-seed1,unet,1,"), "\(seedRows)")
        let overSeeds = try String(contentsOfFile: folder.path("seeds/comparison-seeds.csv"), encoding: .utf8).split(separator: "\n")
        #expect(overSeeds.count == 2 && overSeeds[0] == "name,topology,seeds,test_auc_mean,test_auc_sd,dice_mean,dice_sd,cancer_free_fraction_mean,"
                    + "cancer_free_fraction_sd,runs_collapsed,runs_kept_epoch_collapsed,runs_marking_most_cancer_free_tissue"
                    && overSeeds[1].hasPrefix("unet,unet,0 1,"), "\(overSeeds)")
        // Unrounded, so that the mean over seeds is the mean of the runs' numbers as written.
        let runDice = seedRows.dropFirst().map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[12]) }
        let meanDice = Double(overSeeds[1].split(separator: ",", omittingEmptySubsequences: false)[5])
        #expect(runDice.allSatisfy { $0 != nil } && meanDice == (runDice[0]! + runDice[1]!) / 2, "\(seedRows) \(overSeeds)")
        let seedTable = try String(contentsOfFile: folder.path("seeds/comparison.md"), encoding: .utf8)
        #expect(seedTable.contains("| run | seed | configuration |") && seedTable.contains("| unet-seed0 | 0 | width 4, depth 2 |")
                    && seedTable.contains("| cancer-free marked mean ± sd | runs that collapsed (kept epoch) | runs marking most cancer-free tissue |"),
                "\(seedTable)")
        let seedModel = try String(contentsOfFile: folder.path("seeds/unet-seed1/model.json"), encoding: .utf8)
        #expect(seedModel.contains("\"seed\" : 1"), "\(seedModel)")
        #expect(try String(contentsOfFile: folder.path("seeds/report.html"), encoding: .utf8).contains("<h2>Over the seeds 0, 1</h2>"))
        for (seeds, message) in [("0,0", "--seeds names a seed twice"), ("0,x", "--seeds must be whole numbers"), ("1", "either --seed or --seeds")] {
            let refused = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--seeds", seeds, "--out", folder.path("no")]
                                      + (seeds == "1" ? ["--seed", "2"] : []))
            #expect(refused.status != 0 && refused.output.contains(message), "\(refused.output)")
        }
        // --width and --depth fill in what an entry's configuration leaves out (its own depth stays).
        try Data("topologies: [{name: bn, topology: unet, configuration: {batchNorm: true, depth: 2}}, segnet]\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("own.yaml")))
        let own = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--config", folder.path("own.yaml"),
                               "--out", folder.path("own"), "--width", "4", "--epochs", "1", "--batch", "2"])
        let ownTable = (try? String(contentsOfFile: folder.path("own/comparison.md"), encoding: .utf8)) ?? ""
        #expect(own.status == 0 && ownTable.contains("| bn | unet | width 4, depth 2, ") && ownTable.contains("| segnet | segnet | width 4, depth 3, "),
                "\(own.output)\n\(ownTable)")
        #expect(try String(contentsOfFile: folder.path("own/bn/model.json"), encoding: .utf8).contains("\"batchNorm\" : true"))
        // Resumed with another --width, an entry whose configuration leaves width out goes on at its run's, said.
        try Data("topologies: [{name: bn, topology: unet, configuration: {batchNorm: true, depth: 2}}]\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("solo.yaml")))
        let solo = ["compare", "--data", manifest, "--modality", "infrared", "--config", folder.path("solo.yaml"), "--out", folder.path("solo"),
                    "--epochs", "1", "--batch", "2"]
        #expect(try cli.run(solo + ["--width", "4"]).status == 0)
        let widened = try cli.run(solo + ["--width", "8", "--resume"])
        #expect(widened.status == 0 && widened.output.contains("Note: bn goes on at its run's width 4: its configuration leaves it out, "
                                                               + "and --width and --depth fill in only for a new run"), "\(widened.output)")
        let plain = try String(contentsOfFile: folder.path("pair/unet-plain/model.json"), encoding: .utf8)
        #expect(plain.contains("batchNorm") && plain.contains("false"), "\(plain)")
        // Heads side by side: each entry's own, a head column, each row's threshold chosen on validation.
        try Data("""
            topologies:
              - {name: paper, topology: unet, configuration: {width: 4, depth: 2}}
              - {name: topk, topology: unet, configuration: {width: 4, depth: 2}, head: topk, headConfiguration: {fraction: 0.2}}
            """.utf8).write(to: URL(fileURLWithPath: folder.path("heads.yaml")))
        let heads = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--config", folder.path("heads.yaml"),
                                 "--out", folder.path("heads"), "--epochs", "1", "--batch", "2", "--threshold", "auto"])
        #expect(heads.status == 0, "\(heads.output)")
        let headsTable = try String(contentsOfFile: folder.path("heads/comparison.md"), encoding: .utf8)
        #expect(headsTable.contains("Trained with the head in each row") && headsTable.contains("| entry | topology | configuration | head |")
                    && headsTable.contains("| threshold |") && headsTable.contains("| topk | unet | width 4, depth 2 | topk {"), "\(headsTable)")
        let topk = try String(contentsOfFile: folder.path("heads/topk/model.json"), encoding: .utf8)
        #expect(topk.contains("\"identifier\" : \"topk\"") && topk.contains("0.2"), "\(topk)")
        #expect(try String(contentsOfFile: folder.path("heads/report.html"), encoding: .utf8).contains("each row's was chosen on the validation split"))
        // Bad entries fail before any training, naming the file and the entry.
        for (text, message) in [
            ("topologies: [unet, unet]", "repeated: unet"),
            ("topologies: [{topology: unet, depht: 2}]", "topologies entry 1: unknown key 'depht'"),
            ("topologies: [{topology: unet, depht: 2}, {name: a/b, topology: segnet}]",
             "2 problems:\n  \(folder.path("bad.yaml")): topologies entry 1: unknown key 'depht'; known keys: configuration, head, headConfiguration, name, topology\n"
                + "  \(folder.path("bad.yaml")): topologies entry 2: 'name' must be a folder name"),
            ("topologies: [segnet, {name: u, topology: unet, configuration: {widht: 4}}]",
             "bad.yaml: topologies entry 2 (u): unknown key 'widht'"),
            ("topologies: [{name: a, topology: unet, depht: 2}, {name: b, topology: unett}, {name: b, topology: segnet}]",
             "3 problems:\n  \(folder.path("bad.yaml")): topologies entry 1: unknown key 'depht'; known keys: configuration, head, "
                + "headConfiguration, name, topology\n  \(folder.path("bad.yaml")): names must differ (each is a run folder); repeated: b; "
                + "give entries a 'name'\n  \(folder.path("bad.yaml")): topologies entry 2 (b): unknown topology 'unett'"),
            ("topologies: [unett, {name: u, topology: unet, configuration: {widht: 4}}]",  // every entry's problem at once
             "2 problems:\n  \(folder.path("bad.yaml")): topologies entry 1 (unett): unknown topology 'unett'; did you mean 'unet'? known: segnet, unet\n"
                + "  \(folder.path("bad.yaml")): topologies entry 2 (u): unknown key 'widht'"),
        ] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder.path("bad.yaml")))
            let bad = try cli.run(["compare", "--data", manifest, "--modality", "infrared", "--config", folder.path("bad.yaml"),
                                   "--out", folder.path("bad")])
            #expect(bad.status != 0 && bad.output.contains(message), "\(bad.output)")
            #expect(!FileManager.default.fileExists(atPath: folder.path("bad")))
        }

        let overlaid = try cli.run(["overlay", "--model", folder.path("cmp/unet"), "--data", manifest, "--out", folder.path("ov"),
                                    "--colour", "#00ff00", "--opacity", "0.5"])
        #expect(overlaid.status == 0, "\(overlaid.output)")
        for suffix in ["_overlay.png", "_contour.png", "_heatmap.png", "_label.png", "_panel.png", "_mask.png"] {
            #expect(FileManager.default.fileExists(atPath: folder.path("ov/spot000\(suffix)")), "\(suffix)")
        }
        // --opacity's earlier name still draws the same, with a warning; both at once are refused.
        let earlier = try cli.run(["overlay", "--model", folder.path("cmp/unet"), "--data", manifest, "--out", folder.path("ov3"),
                                   "--colour", "#00ff00", "--alpha", "0.5"])
        #expect(earlier.status == 0 && earlier.output.contains("--alpha is now --opacity"), "\(earlier.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("ov3/spot000_overlay.png")))
                    == Data(contentsOf: URL(fileURLWithPath: folder.path("ov/spot000_overlay.png"))))
        let both = try cli.run(["overlay", "--model", folder.path("cmp/unet"), "--data", manifest, "--out", folder.path("ov4"),
                                "--alpha", "0.5", "--opacity", "0.4"])
        #expect(both.status == 64 && both.output.contains("--alpha is --opacity's earlier name: give one of them"), "\(both.output)")
        let badColour = try cli.run(["overlay", "--model", folder.path("cmp/unet"), "--data", manifest, "--out", folder.path("ov2"),
                                     "--colour", "green"])
        #expect(badColour.status != 0 && badColour.output.contains("six hex digits"), "\(badColour.output)")
    }
}

extension EndToEndTests {
    /// Data that does not fit the run (another channel count, as from another modality or crop)
    /// and a manifest naming a missing truth file are refused with messages that say so.
    @Test func dataThatDoesNotFitTheRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)  // 40 bands
        #expect(try cli.run(train(manifest, folder.path("run"), epochs: 1)).status == 0)
        let other = try cli.run(["phantom", "--spots", "4", "--size", "24", "--bands", "30", "--out", folder.path("other")])
        #expect(other.status == 0)
        let r = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("other/manifest.csv"),
                             "--out", folder.path("eval"), "--split", "all"])
        #expect(r.status != 0 && r.output.contains("its channels (30 bands, 1800–948 cm⁻¹) are not those 'pca' was fitted on (40 bands, 1800–948 cm⁻¹)"), "\(r.output)")
        // Training and validation samples may differ in size (batches pad them); test rows too, for compare.
        let small = try cli.run(["phantom", "--spots", "4", "--size", "16", "--bands", "40", "--out", folder.path("data/small")])
        #expect(small.status == 0)
        let base = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
        let sizes = base + ["small/spot000.h5,1,train,", "small/spot001.h5,0,val,", "small/spot002.h5,1,test,small/spot002_truth.png"]
        try Data((sizes.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/sizes.csv")))
        let mixed = try cli.run(train(folder.path("data/sizes.csv"), folder.path("sizes"), epochs: 1))
        #expect(mixed.status == 0 && mixed.output.contains("Note: the samples differ in height and width; each batch pads"), "\(mixed.output)")
        let comparedSizes = try cli.run(["compare", "--data", folder.path("data/sizes.csv"), "--modality", "infrared", "--topologies", "unet",
                                         "--out", folder.path("sizes-cmp"), "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(comparedSizes.status == 0, "\(comparedSizes.output)")
        // Channels must agree: a sample with other bands is named by its line.
        let fewer = try cli.run(["phantom", "--spots", "2", "--size", "24", "--bands", "30", "--out", folder.path("data/fewer")])
        #expect(fewer.status == 0)
        try Data((base + ["fewer/spot000.h5,1,train,"]).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/fewer.csv")))
        let channels = try cli.run(train(folder.path("data/fewer.csv"), folder.path("fewer-run"), epochs: 1))
        #expect(channels.status != 0 && channels.output.contains("line \(base.count + 1): sample spot000: step 'pca': its spectral axis differs"), "\(channels.output)")

        let lines = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "spot003_truth.png", with: "gone.png")
        try Data(lines.utf8).write(to: URL(fileURLWithPath: folder.path("data/missing-truth.csv")))
        let m = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/missing-truth.csv"),
                             "--out", folder.path("eval2")])
        #expect(m.status != 0 && m.output.contains("line 5: truth file gone.png not found"), "\(m.output)")
    }
}

extension EndToEndTests {
    /// New samples have no label or split yet: segment and overlay take a manifest of paths alone
    /// (or with those cells empty), while train still needs both.
    @Test func segmentTakesAManifestOfPathsAlone() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let manifest = try phantom(folder)
        #expect(try cli.run(train(manifest, folder.path("run"), epochs: 1)).status == 0)
        try Data("path\nspot000.h5\nspot001.h5\n".utf8).write(to: URL(fileURLWithPath: folder.path("data/new.csv")))
        try Data("path,label,split\nspot002.h5,,\nspot003.h5,0,\n".utf8).write(to: URL(fileURLWithPath: folder.path("data/some.csv")))
        for (name, ids) in [("new", ["spot000", "spot001"]), ("some", ["spot002", "spot003"])] {
            let r = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("data/\(name).csv"),
                                 "--out", folder.path("seg-\(name)")])
            #expect(r.status == 0, "\(r.output)")
            let table = try String(contentsOfFile: folder.path("seg-\(name)/segmentation.csv"), encoding: .utf8).split(separator: "\n")
            #expect(table.dropFirst().map { String($0.prefix { $0 != "," }) } == ids, "\(table)")
        }
        let some = try String(contentsOfFile: folder.path("seg-some/segmentation.csv"), encoding: .utf8)
        #expect(some.contains("\nspot002,,") && some.contains("\nspot003,cancer-free,"), "\(some)")
        let refused = try cli.run(train(folder.path("data/new.csv"), folder.path("run2"), epochs: 1))
        #expect(refused.status != 0 && refused.output.contains("line 1: missing column label, split"), "\(refused.output)")
    }
}

