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
