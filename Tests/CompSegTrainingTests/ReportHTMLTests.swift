import Testing
@testable import CompSegTraining

@Suite struct ReportHTMLTests {
    /// Sample ids become element ids without whitespace (HTML forbids it), escaped, and the
    /// sortable table links to the same anchor; distinct ids stay distinct anchors.
    @Test func anchorsHoldNoWhitespace() {
        #expect(ReportHTML.anchor("spot, one") == "spot,%20one")
        #expect(ReportHTML.anchor("a \t b\"") == "a%20%09%20b%22")
        // What a browser encodes in a link's fragment is encoded in the id too, so the two match.
        #expect(ReportHTML.anchor("a<i>`&\u{1}") == "a%3Ci%3E%60&amp;%01")
        #expect(ReportHTML.anchor("50%\u{00A0}x") == "50%25%C2%A0x")
        #expect(ReportHTML.anchor("spot é") == "spot%20%C3%A9", "beyond ASCII: as a browser writes the link's fragment")
        let ids = ["spot one", "spot_one", "spot%20one", "spot  one", "spot\tone"]
        #expect(Set(ids.map(ReportHTML.anchor)).count == ids.count)
        let table = ReportHTML.sortableTable(header: ["id", "n"], numeric: [1], rows: [["spot, one", "3"]], rowIDs: ["unet-spot, one"])
        #expect(table.contains("<a href=\"#unet-spot,%20one\">spot, one</a>"), "\(table)")
    }

    /// Masks drawn in a colour near the truth's blue (`overlay --colour 0000ff`): the truth turns orange.
    @Test func truthColourStandsApartFromTheMasks() throws {
        #expect(EvaluationReport.truthColour(beside: (255, 0, 0)) == EvaluationReport.truthColour)
        for near: (UInt8, UInt8, UInt8) in [(0, 0, 255), (0, 160, 255), (30, 120, 200)] {
            #expect(EvaluationReport.truthColour(beside: near) == (255, 150, 0), "\(near)")
        }
        let legend = try EvaluationReport.sampleLegend(threshold: 0.4, colour: (0, 0, 255))
        #expect(legend.contains("background:#ff9600") && !legend.contains("background:#00a0ff"), "\(legend)")
    }
}
