import Foundation
import Testing
@testable import CompSegTraining

@Suite struct EvaluationFolderTests {
    /// A run written over another (`--force`) removes the other's per-sample files first (those
    /// of the samples its record lists: maps, masks, polygons, figures), but those it keeps and
    /// nothing else; an id that would name a file elsewhere is passed over.
    @Test func anEarlierRunsPerSampleFilesAreRemoved() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let record = folder.appendingPathComponent("per_sample.csv")
        try Data((EvaluationFiles.perSampleHeader + "\nspot002,cancer\nspot003,\n\"a,b\",cancer\n..,cancer\n").utf8).write(to: record)
        #expect(SegmentationFiles.recordedIDs(record) == ["spot002", "spot003", "a,b"])
        let earlier = ["spot002_overlay.png", "spot002_panel.png", "spot002_map.tif", "spot002_mask.geojson", "spot003_heatmap.png",
                       "spot003_label.png", "spot003_contour.png", "spot003_mask.png", "a,b_map.png"]
        for name in earlier + ["spot002_map.png", "spot004_panel.png", "notes.txt"] { try Data().write(to: folder.appendingPathComponent(name)) }
        // Figures too, whichever command wrote them: `segment --force` over an overlay leaves none of its stale pictures.
        SegmentationFiles.removeOutputs(of: SegmentationFiles.recordedIDs(record), in: folder, keeping: ["spot002_map.png"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["notes.txt", "per_sample.csv", "spot002_map.png", "spot004_panel.png"])
        // A table of that name that compseg did not write (another header) is a user's: not read.
        try Data("id,notes\nspot004,fine\n".utf8).write(to: record)
        #expect(SegmentationFiles.recordedIDs(record).isEmpty)
        // Records written before the unfamiliar_input column, and before the area columns, are still compseg's.
        for header in ["id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path",
                       "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,called,split,path",
                       "id,label,tissue_pixels,tumor_pixels,tumor_fraction,threshold,path,unfamiliar_input",
                       "id,label,tissue_pixels,tumor_pixels,tumor_fraction,dice,iou,pixel_sensitivity,pixel_specificity,both_empty,called,split,path,unfamiliar_input",
                       SegmentationFiles.segmentationHeader] {
            try Data((header + "\nspot005,cancer\n").utf8).write(to: record)
            #expect(SegmentationFiles.recordedIDs(record) == ["spot005"], "\(header)")
        }
        // An id written as text for spreadsheets ('+ve) reads back as it was.
        try Data((SegmentationFiles.segmentationHeader + "\n'+ve_control,cancer\n'-ve,\n").utf8).write(to: record)
        #expect(SegmentationFiles.recordedIDs(record) == ["+ve_control", "-ve"])
    }
}

@Suite struct UniqueIDTests {
    /// A repeated name takes -2, -3, … but never another input's own name, in any order.
    @Test func repeatsSkipTheOtherInputsNames() {
        let names = ["a", "a", "a-2", "a"]
        var ids = UniqueIDs(reserving: names)
        #expect(names.map { ids.make($0) } == ["a", "a-3", "a-2", "a-4"])
        // Names apart only in case are one name on Windows' and macOS's disks.
        var cased = UniqueIDs(reserving: ["Case", "case", "CASE-2"])
        #expect(["Case", "case", "CASE-2"].map { cased.make($0) } == ["Case", "case-3", "CASE-2"])
        var reversed = UniqueIDs(reserving: names)
        #expect(names.reversed().map { reversed.make($0) } == ["a", "a-2", "a-3", "a-4"])
        var taken = UniqueIDs(taken: ["s"], reserving: ["s", "s-2"])
        #expect(taken.make("s") == "s-3")
    }
}
