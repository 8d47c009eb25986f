import Testing
@testable import CompSegTraining

@Suite struct ReportHTMLTests {
    /// Sample ids become element ids without whitespace (HTML forbids it), escaped, and the
    /// sortable table links to the same anchor.
    @Test func anchorsHoldNoWhitespace() {
        #expect(ReportHTML.anchor("spot, one") == "spot,_one")
        #expect(ReportHTML.anchor("a \t b\"") == "a_b&quot;")
        let table = ReportHTML.sortableTable(header: ["id", "n"], numeric: [1], rows: [["spot, one", "3"]], rowIDs: ["unet-spot, one"])
        #expect(table.contains("<a href=\"#unet-spot,_one\">spot, one</a>"), "\(table)")
    }
}
