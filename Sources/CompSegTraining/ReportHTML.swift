import CompSegCore
import CompSegFigures
import CompSegIO
import Foundation

/// The parts every `report.html` shares: one self-contained page (no file or network fetched; images
/// are data URIs), a responsive layout, summary tiles that say what each number means, figure
/// cards with HTML captions, sample cards, and tables that sort when a column header is clicked.
public enum ReportHTML {
    /// The page around `body`, with the shared style and the table-sorting script.
    /// - Parameter footer: a closing line, such as which compseg and which weights made the page.
    public static func page(title: String, body: String, footer: String? = nil) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(style)
        </style></head><body>
        <main>
        \(body)
        \(footer.map { "<footer class=\"subtitle\" style=\"margin-top:2rem\">\(escape($0))</footer>" } ?? "")
        </main>
        <script>
        \(script)
        </script>
        </body></html>

        """
    }

    static let style = """
        :root { --ink: #1d1d1f; --muted: #5b5b66; --line: #dcdce3; --tile: #f5f6f8; --accent: #0072b2; }
        * { box-sizing: border-box; }
        body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
               margin: 0; color: var(--ink); font-size: 16px; line-height: 1.45; background: #fff; }
        main { max-width: 1800px; margin: 0 auto; padding: 1.2rem 2rem 3rem; }
        h1 { font-size: 1.6rem; margin: 0.2rem 0 0.2rem; } h2 { font-size: 1.3rem; margin: 2rem 0 0.6rem; }
        h3 { font-size: 1.05rem; margin: 0; }
        .subtitle { color: var(--muted); margin: 0 0 1rem; overflow-wrap: anywhere; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 0.8rem; }
        .tile { background: var(--tile); border-radius: 8px; padding: 0.7rem 0.9rem; }
        .tile .value { font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
        .tile .name { font-weight: 600; }
        .tile .meaning { color: var(--muted); font-size: 0.92rem; }
        .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 1rem; align-items: start; }
        figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem; background: #fff; }
        figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
        figure.wide { grid-column: 1 / -1; }
        figcaption { color: var(--muted); font-size: 0.92rem; margin-top: 0.4rem; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1rem; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem; }
        .card header { display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; align-items: baseline; margin-bottom: 0.4rem; }
        .card .numbers { color: var(--muted); font-variant-numeric: tabular-nums; }
        .badge { font-size: 0.8rem; padding: 0.05rem 0.5rem; border-radius: 999px; background: #e7e7ee; }
        .badge.cancer { background: #fde2e1; color: #8a1c17; } .badge.cancer-free { background: #dff0e1; color: #1e5b28; }
        .quad { display: grid; grid-template-columns: 1fr 1fr; gap: 0.4rem; }
        .quad div { font-size: 0.85rem; color: var(--muted); }
        .quad img { width: 100%; height: auto; max-height: 18rem; object-fit: contain; display: block; image-rendering: pixelated; border-radius: 3px; }
        .legendrow { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: center; margin-bottom: 0.8rem; color: var(--muted); }
        .swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; margin-right: 0.3em; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: 0.3rem 0.8rem; border-bottom: 1px solid var(--line); }
        table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
        table.sortable th::after { content: " \\2195"; color: #aaa; }
        table.sortable th[data-dir="asc"]::after { content: " \\2191"; color: var(--ink); }
        table.sortable th[data-dir="desc"]::after { content: " \\2193"; color: var(--ink); }
        td.num, th[data-type="number"] { text-align: right; }
        table.sortable th:focus-visible { outline: 2px solid var(--accent); outline-offset: -2px; }
        .scroll { overflow-x: auto; }
        details > summary { cursor: pointer; font-weight: 600; margin: 0.6rem 0; }
        .warnings { background: #fff4e0; border-left: 4px solid #d98a00; border-radius: 4px; padding: 0.6rem 1rem 0.6rem 2rem; }
        .warnings li { margin: 0.2rem 0; overflow-wrap: anywhere; }
        """

    /// Sorting: a click on a header sorts the body by that column, numbers numerically (cells carry
    /// their value in `data-v`; empty cells last), text alphabetically; a second click reverses.
    static let script = """
        document.querySelectorAll("table.sortable").forEach(function (table) {
          table.querySelectorAll("thead th").forEach(function (th, column) {
            function sort() {
              var ascending = th.dataset.dir !== "asc";
              table.querySelectorAll("thead th").forEach(function (other) { delete other.dataset.dir; other.setAttribute("aria-sort", "none"); });
              th.dataset.dir = ascending ? "asc" : "desc";
              th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
              var numeric = th.dataset.type === "number", body = table.tBodies[0];
              var rows = Array.prototype.slice.call(body.rows);
              function key(row) { var c = row.cells[column]; return c.dataset.v !== undefined ? c.dataset.v : c.textContent; }
              rows.sort(function (a, b) {
                var x = key(a), y = key(b);
                if (numeric) {
                  var p = parseFloat(x), q = parseFloat(y);
                  if (isNaN(p) || isNaN(q)) { return isNaN(p) ? (isNaN(q) ? 0 : 1) : -1; }
                  return ascending ? p - q : q - p;
                }
                return ascending ? x.localeCompare(y) : y.localeCompare(x);
              });
              rows.forEach(function (row) { body.appendChild(row); });
            }
            th.addEventListener("click", sort);
            th.addEventListener("keydown", function (event) {  // from the keyboard too: Enter or Space on the focused header
              if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
            });
          });
        });
        """

    /// The run's warnings as a list under a heading; empty without any.
    public static func warnings(_ warnings: [String]) -> String {
        guard !warnings.isEmpty else { return "" }
        return "<h2>Warnings</h2>\n<ul class=\"warnings\">\n"
            + warnings.map { "<li>\(escape($0))</li>" }.joined(separator: "\n") + "\n</ul>"
    }

    /// One summary tile: the value large, its name, and one line on what it means.
    public static func tile(_ name: String, _ value: String, _ meaning: String) -> String {
        "<div class=\"tile\"><div class=\"value\">\(escape(value))</div><div class=\"name\">\(escape(name))</div>"
            + "<div class=\"meaning\">\(escape(meaning))</div></div>"
    }

    /// A figure card: the image (PNG or SVG data, shown at its own size or narrower) and its caption.
    public static func figure(_ data: Data, mime: String, alt: String, caption: String) -> String {
        "<figure><img src=\"\(dataURI(data, mime: mime))\" alt=\"\(escape(alt))\"><figcaption>\(escape(caption))</figcaption></figure>"
    }

    /// A figure card of an SVG document.
    public static func figure(svg: String, alt: String, caption: String) -> String {
        figure(Data(svg.utf8), mime: "image/svg+xml", alt: alt, caption: caption)
    }

    public static func dataURI(_ data: Data, mime: String) -> String { "data:\(mime);base64,\(data.base64EncodedString())" }

    /// The PNG bytes of `image`, encoded in memory (no temporary file: TMPDIR may be missing or full).
    public static func pngData(_ image: RGBImage) throws -> Data {
        try image.png.encoded()
    }

    /// A sortable table. `numeric` marks the columns that sort as numbers; a numeric cell may be
    /// "" (missing, sorted last).
    public static func sortableTable(header: [String], numeric: Set<Int>, rows: [[String]], rowIDs: [String]? = nil) -> String {
        let head = header.enumerated().map { i, h in
            "<th scope=\"col\" tabindex=\"0\" aria-sort=\"none\"\(numeric.contains(i) ? " data-type=\"number\"" : "")>\(escape(h))</th>"
        }.joined()
        let body = rows.enumerated().map { r, cells in
            "<tr>" + cells.enumerated().map { i, c in
                if i == 0, let ids = rowIDs { return "<td><a href=\"#\(anchor(ids[r]))\">\(escape(c))</a></td>" }
                return numeric.contains(i) ? "<td class=\"num\" data-v=\"\(escape(c))\">\(c.isEmpty ? "–" : escape(c))</td>"
                    : "<td>\(escape(c))</td>"
            }.joined() + "</tr>"
        }.joined(separator: "\n")
        return "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table></div>"
    }

    /// Text made safe for HTML text and attribute values.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// `s` as an element id (and `#` link target), escaped: HTML ids hold no whitespace, so each
    /// whitespace character and `%` is written as its UTF-8 bytes in `%XX` (`spot, one` →
    /// `spot,%20one`), as are control characters and the `"`, `<`, `>` and `` ` `` that a browser
    /// encodes in a link's fragment (else the link would not find its id), and every character
    /// beyond ASCII, which a browser encodes there too (`é` → `%C3%A9`). The spelling is
    /// reversible, so distinct ids stay distinct anchors.
    public static func anchor(_ s: String) -> String {
        var text = ""
        for scalar in s.unicodeScalars {
            if "%\"<>`".unicodeScalars.contains(scalar) || scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value >= 0x7F {
                for byte in String(scalar).utf8 { text += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) }
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return escape(text)
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - count)) + self }
}
