import Foundation
import Testing

/// The H&E modality as a user runs it: phantom files (tiled TIFF and PNG) → train → segment with
/// GeoJSON for QuPath → evaluate, through the raster readers and `modalities/he.yaml`.
@Suite struct HETests {
    let cli: CLI
    init() throws { cli = try CLI() }

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
        let evaluated = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("data/manifest.csv"),
                                     "--out", folder.path("eval"), "--geojson"])
        #expect(evaluated.status == 0 && evaluated.output.contains("AUC"), "\(evaluated.output)")
    }
}
