import Foundation
import Testing

/// A manifest's `patient` column: a patient whose rows lie in several splits is said at train and
/// evaluate, and evaluation counts each patient once in its interval and scores patients too.
@Suite struct PatientTests {
    let cli: CLI
    init() throws { cli = try CLI() }

    /// A 12-spot phantom in `data/`, and `data/patients.csv`, its manifest with patients: two test
    /// spots of patient P1; spot003 (test) of P5, whose spots 6 and 7 (lines 8, 9) train. Its lines.
    func phantomWithPatients(_ folder: TemporaryFolder) throws -> [String] {
        #expect(try cli.run(["phantom", "--spots", "12", "--size", "32", "--bands", "64", "--out", folder.path("data")]).status == 0)
        let lines = try String(contentsOfFile: folder.path("data/manifest.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let patients = ["P1", "P1", "P2", "P5", "P3", "P4", "P5", "P5", "P6", "P6", "P7", "P7"]
        let withPatients = [lines[0] + ",patient"] + zip(lines.dropFirst(), patients).map { "\($0),\($1)" }
        try Data((withPatients.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/patients.csv")))
        return withPatients
    }

    @Test func patientsAcrossSplitsAreSaidAndCountedOnce() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let withPatients = try phantomWithPatients(folder)

        let run = folder.path("run")
        let trained = try cli.run(["train", "--modality", "infrared", "--data", folder.path("data/patients.csv"), "--out", run, "--epochs", "1",
                                   "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(trained.status == 0 && trained.output.contains("1 patient has rows in more than one split: 'P5' (train lines 8, 9; test line 5)")
                    && trained.output.contains("keep each patient's rows in one split"), "\(trained.output)")

        let evaluated = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/patients.csv"), "--out", folder.path("e")])
        #expect(evaluated.status == 0
                    && evaluated.output.contains("--split test scores 1 sample of patients the run learned from (spot003.h5: patient 'P5', whose spot006.h5, spot007.h5 it trained on)")
                    && evaluated.output.contains("over 3 patients (2 cancer, 1 cancer-free"), "\(evaluated.output)")
        let report = try String(contentsOfFile: folder.path("e/report.html"), encoding: .utf8)
        #expect(report.contains("1 of its samples is of patients the run trained or validated on: not held out"))
        #expect(report.contains("Patient AUC") && report.contains("from 3 patients"))
        let summary = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("e/summary.json")))) as? [String: Any])
        #expect(summary["n_patients"] as? Int == 3 && summary["n_patients_cancer"] as? Int == 2 && summary["n_patients_cancer_free"] as? Int == 1)
        // Each key is named in the docs' table, for the scripts that read it.
        let docs = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/reports.md"), encoding: .utf8)
        #expect(summary.keys.filter { !docs.contains("`\($0)`") }.isEmpty, "\(summary.keys.filter { !docs.contains("`\($0)`") })")
        #expect((summary["auc_ci"] is NSNull || summary["auc_ci_method"] as? String == "Obuchowski, clustered by patient") && summary["patient_auc"] is Double)
        let table = try String(contentsOfFile: folder.path("e/per_sample.csv"), encoding: .utf8).split(separator: "\n")
        #expect(table[0].hasSuffix(",patient") && table.contains { $0.hasPrefix("spot003,") && $0.hasSuffix(",P5") }, "\(table)")
        // per_patient.csv: each patient once, scored by its highest tumor fraction, as the patient AUC scores it.
        let patients = try String(contentsOfFile: folder.path("e/per_patient.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(patients.first == "patient,label,samples,cancer_samples,tumor_fraction_max,ids" && patients.count == 4, "\(patients)")
        let fraction = { (id: String) in table.first { $0.hasPrefix(id + ",") }.map { Double($0.split(separator: ",")[4])! } }
        let p1 = try #require(patients.first { $0.hasPrefix("P1,") }).split(separator: ",").map(String.init)
        #expect(p1[2] == "2" && p1[5] == "spot000;spot001" && Double(p1[4]) == max(fraction("spot000")!, fraction("spot001")!), "\(p1)")

        // The run records its rows' patients: a test manifest of its own, apart from the run's, is checked against them too.
        try Data(([withPatients[0]] + withPatients.filter { $0.contains(",test,") }).joined(separator: "\n").utf8)
            .write(to: URL(fileURLWithPath: folder.path("data/test-only.csv")))
        let apart = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/test-only.csv"), "--out", folder.path("e-apart")])
        #expect(apart.status == 0 && apart.output.contains("scores 1 sample of patients the run learned from (spot003.h5: patient 'P5'"),
                "\(apart.output)")
        // --split val: validation samples of patients it trained on are said too.
        let valLeak = withPatients.map { $0.hasPrefix("spot004.h5,") ? $0.replacingOccurrences(of: ",P3", with: ",P6") : $0 }
        try Data((valLeak.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/val-leak.csv")))
        let val = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/val-leak.csv"), "--out", folder.path("e-val"), "--split", "val"])
        #expect(val.status == 0 && val.output.contains("--split val scores 1 sample of patients the run learned from (spot004.h5: patient 'P6'"),
                "\(val.output)")
        // Ids differing only in case, and rows without a patient beside named ones, are warned of; no patient AUC then.
        let sloppy = withPatients.enumerated().map { i, line in i == 1 ? line.replacingOccurrences(of: ",P1", with: ",p1")
                                                    : i == 3 ? line.replacingOccurrences(of: ",P2", with: ",") : line }
        try Data((sloppy.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.path("data/sloppy.csv")))
        let ids = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/sloppy.csv"), "--out", folder.path("e-ids")])
        #expect(ids.status == 0 && ids.output.contains("patients 'P1', 'p1' differ only in case")
                    && ids.output.contains("1 row of 12 names no patient (line 4)") && !ids.output.contains("; patient AUC"), "\(ids.output)")

        // segment's segmentation.csv names each sample's patient too.
        #expect(try cli.run(["segment", "--model", run, "--data", folder.path("data/patients.csv"), "--out", folder.path("s")]).status == 0)
        let segmented = try String(contentsOfFile: folder.path("s/segmentation.csv"), encoding: .utf8).split(separator: "\n")
        #expect(segmented[0].hasSuffix(",patient") && segmented.contains { $0.hasPrefix("spot003,") && $0.hasSuffix(",P5") }, "\(segmented)")

        // Without the column: no patient warning, DeLong's interval, no patient numbers.
        let plain = try cli.run(["evaluate", "--model", run, "--data", folder.path("data/manifest.csv"), "--out", folder.path("e-plain")])
        #expect(plain.status == 0 && !plain.output.contains("patient"), "\(plain.output)")
        let plainSummary = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.path("e-plain/summary.json")))) as? [String: Any])
        #expect(plainSummary["n_patients"] is NSNull && plainSummary["patient_auc"] is NSNull)
    }

    /// compare's table and report count the test samples' patients, give the patients' AUC, and
    /// say a test split holding patients the runs trained on is not held out.
    @Test func compareCarriesPatients() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try phantomWithPatients(folder)
        let compared = try cli.run(["compare", "--modality", "infrared", "--data", folder.path("data/patients.csv"), "--topologies", "unet",
                                    "--out", folder.path("c"), "--epochs", "1", "--width", "4", "--depth", "2", "--batch", "2"])
        #expect(compared.status == 0 && compared.output.contains("| patient AUC [95% CI] |")
                    && compared.output.contains("from 3 patients; 1 test sample comes from patients the runs trained or validated on: not held out"),
                "\(compared.output)")
        let csv = try String(contentsOfFile: folder.path("c/comparison.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasSuffix(",test_patients,patient_auc,patient_auc_low,patient_auc_high"))
        let report = try String(contentsOfFile: folder.path("c/report.html"), encoding: .utf8)
        #expect(report.contains("not held out") && report.contains("patient AUC [95% CI]"))
    }

    /// A threshold given as segment and overlay cannot take it: 'auto', a percentage, a decimal comma.
    @Test func mistakenThresholdsAreSaid() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (given, said) in [("auto", "--threshold auto chooses a threshold on validation rows, which segment does not read"),
                              ("35%", "got 35% (a fraction of 1: 0.35 for 35%)"), ("0,35", "got 0,35 (with a decimal point: 0.35)")] {
            let r = try cli.run(["segment", "--model", folder.path("run"), "--data", folder.path("m.csv"), "--out", folder.path("s"),
                                 "--threshold", given])
            #expect(r.status != 0 && r.output.contains(said), "\(r.output)")
        }
        let overlay = try cli.run(["overlay", "--model", folder.path("run"), "--data", folder.path("m.csv"), "--out", folder.path("o"),
                                   "--threshold", "auto"])
        #expect(overlay.status != 0 && overlay.output.contains("which overlay does not read"), "\(overlay.output)")
        let evaluate = try cli.run(["evaluate", "--model", folder.path("run"), "--data", folder.path("m.csv"), "--out", folder.path("e"),
                                    "--threshold", "35%"])
        #expect(evaluate.status != 0 && evaluate.output.contains("must be 'auto' or a number in (0, 1), got 35% (a fraction of 1: 0.35"),
                "\(evaluate.output)")
    }
}
