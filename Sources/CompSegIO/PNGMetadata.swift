import Foundation

/// What a written PNG says of itself beside its pixels: text entries (PNG tEXt chunks, iTXt for
/// text beyond Latin-1's ASCII part) such as `Software` and `Description`, which image viewers,
/// `exiftool` and Pillow show, and the physical size of its pixels (pHYs, in pixels per metre),
/// from which viewers and Fiji take the picture's scale.
public struct PNGMetadata: Sendable, Equatable {
    /// Keyword and text pairs, in order; keywords are 1–79 printable ASCII characters.
    public var text: [Entry]
    /// The physical size of a pixel; nil where unknown.
    public var pixelSize: PixelSize?

    public struct Entry: Sendable, Equatable {
        public var keyword: String, value: String
        public init(_ keyword: String, _ value: String) { (self.keyword, self.value) = (keyword, value) }
    }

    public init(text: [Entry] = [], pixelSize: PixelSize? = nil) { (self.text, self.pixelSize) = (text, pixelSize) }

    /// The chunks (type, data) that say it, pHYs first, then `Software` (compseg and its version,
    /// unless `text` names another) and `text`; entries with an unusable keyword are left out.
    var chunks: [(type: String, data: [UInt8])] {
        var chunks: [(type: String, data: [UInt8])] = []
        let entries = (text.contains { $0.keyword == "Software" } ? [] : [Entry("Software", "compseg \(compsegVersion)")]) + text
        if let ppm = pixelSize?.pixelsPerMetre {
            func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
            chunks.append(("pHYs", bigEndian(ppm.x) + bigEndian(ppm.y) + [1]))
        }
        for entry in entries {
            let keyword = Array(entry.keyword.utf8)
            guard (1...79).contains(keyword.count), keyword.allSatisfy({ (0x20...0x7E).contains($0) }),
                  keyword.first != 0x20, keyword.last != 0x20 else { continue }
            let value = Array(entry.value.utf8)
            if value.allSatisfy({ $0 < 0x80 && $0 != 0 }) {
                chunks.append(("tEXt", keyword + [0] + value))
            } else {  // UTF-8: uncompressed, no language tag, no translated keyword
                chunks.append(("iTXt", keyword + [0, 0, 0, 0, 0] + value.filter { $0 != 0 }))
            }
        }
        return chunks
    }
}

extension PNGImage {
    /// Writes an 8-bit PNG atomically and durably (a temporary file beside it, flushed, then
    /// renamed), with `metadata`'s chunks before the image data: through `PNGRowWriter`, so that a
    /// picture written whole and one written row by row are the same bytes.
    /// - Throws: `IOError` naming the file with libpng's message.
    public func write(to url: URL, metadata: PNGMetadata = PNGMetadata()) throws {
        let writer = try PNGRowWriter(url: url, width: width, height: height, channels: channels, metadata: metadata)
        try writer.append(pixels)
        try writer.finish()
    }
}
