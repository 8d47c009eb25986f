import Foundation
import Testing

/// What a `report.html` must be: one self-contained page whose every image is embedded and decodes.
enum ReportChecks {
    /// Every `src="…"` of an `<img>` in `html`, in order.
    static func imageSources(_ html: String) -> [String] {
        html.components(separatedBy: "<img ").dropFirst().compactMap { tag -> String? in
            guard let start = tag.range(of: "src=\"")?.upperBound, let end = tag[start...].firstIndex(of: "\"") else { return nil }
            return String(tag[start..<end])
        }
    }

    /// Each embedded image's type and bytes; records an issue for any image that is not a data URI
    /// (a file or address the page would have to fetch) or whose base64 does not decode.
    static func embeddedImages(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) -> [(mime: String, data: Data)] {
        imageSources(html).compactMap { src in
            guard src.hasPrefix("data:"), let comma = src.firstIndex(of: ","), src[..<comma].hasSuffix(";base64") else {
                Issue.record("image not embedded: \(src.prefix(80))", sourceLocation: sourceLocation)
                return nil
            }
            let mime = String(src[src.index(src.startIndex, offsetBy: 5)..<src.range(of: ";base64")!.lowerBound])
            guard let data = Data(base64Encoded: String(src[src.index(after: comma)...])) else {
                Issue.record("\(mime) image whose base64 does not decode", sourceLocation: sourceLocation)
                return nil
            }
            return (mime, data)
        }
    }

    /// Checks that every image is a PNG (signature and a non-empty IHDR) or an SVG document, and
    /// returns the SVG documents' text.
    @discardableResult
    static func checkImages(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        var svgs: [String] = []
        let images = embeddedImages(html, sourceLocation: sourceLocation)
        #expect(!images.isEmpty, "no images", sourceLocation: sourceLocation)
        for (mime, data) in images {
            switch mime {
            case "image/png":
                let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
                #expect(Array(data.prefix(8)) == signature && data.count > 33, "PNG of \(data.count) bytes", sourceLocation: sourceLocation)
                if data.count > 24 {
                    let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
                    #expect(width > 0 && height > 0, sourceLocation: sourceLocation)
                }
            case "image/svg+xml":
                let text = String(decoding: data, as: UTF8.self)
                #expect(text.contains("<svg") && text.hasSuffix("</svg>\n"), sourceLocation: sourceLocation)
                svgs.append(text)
            default:
                Issue.record("unexpected image type \(mime)", sourceLocation: sourceLocation)
            }
        }
        // Every in-page link has its target; ids hold no whitespace.
        let ids = Set(html.components(separatedBy: " id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) })
        #expect(ids.allSatisfy { !$0.contains(where: \.isWhitespace) }, "ids with whitespace", sourceLocation: sourceLocation)
        for link in html.components(separatedBy: "href=\"#").dropFirst().map({ String($0.prefix { $0 != "\"" }) }) where !link.isEmpty {
            #expect(ids.contains(link), "link #\(link) has no target", sourceLocation: sourceLocation)
        }
        // Self-contained: nothing fetched from elsewhere.
        for fetch in ["<link ", "src=\"http", "src=\"file:", "<iframe"] {
            #expect(!html.contains(fetch), "report fetches: \(fetch)", sourceLocation: sourceLocation)
        }
        return svgs
    }
}
