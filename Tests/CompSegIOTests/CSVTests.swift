import CompSegIO
import Testing

@Suite struct CSVTests {
    @Test func quotedFieldsHoldCommasQuotesAndNewlines() throws {
        let rows = try CSV.parse("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n", file: "t.csv")
        #expect(rows == [["a", "b"], ["x, y", #"say "hi""#], ["two\nlines", ""]])
        #expect(try CSV.parse("a,b", file: "t.csv") == [["a", "b"]])  // no final newline
    }

    @Test func anUnclosedQuoteNamesTheFileAndLine() {
        #expect(throws: IOError(file: "t.csv", "line 3: a quoted field is not closed")) {
            try CSV.parse("a,b\n1,2\n\"open,3\n", file: "t.csv")
        }
    }
}
