import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// How `compseg split` assigns a manifest's rows to train, val and test, or to folds for
/// cross-validation. Each patient's rows go to one split (a row naming no patient is a unit of
/// its own), so no patient's tissue is both trained on and scored. Each split gets about its
/// share of the cancer rows and of the cancer-free rows, and first one unit of each label where
/// the units allow, so that train can train, val can choose a threshold and test can score an
/// AUC. Ids that differ only in case ('P1', 'p1') are taken as one patient. The same rows (in
/// any order) and the same seed give the same splits on every machine.
public enum ManifestSplit {
    /// Rows that go to one split together: one patient's, or one row naming none.
    struct Unit {
        var rows: [Int]
        var cancer = 0, cancerFree = 0
        var size: Int { rows.count }
    }

    /// Each row's split, `val` and `test` being the shares of rows (train takes the rest).
    public static func splits(of rows: [Manifest.Row], val: Double, test: Double, seed: UInt64) -> [Split] {
        let units = units(of: rows)
        var generator = SeededGenerator(seed: seed)
        let bins = assign(units, shares: [1 - val - test, val, test], generator: &generator)
        return splits(of: rows, units: units, bins: bins, as: [.train, .val, .test])
    }

    /// For each of `folds` folds, each row's split: the fold's rows are its test split, `val` of
    /// all rows are taken for val from the others, and train takes the rest; every row is in
    /// exactly one fold's test split.
    public static func folds(of rows: [Manifest.Row], count folds: Int, val: Double, seed: UInt64) -> [[Split]] {
        let units = units(of: rows)
        var generator = SeededGenerator(seed: seed)
        let fold = assign(units, shares: Array(repeating: 1 / Double(folds), count: folds), generator: &generator)
        return (0..<folds).map { f in
            let others = units.indices.filter { fold[$0] != f }
            // val's share of all rows, taken from the others.
            let share = min(val * Double(rows.count) / Double(max(others.reduce(0) { $0 + units[$1].size }, 1)), 1)
            var fromOthers = SeededGenerator(seed: seed &+ UInt64(f + 1) &* 0x9E37_79B9_7F4A_7C15)
            let inner = assign(others.map { units[$0] }, shares: [1 - share, share], generator: &fromOthers)
            var bins = [Int](repeating: 2, count: units.count)  // the fold's own: test
            for (k, u) in others.enumerated() { bins[u] = inner[k] }
            return splits(of: rows, units: units, bins: bins, as: [.train, .val, .test])
        }
    }

    static func splits(of rows: [Manifest.Row], units: [Unit], bins: [Int], as names: [Split]) -> [Split] {
        var split = [Split](repeating: .train, count: rows.count)
        for (u, unit) in units.enumerated() { for r in unit.rows { split[r] = names[bins[u]] } }
        return split
    }

    /// How many units `rows` make: the patients they name, and the rows naming none.
    public static func unitCount(_ rows: [Manifest.Row]) -> Int { units(of: rows).count }

    /// The rows grouped into units (a patient's rows, its id taken in any case; each row naming
    /// none alone), ordered by the patient's id or the row's path: so the rows' order in the file
    /// does not change the splits.
    static func units(of rows: [Manifest.Row]) -> [Unit] {
        var units: [String: Unit] = [:]
        for (r, row) in rows.enumerated() {
            let key = row.patient.map { "patient " + $0.lowercased() } ?? "row " + row.path.path
            units[key, default: Unit(rows: [])].rows.append(r)
            if row.label == .cancer { units[key]!.cancer += 1 } else { units[key]!.cancerFree += 1 }
        }
        return units.keys.sorted().map { units[$0]! }
    }

    /// Each unit's bin. Units are taken in a seeded random order. First each bin with a share
    /// gets a unit of cancer rows, then one of cancer-free rows, where it has none, the emptiest
    /// bins first and train first among equals (it cannot train without both): the smallest of that label alone, else the
    /// smallest holding it. Then the others,
    /// largest first, each go where the counts come nearest their targets (each bin's share of
    /// the cancer rows and of the cancer-free rows), measured as the squared misses weighted by
    /// 1 / target; of bins that tie, the one holding fewest rows.
    static func assign(_ units: [Unit], shares: [Double], generator: inout SeededGenerator) -> [Int] {
        // Fisher–Yates with this generator alone, so the order is the same on every machine.
        var order = Array(units.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        let total = (cancer: Double(units.reduce(0) { $0 + $1.cancer }), free: Double(units.reduce(0) { $0 + $1.cancerFree }))
        let target = shares.map { (cancer: $0 * total.cancer, free: $0 * total.free) }
        var count = shares.map { _ in (cancer: 0, free: 0) }
        var bin = [Int](repeating: -1, count: units.count)
        func place(_ u: Int, in b: Int) {
            bin[u] = b
            count[b].cancer += units[u].cancer
            count[b].free += units[u].cancerFree
        }
        // A label at a time, the emptiest bins first (train first among equals), so that no bin
        // gets a second unit while another has none: folds as many as the units each get one.
        for cancer in [true, false] {
            let bins = shares.indices.filter { shares[$0] > 0 }.sorted { a, b in
                count[a].cancer + count[a].free != count[b].cancer + count[b].free
                    ? count[a].cancer + count[a].free < count[b].cancer + count[b].free : a < b
            }
            for b in bins where (cancer ? count[b].cancer : count[b].free) == 0 {
                // Of the units not placed that hold the label: one of it alone where there is one, the smallest, the first in order.
                let holding = order.filter { bin[$0] < 0 && (cancer ? units[$0].cancer : units[$0].cancerFree) > 0 }
                let pure = holding.filter { (cancer ? units[$0].cancerFree : units[$0].cancer) == 0 }
                if let smallest = (pure.isEmpty ? holding : pure).min(by: { units[$0].size < units[$1].size }) { place(smallest, in: b) }
            }
        }
        // Largest first: small units fill in what the large ones leave (a stable sort keeps the seeded order among equals).
        let rest = order.filter { bin[$0] < 0 }.enumerated().sorted { a, b in
            units[a.element].size != units[b.element].size ? units[a.element].size > units[b.element].size : a.offset < b.offset
        }.map(\.element)
        for u in rest {
            func miss(_ n: Int, _ t: Double) -> Double { (Double(n) - t) * (Double(n) - t) / max(t, 1) }
            func gain(_ b: Int) -> Double {
                (miss(count[b].cancer + units[u].cancer, target[b].cancer) - miss(count[b].cancer, target[b].cancer))
                    + (miss(count[b].free + units[u].cancerFree, target[b].free) - miss(count[b].free, target[b].free))
            }
            func held(_ b: Int) -> Int { count[b].cancer + count[b].free }
            // Gains within rounding of each other tie (sums of misses of other sizes round apart).
            let best = shares.indices.filter { shares[$0] > 0 }.min { a, b in
                abs(gain(a) - gain(b)) > 1e-9 ? gain(a) < gain(b) : held(a) != held(b) ? held(a) < held(b) : a < b
            }!
            place(u, in: best)
        }
        return bin
    }

    /// A manifest of `rows` with `splits` as CSV text: path, label and split, then mask, truth and
    /// patient where any row gives one. Paths are written from `folder` (the new manifest's),
    /// relative where a relative path leads to the file, else whole.
    public static func manifestText(_ rows: [Manifest.Row], splits: [Split], from folder: URL) -> String {
        let masks = rows.contains { $0.mask != nil }, truths = rows.contains { $0.truth != nil }, patients = rows.contains { $0.patient != nil }
        var header = ["path", "label", "split"]
        if masks { header.append("mask") }
        if truths { header.append("truth") }
        if patients { header.append("patient") }
        var lines = [CSV.line(header)]
        for (row, split) in zip(rows, splits) {
            var fields = [path(row.path, from: folder), row.label?.rawValue ?? "", split.rawValue]
            if masks { fields.append(row.mask.map { path($0, from: folder) } ?? "") }
            if truths { fields.append(row.truth.map { path($0, from: folder) } ?? "") }
            if patients { fields.append(row.patient ?? "") }
            lines.append(CSV.line(fields))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `file`'s path from `folder`: relative (with `..` where needed) where the two share a folder
    /// below `/` and the relative path leads to the file itself, else whole.
    static func path(_ file: URL, from folder: URL) -> String {
        let to = file.pathComponents, from = folder.pathComponents
        var shared = 0
        while shared < min(to.count - 1, from.count), to[shared] == from[shared] { shared += 1 }
        guard shared > 1 else { return file.path }
        let relative = (Array(repeating: "..", count: from.count - shared) + to[shared...]).joined(separator: "/")
        // A symbolic link on the way makes `..` lead elsewhere: the file itself (device and inode) is compared; then the whole path.
        let reached = fileURL(relative, from: folder, home: false).path
        return (fileIdentity(reached) ?? reached) == (fileIdentity(file.path) ?? file.path) ? relative : file.path
    }
}
