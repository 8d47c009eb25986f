import Foundation
import Testing
@testable import CompSegTraining

@Suite struct EvaluationFolderTests {
    /// An evaluation written into a folder that held another removes the other's sample figures
    /// first (those of the samples its per_sample.csv lists), and nothing else.
    @Test func anEarlierEvaluationsFiguresAreRemoved() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("id,label\nspot002,cancer\nspot003,\n".utf8).write(to: folder.appendingPathComponent("per_sample.csv"))
        let figures = ["spot002_overlay.png", "spot002_panel.png", "spot003_heatmap.png", "spot003_label.png", "spot003_contour.png"]
        for name in figures + ["spot004_panel.png", "notes.txt"] { try Data().write(to: folder.appendingPathComponent(name)) }
        EvaluationReport.removeFigures(in: folder)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["notes.txt", "per_sample.csv", "spot004_panel.png"])
    }
}
