import CompSegIO
import CompSegTraining
import Foundation

/// `compare --seeds`: each entry trained once per seed, and its results summarized over them.
extension Compare {
    /// One entry over its seeds: each run's test AUC and mean Dice, their mean and sample sd.
    struct OverSeeds {
        let name: String, topology: String
        let seeds: [UInt64]
        let auc: (mean: Double, sd: Double?)?, dice: (mean: Double, sd: Double?)?
        /// Runs with an epoch that collapsed (restarted), and those whose kept epoch did (their numbers are no segmentation).
        let collapsing: Int, keptCollapsed: Int
        /// Each run's share of cancer-free test tissue marked, their mean and sd; runs whose masks mark most of it.
        let cancerFreeMarked: (mean: Double, sd: Double?)?, markingMost: Int
    }

    /// The rows grouped by entry, in the entries' order.
    static func overSeeds(_ rows: [Row]) -> [OverSeeds] {
        var order: [String] = []
        for r in rows where !order.contains(r.group) { order.append(r.group) }
        return order.map { group in
            let runs = rows.filter { $0.group == group }
            return OverSeeds(name: group, topology: runs[0].topology, seeds: runs.map(\.seed),
                             auc: meanAndSD(runs.compactMap { $0.evaluation.summary.auc }),
                             dice: meanAndSD(runs.compactMap { $0.evaluation.summary.diceMean }),
                             collapsing: runs.filter { $0.collapsedEpochs > 0 }.count, keptCollapsed: runs.filter(\.keptEpochCollapsed).count,
                             cancerFreeMarked: meanAndSD(runs.compactMap { $0.evaluation.summary.cancerFreeFractionMean }),
                             markingMost: runs.filter(\.marksMostCancerFreeTissue).count)
        }
    }

    /// "seed 0", or "seeds 0, 1, 2" with --seeds.
    var seedsLine: String {
        seedList.map { "seeds " + $0.map(String.init).joined(separator: ", ") } ?? "seed \(training.settings().seed)"
    }

    /// The table over seeds: its header and a row of cells per entry.
    func seedTable(_ rows: [Row]) -> (header: [String], cells: [[String]]) {
        func f(_ v: (mean: Double, sd: Double?)?) -> String {
            guard let v else { return "–" }
            return String(format: "%.3f", v.mean) + (v.sd.map { String(format: " ± %.3f", $0) } ?? "")
        }
        let groups = Self.overSeeds(rows)
        let named = groups.contains { $0.name != $0.topology }
        let header = (named ? ["entry", "topology"] : ["topology"])
            + ["runs", "test AUC mean ± sd", "Dice mean ± sd", "cancer-free marked mean ± sd", "runs that collapsed (kept epoch)",
               "runs marking most cancer-free tissue"]
        let cells = groups.map { g in
            [g.name] + (named ? [g.topology] : [])
                + ["\(g.seeds.count)", f(g.auc), f(g.dice),
                   g.cancerFreeMarked.map { SegmentationEvaluation.percentText($0.mean, sd: $0.sd) } ?? "–",
                   "\(g.collapsing) (\(g.keptCollapsed))", "\(g.markingMost)"]
        }
        return (header, cells)
    }

    /// The Markdown lines of the table over seeds, after a blank line; none without --seeds.
    func seedTableMarkdown(_ rows: [Row]) -> [String] {
        guard seedList != nil else { return [] }
        let (header, cells) = seedTable(rows)
        return ["", "Over the \(seedsLine) (each run's test AUC and mean Dice; mean ± sd over the runs: a difference between "
                + "entries smaller than their spread is no finding; a run that collapsed or marks most cancer-free tissue is "
                + "counted in the means, and in its own column):", "",
                "| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
            + cells.map { "| " + $0.map(markdownCell).joined(separator: " | ") + " |" }
    }

    /// `comparison-seeds.csv`: per entry its runs' seeds and the mean and sd of their test AUC and mean Dice.
    func writeSeedTable(_ rows: [Row], to folder: URL) throws {
        func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }  // unrounded: the shortest text that reads back as the value
        let lines = ["name,topology,seeds,test_auc_mean,test_auc_sd,dice_mean,dice_sd,cancer_free_fraction_mean,cancer_free_fraction_sd,"
                     + "runs_collapsed,runs_kept_epoch_collapsed,runs_marking_most_cancer_free_tissue"]
            + Self.overSeeds(rows).map { g in
                CSV.line([CSV.text(g.name), g.topology, g.seeds.map(String.init).joined(separator: " "), f(g.auc?.mean), f(g.auc?.sd ?? nil),
                          f(g.dice?.mean), f(g.dice?.sd ?? nil), f(g.cancerFreeMarked?.mean), f(g.cancerFreeMarked?.sd ?? nil),
                          "\(g.collapsing)", "\(g.keptCollapsed)", "\(g.markingMost)"])
            }
        try writeDurably(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("comparison-seeds.csv"))
    }

    /// The report's table over seeds, with its heading; empty without --seeds.
    func seedSection(_ rows: [Row]) -> String {
        guard seedList != nil else { return "" }
        let (header, cells) = seedTable(rows)
        let numeric = Set(header.indices.filter { !["entry", "topology"].contains(header[$0]) })
        return """
            <h2>Over the \(seedsLine)</h2>
            <p class="subtitle">Each run's test AUC and mean Dice; mean ± sd over the runs. A difference between entries smaller than their spread is no finding. Click a column, or press Enter on it, to sort.</p>
            \(ReportHTML.sortableTable(header: header, numeric: numeric, rows: cells))
            """
    }
}
