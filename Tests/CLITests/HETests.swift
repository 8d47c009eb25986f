@testable import CompSegIO
import CompSegTestSupport
import Foundation
import Testing

/// The H&E modality as a user runs it: phantom files (tiled TIFF and PNG) → train → segment with
/// GeoJSON for QuPath → evaluate, through the raster readers and `modalities/he.yaml`.
@Suite struct HETests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// An 8-spot H&E phantom in `folder`/data and a small network trained on it for one epoch in `folder`/run.
    func phantomAndRun(in folder: TemporaryFolder, seed: Int) throws {
        #expect(try cli.run(["phantom", "--modality", "he", "--spots", "8", "--size", "32", "--seed", "\(seed)", "--out", folder.path("data")]).status == 0)
        #expect(try cli.run(["train", "--modality", "he", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"),
                             "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"]).status == 0)
    }

    @Test func phantomTrainSegmentEvaluate() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let phantom = try cli.run(["phantom", "--modality", "he", "--spots", "10", "--size", "32", "--seed", "2", "--out", folder.path("data")])
        #expect(phantom.status == 0, "\(phantom.output)")
        let manifest = try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8)
        #expect(manifest.contains("spot000.tif,1,") && manifest.contains("spot001.png,0,"), "\(manifest)")
        let trained = try cli.run(["train", "--modality", "he", "--data", folder.path("data/manifest.csv"), "--out", folder.path("run"),
                                   "--epochs", "2", "--width", "4", "--depth", "2", "--batch", "2", "--threads", "2"])
        #expect(trained.status == 0 && trained.output.contains("epoch 2/2"), "\(trained.output)")
        let model = try String(contentsOfFile: folder.path("run/model.json"), encoding: .utf8)
        #expect(model.contains("\"reader\" : \"he\"") && model.contains("\"identifier\" : \"opticalDensity\""))

        let segmented = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot000.tif"), folder.path("data/spot001.png"),
                                     "--out", folder.path("seg"), "--geojson", "--threshold", "0.01"])
        #expect(segmented.status == 0, "\(segmented.output)")
        let geojson = try String(contentsOfFile: folder.path("seg/spot000_mask.geojson"), encoding: .utf8)
        #expect(geojson.hasPrefix(#"{"type":"FeatureCollection","features":["#), "\(geojson.prefix(200))")
        if geojson.contains("Polygon") {
            #expect(geojson.contains(#""objectType":"annotation""#) && geojson.contains(#""classification":{"name":"Tumor","color":["#))
        }
        // --geojson-min-area leaves every polygon smaller than the spot out; alone it is refused.
        let large = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot000.tif"), "--out", folder.path("seg-large"),
                                 "--geojson", "--geojson-min-area", "1025", "--threshold", "0.01"])
        let none = try String(contentsOfFile: folder.path("seg-large/spot000_mask.geojson"), encoding: .utf8)
        #expect(large.status == 0 && none.hasPrefix(#"{"type":"FeatureCollection","features":[]}"#), "\(large.output)")
        let alone = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot000.tif"), "--out", folder.path("seg-alone"),
                                 "--geojson-min-area", "5"])
        #expect(alone.status == 64 && alone.output.contains("--geojson-min-area applies to the GeoJSON: give --geojson too"), "\(alone.output)")
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/manifest.csv"),
                                     "--out", folder.path("eval"), "--geojson", "--geojson-min-area", "4"])
        #expect(evaluated.status == 0 && evaluated.output.contains("AUC"), "\(evaluated.output)")

        // inspect lists a raster's images and what the modality reads of it; a JPEG is named, and counted.
        try Data([0xFF, 0xD8, 0xFF, 0xE0]).write(to: URL(fileURLWithPath: folder.path("photo.jpg")))
        let inspected = try cli.run(["inspect", "--modality", "he", folder.path("data/spot000.tif"), folder.path("data/spot001.png"),
                                     folder.path("photo.jpg")])
        #expect(inspected.status == 1, "\(inspected.output)")
        for line in ["spot000.tif: TIFF, 1 image, 1 level", "  page 0: 32×32, 3×8-bit RGB", "— level 0",
                     "  the modality reads level 0: 32×32 (width×height); tissue ", "% (method glass)", "spot001.png: PNG, 1 image, 1 level",
                     "photo.jpg: is a JPEG file, not a TIFF or PNG", "1 of 3 files could not be read"] {
            #expect(inspected.output.contains(line), "no '\(line)' in:\n\(inspected.output)")
        }
        // A level the reader refuses (a multichannel TIFF) is counted as unreadable, not said to be read.
        let markers = fixturesDirectory.appendingPathComponent("raster/markers5_grey.tif").path
        let refused = try cli.run(["inspect", "--modality", "he", markers])
        #expect(refused.status == 1 && refused.output.contains("level 0, which the modality reads: SamplesPerPixel (277) = 5")
                    && !refused.output.contains("the modality reads level 0: 8×6"), "\(refused.output)")
        // A PNG whose header claims 100000² pixels in a few bytes: refused by inspect as segment refuses it.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + body + withUnsafeBytes(of: PNGChunks.crc32(body).bigEndian, Array.init)
        }
        let side = withUnsafeBytes(of: UInt32(100_000).bigEndian, Array.init)
        let huge = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", side + side + [8, 2, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
        try Data(huge).write(to: URL(fileURLWithPath: folder.path("huge.png")))
        let claimed = try cli.run(["inspect", "--modality", "he", folder.path("huge.png")])
        #expect(claimed.status == 1 && claimed.output.contains("level 0 declares 100000×100000 pixels (width×height) of 3 samples"),
                "\(claimed.output)")
        // segment names every file it cannot read, before segmenting any.
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: folder.path("notes.png")))
        let unreadable = try cli.run(["segment", "--model", folder.path("run"), folder.path("photo.jpg"), folder.path("data/spot000.tif"),
                                      folder.path("notes.png"), "--out", folder.path("seg2")])
        #expect(unreadable.status == 1 && unreadable.output.contains("2 files cannot be read:")
                    && unreadable.output.contains("photo.jpg: is a JPEG file") && unreadable.output.contains("notes.png: is neither"),
                "\(unreadable.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("seg2")))
    }

    /// An image larger than a tile, segmented whole (tiles blended in memory) and streamed region
    /// by region (`--stream-above 0`): the same maps to 1e-5 (float order in the blend may
    /// differ; 0 alike where tiles without tissue are skipped), the same masks and fractions; the streamed run writes its GeoJSON too. As a tiled
    /// TIFF and as a PNG (read in bands, decoded once from the top).
    @Test(arguments: ["tif", "png"]) func streamedSegmentationEqualsWholeImage(format: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 3)
        // A 600×1400 mosaic of the spots on white, its right half blank (tiles without tissue, skipped), as a tiled TIFF.
        let spots = try ["spot000.tif", "spot001.png", "spot002.tif", "spot003.png"].map {
            try RasterFile.read(URL(fileURLWithPath: folder.path("data/\($0)"))).rgb
        }
        let (h, w) = (600, 1400)
        var pixels = [UInt8](repeating: 255, count: h * w * 3)
        for (k, (y0, x0)) in stride(from: 4, to: h - 36, by: 40).flatMap({ y in stride(from: 4, to: 700 - 36, by: 40).map { (y, $0) } }).enumerated() {
            let spot = spots[k % spots.count]
            for y in 0..<spot.height { for x in 0..<spot.width { for c in 0..<3 {
                pixels[((y0 + y) * w + x0 + x) * 3 + c] = UInt8((spot[x: x, y: y, c: c] * 255).rounded())
            } } }
        }
        let image = folder.path("big.\(format)"), mosaic = PNGImage(width: w, height: h, channels: 3, pixels: pixels)
        if format == "png" { try mosaic.write(to: URL(fileURLWithPath: image)) } else { try mosaic.writeTiledTIFF(to: URL(fileURLWithPath: image), tile: 128) }
        let first = try cli.run(["segment", "--model", folder.path("run"), image, "--out", folder.path("probe")])
        #expect(first.status == 0, "\(first.output)")
        let probe = try FloatImage(contentsOf: URL(fileURLWithPath: folder.path("probe/big_map.tif"))).values.sorted()
        let threshold = String(probe[probe.count * 9 / 10])
        let whole = try cli.run(["segment", "--model", folder.path("run"), image, "--out", folder.path("whole"), "--threshold", threshold])
        let streamed = try cli.run(["segment", "--model", folder.path("run"), image, "--out", folder.path("streamed"),
                                    "--threshold", threshold, "--stream-above", "0", "--geojson"])
        #expect(whole.status == 0 && streamed.status == 0 && streamed.output.contains("region by region"), "\(streamed.output)")
        let a = try FloatImage(contentsOf: URL(fileURLWithPath: folder.path("whole/big_map.tif")))
        let b = try FloatImage(contentsOf: URL(fileURLWithPath: folder.path("streamed/big_map.tif")))
        #expect(a.width == w && a.height == h && b.width == w && b.height == h)
        #expect(zip(a.values, b.values).map { Swift.abs($0 - $1) }.max() ?? 1 <= 1e-5)
        #expect(a.values[(h / 2) * w + w - 1] == 0 && b.values[(h / 2) * w + w - 1] == 0, "no tile runs on the blank right edge")
        let maskA = try PNGImage.mask(contentsOf: URL(fileURLWithPath: folder.path("whole/big_mask.png")), height: h, width: w)
        let maskB = try PNGImage.mask(contentsOf: URL(fileURLWithPath: folder.path("streamed/big_mask.png")), height: h, width: w)
        #expect(maskA == maskB && maskA.contains(true))
        // Byte for byte, chunks too (an image written whole and one written by rows are marked sRGB alike).
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("whole/big_mask.png")))
                    == Data(contentsOf: URL(fileURLWithPath: folder.path("streamed/big_mask.png"))))
        let csvA = try String(contentsOfFile: folder.path("whole/segmentation.csv"), encoding: .utf8)
        #expect(csvA == (try String(contentsOfFile: folder.path("streamed/segmentation.csv"), encoding: .utf8)))
        #expect(FileManager.default.fileExists(atPath: folder.path("streamed/big_mask.geojson")))
        // Some streamed, some not: the rows keep the order given; the time line covers those loaded whole.
        let mixed = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot001.png"), image,
                                 folder.path("data/spot000.tif"), "--out", folder.path("mixed"), "--stream-above", "10000"])
        #expect(mixed.status == 0 && mixed.output.contains("Time of the 2 samples loaded whole: ")
                    && mixed.output.contains(" s (reading, preprocessing, network and writing, region by region)"), "\(mixed.output)")
        let ids = try String(contentsOfFile: folder.path("mixed/segmentation.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
        #expect(ids == ["spot001", "big", "spot000"], "\(ids)")
        // A row with a tissue mask of its own is read whole, and said so.
        let tissue = PNGImage(width: w, height: h, channels: 1, pixels: [UInt8](repeating: 255, count: h * w))
        try tissue.write(to: URL(fileURLWithPath: folder.path("big_tissue.png")))
        try Data("path,mask\n\(image),\(folder.path("big_tissue.png"))\n".utf8).write(to: URL(fileURLWithPath: folder.path("masked.csv")))
        let masked = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("masked.csv"), "--out", folder.path("masked"),
                                  "--stream-above", "10000"])
        #expect(masked.status == 0 && masked.output.contains("warning: 1 image above --stream-above (big.\(format)) is read and segmented whole")
                    && !masked.output.contains("region by region)"), "\(masked.output)")

        // overlay reads it region by region too: the same pictures as loaded whole, its truth in the panel.
        try PNGImage(width: w, height: h, channels: 1, pixels: maskA.map { $0 ? 255 : 0 }).write(to: URL(fileURLWithPath: folder.path("truth.png")))
        try Data("path,truth\n\(image),\(folder.path("truth.png"))\n".utf8).write(to: URL(fileURLWithPath: folder.path("truth.csv")))
        let overlays = try [("ow", [String]()), ("os", ["--stream-above", "0"])].map { out, extra in
            try cli.run(["overlay", "--model", folder.path("run"), "--data", folder.path("truth.csv"), "--out", folder.path(out),
                         "--threshold", threshold] + extra)
        }
        #expect(overlays[0].status == 0 && overlays[1].status == 0 && overlays[1].output.contains("region by region"), "\(overlays[1].output)")
        for kind in ["overlay", "contour", "label", "mask", "map"] {
            let (a, b) = try (PNGImage(contentsOf: URL(fileURLWithPath: folder.path("ow/big_\(kind).png"))),
                              PNGImage(contentsOf: URL(fileURLWithPath: folder.path("os/big_\(kind).png"))))
            #expect(a.width == w && a.height == h, "\(kind)")
            // The maps may differ by 1e-5, so a byte of the 8-bit map by one.
            let differing = zip(a.pixels, b.pixels).filter { $0 != $1 }.count
            #expect(kind == "map" ? differing < 50 : differing == 0, "\(kind): \(differing) bytes differ")
        }
        for kind in ["heatmap", "panel"] {
            let (a, b) = try (PNGImage(contentsOf: URL(fileURLWithPath: folder.path("ow/big_\(kind).png"))),
                              PNGImage(contentsOf: URL(fileURLWithPath: folder.path("os/big_\(kind).png"))))
            #expect((a.width, a.height) == (b.width, b.height), "\(kind): \(a.width)×\(a.height) and \(b.width)×\(b.height)")
        }
        let panel = try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("os/big_panel.png")))
        #expect(panel.width > 4 * w, "the truth column is missing: \(panel.width)")
        #expect(try String(contentsOfFile: folder.path("ow/segmentation.csv"), encoding: .utf8)
                    == String(contentsOfFile: folder.path("os/segmentation.csv"), encoding: .utf8))

        // evaluate too, with truth: the numbers, the threshold chosen on a validation split that streams a copy, and the files
        // as when every image is loaded whole.
        try FileManager.default.copyItem(atPath: image, toPath: folder.path("big_val.\(format)"))
        try Data(("path,label,split,truth\n\(image),1,test,\(folder.path("truth.png"))\n"
                  + "\(folder.path("big_val.\(format)")),1,val,\(folder.path("truth.png"))\n"
                  + (0..<4).map { "data/spot00\($0).\($0 % 2 == 0 ? "tif" : "png"),\(1 - $0 % 2),\($0 < 2 ? "test" : "val"),data/spot00\($0)_truth.png\n" }
                    .joined()).utf8)
            .write(to: URL(fileURLWithPath: folder.path("eval.csv")))
        let evaluations = try [("ew", [String]()), ("es", ["--stream-above", "10000"])].map { out, extra in
            try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("eval.csv"), "--out", folder.path(out),
                         "--threshold", "auto"] + extra)
        }
        #expect(evaluations[0].status == 0 && !evaluations[0].output.contains("region by region"), "\(evaluations[0].output)")
        #expect(evaluations[1].status == 0 && evaluations[1].output.contains("big_val.\(format) (1400×600) region by region")
                    && evaluations[1].output.contains("big.\(format) (1400×600) region by region"), "\(evaluations[1].output)")
        for file in ["per_sample.csv", "summary.json"] {
            // The warnings aside: the maps of slides segmented region by region are not measured for grids (docs/method.md).
            let texts = try [folder.path("ew/\(file)"), folder.path("es/\(file)")].map { path in
                try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                    .filter { !$0.contains("follow a period-2 grid") }.joined(separator: "\n")
            }
            let (whole, streamed) = (texts[0], texts[1])
            #expect(whole == streamed, "\(file): \(whole)\n\(streamed)")
        }
        let perSample = try String(contentsOfFile: folder.path("es/per_sample.csv"), encoding: .utf8)
        #expect(perSample.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) } == ["big", "spot000", "spot001"], "\(perSample)")
        let report = try String(contentsOfFile: folder.path("es/report.html"), encoding: .utf8)
        #expect(report.contains("id=\"big\"") && report.contains("big: true tumor"), "the streamed sample's card")
        for kind in ["overlay", "mask", "label"] {
            let (a, b) = try (PNGImage(contentsOf: URL(fileURLWithPath: folder.path("ew/big_\(kind).png"))),
                              PNGImage(contentsOf: URL(fileURLWithPath: folder.path("es/big_\(kind).png"))))
            #expect(a.pixels == b.pixels, "\(kind)")
        }
    }

    /// An image wider than `EvaluationReport.panelSide`: its panel is drawn from shrunk copies,
    /// loaded whole or streamed alike, while the overlay, contour, label and heatmap (loaded whole)
    /// keep the full resolution; streamed, the heatmap is shrunk as the panel is.
    @Test func widePanelsAreShrunk() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 5)
        let spot = try RasterFile.read(URL(fileURLWithPath: folder.path("data/spot000.tif"))).rgb
        let (h, w) = (40, 2100)  // shrunk by 2 to 20×1050
        var pixels = [UInt8](repeating: 240, count: h * w * 3)
        for x0 in stride(from: 0, to: w - 32, by: 200) { for y in 0..<32 { for x in 0..<32 { for c in 0..<3 {
            pixels[((4 + y) * w + x0 + x) * 3 + c] = UInt8((spot[x: x, y: y, c: c] * 255).rounded())
        } } } }
        try PNGImage(width: w, height: h, channels: 3, pixels: pixels).write(to: URL(fileURLWithPath: folder.path("wide.png")))
        for (out, extra) in [("loaded", [String]()), ("streamed", ["--stream-above", "0"])] {
            let r = try cli.run(["overlay", "--model", folder.path("run"), folder.path("wide.png"), "--out", folder.path(out)] + extra)
            #expect(r.status == 0, "\(r.output)")
            let picture = { (kind: String) in try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("\(out)/wide_\(kind).png"))) }
            for kind in ["overlay", "contour", "label"] { #expect(try picture(kind).width == w, "\(out) \(kind)") }
            let panel = try picture("panel"), heatmap = try picture("heatmap")
            #expect(panel.width > 3 * 1050 && panel.width < 3 * 1050 + 200, "\(out): panel \(panel.width) wide")
            // The map and its bar, whose labels include the threshold's number.
            #expect(heatmap.width > (out == "loaded" ? w : 1050) && heatmap.width < (out == "loaded" ? w : 1050) + 160,
                    "\(out): heatmap \(heatmap.width) wide")
        }
    }

    /// A spot under 160 pixels a side gets the same enlarged overlay and contour streamed
    /// (`--stream-above 0`) as loaded whole.
    @Test func smallStreamedImagesAreEnlarged() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 6)
        let spots = [folder.path("data/spot000.tif"), folder.path("data/spot001.png")]
        for (out, extra) in [("loaded", [String]()), ("streamed", ["--stream-above", "0"])] {
            let r = try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path(out), "--threshold", "0.3"] + spots + extra)
            #expect(r.status == 0, "\(r.output)")
        }
        for id in ["spot000", "spot001"] {
            for kind in ["overlay", "contour", "label"] {
                let picture = { (out: String) in try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("\(out)/\(id)_\(kind).png"))) }
                let (loaded, streamed) = (try picture("loaded"), try picture("streamed"))
                #expect(loaded.width == (kind == "label" ? 32 : 160) && streamed.width == loaded.width && streamed.pixels == loaded.pixels,
                        "\(id) \(kind): \(loaded.width) and \(streamed.width) wide")
            }
        }
        // One of the two again without --force: refused, saying that --force would remove the other's files too.
        let again = try cli.run(["overlay", "--model", folder.path("run"), "--out", folder.path("loaded"), spots[0]])
        #expect(again.status == 1 && again.output.contains("pass --force to overwrite them; with it, the other ")
                    && again.output.contains(" files the earlier run wrote there go too"), "\(again.output)")
    }

    /// Ctrl-C or SIGTERM during a streamed segment stops it between bands: exit 130 or 143, no
    /// staging folder or partial file left, the earlier segmentation's files as they were.
    @Test func anInterruptedSegmentLeavesNothingOfItself() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 8)
        // Stripes of stained tissue and glass.
        let side = 3000
        var pixels = [UInt8](repeating: 250, count: side * side * 3)
        for i in 0..<(side * side) where (i / side + i % side) % 97 < 60 {
            (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (200, 120, 190)
        }
        try PNGImage(width: side, height: side, channels: 3, pixels: pixels).write(to: URL(fileURLWithPath: folder.path("slide.png")))
        let out = folder.path("seg")
        let segment = ["segment", "--model", folder.path("run"), "--out", out, "--stream-above", "0", folder.path("data/spot000.tif")]
        #expect(try cli.run(segment).status == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let record = try Data(contentsOf: URL(fileURLWithPath: out + "/segmentation.csv"))
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, 143)] {
            let (process, pipe) = try cli.start(segment + ["--force", folder.path("slide.png")])
            let staging = { (try? FileManager.default.contentsOfDirectory(atPath: out))?.first { $0.hasPrefix(".staging-") } }
            let deadline = Date().addingTimeInterval(120)
            while staging() == nil && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            kill(process.processIdentifier, signal)
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationReason == .exit && process.terminationStatus == status
                        && output.contains("stopped before the end; the files it was writing were not kept"), "\(signal): \(output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == before, "\(signal)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/segmentation.csv")) == record)
        }
    }

    /// A greyscale image (or grey saved as RGB) given to a network trained on colour H&E is
    /// segmented, and named in a warning: loaded whole, streamed, and by inspect.
    @Test func colourlessImagesAreNamed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 5)
        let spot = try PNGImage(contentsOf: URL(fileURLWithPath: folder.path("data/spot001.png")))
        let grey = (0..<(spot.width * spot.height)).map { p in
            UInt8((0..<3).map { Int(spot.pixels[p * spot.channels + $0]) }.reduce(0, +) / 3)
        }
        try PNGImage(width: spot.width, height: spot.height, channels: 1, pixels: grey).write(to: URL(fileURLWithPath: folder.path("grey.png")))
        try PNGImage(width: spot.width, height: spot.height, channels: 3, pixels: grey.flatMap { [$0, $0, $0] })
            .write(to: URL(fileURLWithPath: folder.path("greyrgb.png")))
        for extra in [[String](), ["--stream-above", "0"]] {
            let r = try cli.run(["segment", "--model", folder.path("run"), folder.path("grey.png"), folder.path("greyrgb.png"),
                                 folder.path("data/spot001.png"), "--out", folder.path("seg\(extra.count)")] + extra)
            let named = extra.isEmpty ? "warning: 2 samples (grey, greyrgb): the image holds no colour"
                : "warning: sample greyrgb: the image holds no colour"
            #expect(r.status == 0 && r.output.contains(named) && !r.output.contains("spot001: the image"), "\(r.output)")
        }
        // train names it too, from the samples as it prepares them: spot005 of the training split replaced by the grey image.
        let manifest = try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8)
        #expect(manifest.contains("spot005.png,0,train"), "\(manifest)")
        try manifest.replacingOccurrences(of: "spot005.png,", with: "../grey.png,")
            .write(toFile: folder.path("data/grey.csv"), atomically: true, encoding: .utf8)
        let trained = try cli.run(["train", "--modality", "he", "--data", folder.path("data/grey.csv"), "--out", folder.path("grey-run"),
                                   "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(trained.status == 0 && trained.output.contains("warning: sample grey: the image holds no colour"), "\(trained.output)")
        let inspected = try cli.run(["inspect", "--modality", "he", folder.path("grey.png"), folder.path("data/spot001.png")])
        #expect(inspected.status == 0 && inspected.output.components(separatedBy: "warning: the image holds no colour").count == 2,
                "\(inspected.output)")
    }

    /// A truncated TIFF among the inputs: `segment` names it and writes nothing, whether the
    /// image is loaded whole or streamed region by region (the error then comes mid-way); with
    /// `--skip-unreadable`, `segment` and `overlay` name it and write the others.
    @Test func truncatedFilesLeaveNoOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try phantomAndRun(in: folder, seed: 4)
        let whole = try Data(contentsOf: URL(fileURLWithPath: folder.path("data/spot000.tif")))
        let cut = folder.path("cut.tif")
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        for (name, extra) in [("loaded", [String]()), ("streamed", ["--stream-above", "0"])] {
            let r = try cli.run(["segment", "--model", folder.path("run"), folder.path("data/spot001.png"), cut,
                                 "--out", folder.path(name)] + extra)
            #expect(r.status == 1 && r.output.contains(cut), "\(name): \(r.output)")
            #expect(r.output.contains("(nothing was written: --skip-unreadable leaves out the files"), "\(name): \(r.output)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path(name))) ?? []
            #expect(left.isEmpty, "\(name) left \(left)")

            // --skip-unreadable names it, leaves it out, and segments the others (overlay likewise).
            for command in ["segment", "overlay"] {
                let out = folder.path("\(name)-\(command)-skipping")
                let skipping = try cli.run([command, "--model", folder.path("run"), folder.path("data/spot001.png"), cut,
                                            "--out", out, "--skip-unreadable"] + extra)
                #expect(skipping.status == 0 && skipping.output.contains("warning: left out (--skip-unreadable): ")
                            && skipping.output.contains(cut) && skipping.output.contains("warning: 1 of 2 inputs left out"),
                        "\(name) \(command): \(skipping.output)")
                let csv = (try? String(contentsOfFile: out + "/segmentation.csv", encoding: .utf8)) ?? ""
                #expect(csv.contains("\nspot001,") && !csv.contains("\ncut,"), "\(csv)")
                let files = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
                #expect(files.contains("spot001_mask.png") && !files.contains { $0.hasPrefix("cut") }, "\(files)")
            }
            let none = try cli.run(["segment", "--model", folder.path("run"), cut, "--out", folder.path("\(name)-none"), "--skip-unreadable"] + extra)
            #expect(none.status == 1 && none.output.contains("the input could not be read (named above); nothing was written"), "\(none.output)")
            #expect(!FileManager.default.fileExists(atPath: folder.path("\(name)-none")))
        }
        // A manifest's row whose image is missing is left out too (without the flag, the manifest is refused).
        try Data("path\n\(folder.path("data/spot001.png"))\ngone.tif\n".utf8).write(to: URL(fileURLWithPath: folder.path("gone.csv")))
        let refused = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("gone.csv"), "--out", folder.path("gone")])
        #expect(refused.status == 1 && refused.output.contains("line 3: image file gone.tif not found"), "\(refused.output)")
        let gone = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("gone.csv"), "--out", folder.path("gone"),
                                "--skip-unreadable"])
        #expect(gone.status == 0 && gone.output.contains("left out (--skip-unreadable): \(folder.path("gone.csv")): line 3: image file gone.tif not found")
                    && gone.output.contains("1 of 2 inputs left out"), "\(gone.output)")
        // Streamed, the warning names the manifest's line too; a truth mask that cannot be decoded is named by
        // line before anything is segmented: refused, or with the flag left out with its row.
        let truth = folder.path("data/spot001_truth.png"), broken = folder.path("broken_truth.png")
        let png = try Data(contentsOf: URL(fileURLWithPath: truth))
        try png.prefix(png.count - 20).write(to: URL(fileURLWithPath: broken))
        try Data("path,truth\n\(folder.path("data/spot001.png")),\(truth)\n\(cut),\n".utf8).write(to: URL(fileURLWithPath: folder.path("cut.csv")))
        let named = try cli.run(["overlay", "--model", folder.path("run"), "--data", folder.path("cut.csv"), "--out", folder.path("named"),
                                 "--skip-unreadable", "--stream-above", "0"])
        #expect(named.status == 0 && named.output.contains("left out (--skip-unreadable): \(folder.path("cut.csv")): line 3: \(cut)"),
                "\(named.output)")
        try Data("path,truth\n\(folder.path("data/spot001.png")),\(broken)\n\(folder.path("data/spot003.png")),\n".utf8)
            .write(to: URL(fileURLWithPath: folder.path("broken.csv")))
        let brokenRefused = try cli.run(["overlay", "--model", folder.path("run"), "--data", folder.path("broken.csv"), "--out", folder.path("broken")])
        #expect(brokenRefused.status == 1 && brokenRefused.output.contains("line 2: truth \(broken)")
                    && !brokenRefused.output.contains("Segmenting"), "\(brokenRefused.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("broken")))
        // segment reads no truth: with the flag, a row whose truth is damaged is segmented all the same.
        let segmented = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("broken.csv"), "--out", folder.path("broken-seg"),
                                     "--skip-unreadable"])
        #expect(segmented.status == 0 && !segmented.output.contains("left out")
                    && FileManager.default.fileExists(atPath: folder.path("broken-seg/spot001_mask.png")), "\(segmented.output)")
        for extra in [[String](), ["--stream-above", "0"]] {
            let out = folder.path("broken" + extra.joined())
            let skipped = try cli.run(["overlay", "--model", folder.path("run"), "--data", folder.path("broken.csv"), "--out", out,
                                       "--skip-unreadable"] + extra)
            #expect(skipped.status == 0 && skipped.output.contains("left out (--skip-unreadable): \(folder.path("broken.csv")): line 2: truth \(broken)")
                        && skipped.output.contains("1 of 2 inputs left out"), "\(skipped.output)")
            #expect(FileManager.default.fileExists(atPath: out + "/spot003_mask.png") && !FileManager.default.fileExists(atPath: out + "/spot001_mask.png"))
        }
        // evaluate too: a missing and a cut image among the scored rows and the validation rows of --threshold auto are named,
        // left out of the numbers and counted in the report; a missing image of another split is no input of it.
        try FileManager.default.copyItem(atPath: cut, toPath: folder.path("cut2.tif"))
        let rows = (0..<8).map { i in "data/spot00\(i).\(i % 2 == 0 ? "tif" : "png"),\(1 - i % 2),\(i < 4 ? "test" : "val")" }
        try Data(("path,label,split\n" + rows.joined(separator: "\n") + "\ncut.tif,1,test\ngone.tif,0,test\ncut2.tif,1,val\ngone2.tif,0,val\n"
                  + "gone3.tif,0,train\n").utf8).write(to: URL(fileURLWithPath: folder.path("scored.csv")))
        for (name, extra) in [("loaded", [String]()), ("streamed", ["--stream-above", "0"])] {
            let out = folder.path("evaluated-\(name)")
            let refused = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("scored.csv"), "--out", out,
                                       "--threshold", "auto"] + extra)
            #expect(refused.status == 1 && refused.output.contains("gone.tif not found") && !FileManager.default.fileExists(atPath: out),
                    "\(refused.output)")
            let r = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("scored.csv"), "--out", out,
                                 "--threshold", "auto", "--skip-unreadable"] + extra)
            #expect(r.status == 0 && r.output.contains("line 11: image file gone.tif not found") && r.output.contains("line 10: \(cut)")
                        && r.output.contains("line 12: \(folder.path("cut2.tif"))") && r.output.contains("line 13: image file gone2.tif")
                        && !r.output.contains("gone3.tif") && r.output.contains("chosen on 4 validation samples (2 of 6 left out as unreadable)")
                        && r.output.contains("warning: 2 of 6 inputs left out"), "\(name): \(r.output)")
            let ids = try String(contentsOfFile: out + "/per_sample.csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { String($0.prefix { $0 != "," }) }
            #expect(ids == ["spot000", "spot001", "spot002", "spot003"], "\(ids)")
            let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
            #expect(report.contains("2 of its 6 inputs left out as unreadable"))
            // The warnings are in the report and in summary.json, with the count left out.
            #expect(report.contains("<ul class=\"warnings\">") && report.contains("image file gone.tif not found"))
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
            let warnings = summary["warnings"] as? [String] ?? []
            #expect(summary["n_left_out"] as? Int == 2 && warnings.contains { $0.contains("line 11: image file gone.tif not found") }
                        && warnings.contains("2 of 6 inputs left out: each is named above"), "\(summary)")
            // Validation rows read twice, to choose the threshold and to score them, are named once.
            let twice = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("scored.csv"), "--out", out + "-val",
                                     "--threshold", "auto", "--skip-unreadable", "--split", "val"] + extra)
            #expect(twice.status == 0 && twice.output.components(separatedBy: "line 13: image file gone2.tif").count == 2
                        && twice.output.components(separatedBy: "line 12: \(folder.path("cut2.tif"))").count == 2, "\(name): \(twice.output)")
        }
        // A truth that cannot be decoded: evaluate refuses it before segmenting; with the flag its row is left out and counted.
        try Data(("path,label,split,truth\ndata/spot000.tif,0,test,\ndata/spot001.png,1,test,\(broken)\ndata/spot003.png,1,test,\n").utf8)
            .write(to: URL(fileURLWithPath: folder.path("broken-truth.csv")))
        let undecoded = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("broken-truth.csv"),
                                     "--out", folder.path("undecoded"), "--threshold", "0.5", "--split", "test"])
        #expect(undecoded.status == 1 && undecoded.output.contains("line 3: truth \(broken)") && !FileManager.default.fileExists(atPath: folder.path("undecoded")),
                "\(undecoded.output)")
        let scored = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("broken-truth.csv"),
                                  "--out", folder.path("undecoded"), "--threshold", "0.5", "--split", "test", "--skip-unreadable"])
        #expect(scored.status == 0 && scored.output.contains("left out (--skip-unreadable): \(folder.path("broken-truth.csv")): line 3: truth \(broken)")
                    && scored.output.contains("1 of 3 inputs left out"), "\(scored.output)")
        let scoredIDs = try String(contentsOfFile: folder.path("undecoded/per_sample.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.prefix { $0 != "," }) }
        #expect(scoredIDs == ["spot000", "spot003"], "\(scoredIDs)")
    }
}
