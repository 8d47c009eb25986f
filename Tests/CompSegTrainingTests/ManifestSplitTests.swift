import Foundation
import Testing
import CompSegCore
@testable import CompSegTraining

/// `ManifestSplit`: each patient in one split, labels in proportion, both labels in every split
/// that has a share, the same seed giving the same splits, and folds testing every row once.
@Suite struct ManifestSplitTests {
    /// `patients` patients of 1 to 4 rows each (sizes cycling), a third of them mixed, the rest
    /// alternately cancer and cancer-free; then `loose` rows naming no patient.
    func rows(patients: Int, loose: Int = 0) -> [Manifest.Row] {
        var rows: [Manifest.Row] = []
        func add(_ label: SampleLabel, _ patient: String?) {
            rows.append(Manifest.Row(line: rows.count + 2, path: URL(fileURLWithPath: "/data/s\(rows.count).h5"), label: label,
                                     split: nil, mask: nil, truth: nil, patient: patient))
        }
        for p in 0..<patients {
            for k in 0..<(p % 4 + 1) {
                add(p % 3 == 0 ? (k % 2 == 0 ? .cancer : .cancerFree) : p % 3 == 1 ? .cancer : .cancerFree, "P\(p)")
            }
        }
        for k in 0..<loose { add(k % 2 == 0 ? .cancer : .cancerFree, nil) }
        return rows
    }

    func patientsSplitOnce(_ rows: [Manifest.Row], _ splits: [Split]) -> Bool {
        Dictionary(grouping: zip(rows, splits).filter { $0.0.patient != nil }, by: { $0.0.patient! })
            .values.allSatisfy { Set($0.map(\.1)).count == 1 }
    }

    @Test func patientsStayTogetherAndLabelsKeepTheirShares() {
        let rows = rows(patients: 60, loose: 10)
        let splits = ManifestSplit.splits(of: rows, val: 0.2, test: 0.2, seed: 7)
        #expect(patientsSplitOnce(rows, splits))
        for (split, share) in [(Split.train, 0.6), (.val, 0.2), (.test, 0.2)] {
            for label in [SampleLabel.cancer, .cancerFree] {
                let all = rows.filter { $0.label == label }.count
                let got = zip(rows, splits).filter { $0.1 == split && $0.0.label == label }.count
                // Units of up to 4 rows: each label's count lands within a few rows of its share.
                #expect(abs(Double(got) - share * Double(all)) <= 4, "\(split) \(label): \(got) of \(all)")
            }
        }
        #expect(ManifestSplit.splits(of: rows, val: 0.2, test: 0.2, seed: 7) == splits)
        #expect(ManifestSplit.splits(of: rows, val: 0.2, test: 0.2, seed: 8) != splits)
    }

    @Test func fewPatientsStillGiveEachSplitBothLabels() {
        // Six patients, two of each kind: every split gets a cancer and a cancer-free row, though shares alone would not give them.
        let rows = rows(patients: 6)
        for seed in UInt64(0)..<20 {
            let splits = ManifestSplit.splits(of: rows, val: 0.15, test: 0.15, seed: seed)
            #expect(patientsSplitOnce(rows, splits))
            for split in Split.allCases {
                #expect(Set(zip(rows, splits).filter { $0.1 == split }.compactMap(\.0.label)).count == 2, "seed \(seed): \(split)")
            }
        }
        // No val share: no val rows.
        #expect(!ManifestSplit.splits(of: rows, val: 0, test: 0.3, seed: 0).contains(.val))
    }

    @Test func foldsTestEveryRowOnce() {
        let rows = rows(patients: 40, loose: 6)
        let folds = ManifestSplit.folds(of: rows, count: 5, val: 0.2, seed: 3)
        #expect(folds.count == 5)
        for r in rows.indices { #expect(folds.filter { $0[r] == .test }.count == 1) }
        for splits in folds {
            #expect(patientsSplitOnce(rows, splits))
            let val = splits.filter { $0 == .val }.count, test = splits.filter { $0 == .test }.count
            #expect(abs(Double(val) - 0.2 * Double(rows.count)) <= 6 && abs(Double(test) - 0.2 * Double(rows.count)) <= 6, "\(val) \(test)")
        }
        #expect(ManifestSplit.folds(of: rows, count: 5, val: 0.2, seed: 3) == folds)
    }

    /// The rows' order in the file does not change the splits; ids differing only in case are one
    /// patient; folds of equal units differ by one unit at most.
    @Test func orderCaseAndFoldSizes() {
        let rows = rows(patients: 30, loose: 5)
        let splits = ManifestSplit.splits(of: rows, val: 0.2, test: 0.2, seed: 4)
        let reversed = ManifestSplit.splits(of: rows.reversed(), val: 0.2, test: 0.2, seed: 4)
        #expect(Array(reversed.reversed()) == splits)
        var cased = rows
        cased[1].patient = "p1"  // P1's first row, written in lower case
        #expect(patientsSplitOnce(cased.map { var r = $0; r.patient = r.patient?.uppercased(); return r },
                                  ManifestSplit.splits(of: cased, val: 0.2, test: 0.2, seed: 4)))
        let single = (0..<12).map { k in
            Manifest.Row(line: k + 2, path: URL(fileURLWithPath: "/data/r\(k).h5"), label: k % 2 == 0 ? .cancer : .cancerFree,
                         split: nil, mask: nil, truth: nil, patient: nil)
        }
        let folds = ManifestSplit.folds(of: single, count: 5, val: 0.2, seed: 0)
        #expect(folds.map { $0.filter { $0 == .test }.count }.sorted() == [2, 2, 2, 3, 3])
        // As many folds as patients (leave one patient out): each fold tests one, whatever the labels.
        let ten = self.rows(patients: 10).map { var r = $0; r.patient = "Q" + r.patient!; return r }
        for count in [10, 9] {
            let loo = ManifestSplit.folds(of: ten, count: count, val: 0.1, seed: 1)
            #expect(loo.allSatisfy { $0.contains(.test) }, "\(count) folds: \(loo.map { $0.filter { $0 == .test }.count })")
        }
        let three = [(SampleLabel.cancer, "A"), (.cancerFree, "A"), (.cancer, "B"), (.cancer, "C")].enumerated().map { k, row in
            Manifest.Row(line: k + 2, path: URL(fileURLWithPath: "/data/t\(k).h5"), label: row.0, split: nil, mask: nil, truth: nil, patient: row.1)
        }
        #expect(ManifestSplit.folds(of: three, count: 3, val: 0, seed: 0).allSatisfy { $0.contains(.test) })
    }

    @Test func pathsAreWrittenFromTheNewManifestsFolder() {
        let folder = URL(fileURLWithPath: "/data/study")
        #expect(ManifestSplit.path(URL(fileURLWithPath: "/data/study/spots/a.h5"), from: folder) == "spots/a.h5")
        #expect(ManifestSplit.path(URL(fileURLWithPath: "/data/spots/a.h5"), from: folder) == "../spots/a.h5")
        #expect(ManifestSplit.path(URL(fileURLWithPath: "/elsewhere/a.h5"), from: folder) == "/elsewhere/a.h5")
        let rows = [Manifest.Row(line: 2, path: URL(fileURLWithPath: "/data/a,b.h5"), label: .cancer, split: nil, mask: nil,
                                 truth: nil, patient: "P \"1\"")]
        #expect(ManifestSplit.manifestText(rows, splits: [.test], from: folder) == "path,label,split,patient\n\"../a,b.h5\",cancer,test,\"P \"\"1\"\"\"\n")
    }
}
