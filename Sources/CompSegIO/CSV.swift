import Foundation

/// Comma-separated values (RFC 4180: quoted fields may hold commas, quotes doubled, newlines).
public enum CSV {
    /// `fields` as one line (no newline): a field holding a comma, a quote or a line break is
    /// quoted, its quotes doubled, so that `parse` reads it back as written.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    /// A free-text field (a sample's id, a name) as written: where it begins with `=`, `+`, `-`,
    /// `@`, a tab or a carriage return, which a spreadsheet opening the file would take for a
    /// formula ("+ve_control" shows as #NAME?, "=HYPERLINK(…)" runs), with an apostrophe before it,
    /// as spreadsheets mark text; so too where it begins with an apostrophe before one of those or another apostrophe.
    /// `readText` gives the field back.
    public static func text(_ field: String) -> String {
        let first = field.unicodeScalars.first
        let marked = first == "'" && field.unicodeScalars.dropFirst().first.map { formulaStart.contains($0) || $0 == "'" } == true
        return first.map(formulaStart.contains) == true || marked ? "'" + field : field
    }

    /// A field `text` wrote, as it was given.
    public static func readText(_ field: String) -> String {
        guard field.unicodeScalars.first == "'", let second = field.unicodeScalars.dropFirst().first,
              formulaStart.contains(second) || second == "'" else { return field }
        return String(field.unicodeScalars.dropFirst())
    }

    /// The first characters that make a spreadsheet read a cell as a formula.
    private static let formulaStart: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// The rows of `text`, each a list of fields.
    /// - Throws: `IOError` naming `file` and the line where the quoted field that is never closed opens.
    public static func parse(_ text: String, file: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, line = 1, opened = 1
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n")).makeIterator()
        var pending: Character? = chars.next()
        while let c = pending {
            pending = chars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.append("\""); pending = chars.next() } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true; opened = line
            case ",": row.append(field); field = ""
            case "\n": row.append(field); rows.append(row); row = []; field = ""; line += 1
            default: field.append(c)
            }
        }
        if quoted { throw IOError(file: file, "line \(opened): a quoted field is not closed") }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
