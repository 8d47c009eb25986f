import Foundation

/// What is wrong with a PNG's chunk structure, said in words, for the files libpng refuses with
/// only "Read Error" or "CRC error": a PNG is its 8-byte signature, then chunks of a 4-byte
/// big-endian length, a 4-byte type, the data and a CRC-32 of type and data, ending with IEND.
enum PNGChunks {
    /// The samples a pixel stores and their bits, as its IHDR chunk declares them (bytes 24 and 25
    /// of the file: bit depth, colour type); nil where the file is shorter.
    static func storedSamples(of url: URL) -> (channels: Int, bits: Int)? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 26), head.count == 26 else { return nil }
        return (storedChannels(colourType: Int(head[head.startIndex + 25])), Int(head[head.startIndex + 24]))
    }

    /// The samples a pixel of PNG colour type `colourType` stores: 1 for grey and palette indexes
    /// (whatever a tRNS chunk expands them to), 2 grey and alpha, 3 RGB, 4 RGBA.
    static func storedChannels(colourType: Int) -> Int {
        switch colourType { case 2: 3; case 4: 2; case 6: 4; default: 1 }
    }

    /// " (the file ends …)" or " (chunk … fails its CRC check …)" for the first structural
    /// problem found, or "" when the chunks are whole (the trouble is then inside the image data).
    static func diagnosis(of url: URL) -> String {
        guard let bytes = try? Data(contentsOf: url, options: .mappedIfSafe) else { return "" }  // indices from 0
        var offset = 8
        var last = "the signature"
        while offset < bytes.count {
            guard offset + 8 <= bytes.count else { return endsInsideHeader(bytes.count, after: last) }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let end = offset + 12 + length
            guard end <= bytes.count else { return endsInsideChunk(bytes.count, type, at: offset, end: end) }
            let stored = bytes[(end - 4)..<end].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard crc32(bytes[(offset + 4)..<(end - 4)]) == stored else {
                return " (chunk \(type) at byte \(offset) fails its CRC check: the file is damaged)"
            }
            if type == "IEND" { return "" }
            if type == "IHDR", let problem = headerProblem(Array(bytes[(offset + 8)..<(end - 4)])) { return " (IHDR: \(problem))" }
            (last, offset) = ("chunk \(type) at byte \(offset)", end)
        }
        return " (the file ends at byte \(bytes.count) without the closing IEND chunk, after \(last): truncated)"
    }

    /// What is wrong with the fields of an IHDR chunk's data (libpng says only "Invalid IHDR data"),
    /// nil where they are a PNG's: 13 bytes; width and height 1 to libpng's limit of 1,000,000; a
    /// colour type of 0, 2, 3, 4 or 6 with a bit depth it allows; compression and filter method 0;
    /// interlace 0 or 1.
    static func headerProblem(_ data: [UInt8]) -> String? {
        guard data.count == 13 else { return "\(data.count) bytes of data; expected 13" }
        func size(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        for (name, value) in [("width", size(0)), ("height", size(4))] where !(1...1_000_000).contains(value) {
            return "\(name) \(value); expected 1 to 1000000 pixels, the most libpng reads a side"
        }
        let (depth, colour) = (Int(data[8]), Int(data[9]))
        let allowed: [Int: (String, [Int])] = [0: ("grey", [1, 2, 4, 8, 16]), 2: ("RGB", [8, 16]), 3: ("palette", [1, 2, 4, 8]),
                                               4: ("grey and alpha", [8, 16]), 6: ("RGBA", [8, 16])]
        guard let (name, depths) = allowed[colour] else { return "colour type \(colour); expected 0, 2, 3, 4 or 6" }
        guard depths.contains(depth) else {
            return "bit depth \(depth) with colour type \(colour) (\(name)); expected \(depths.map(String.init).joined(separator: ", "))"
        }
        if data[10] != 0 || data[11] != 0 { return "compression method \(data[10]) and filter method \(data[11]); expected 0 and 0" }
        if data[12] > 1 { return "interlace method \(data[12]); expected 0 (none) or 1 (Adam7)" }
        return nil
    }

    /// CRC-32 as PNG computes it (polynomial 0xEDB88320, reflected, inverted before and after).
    static func crc32<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func endsInsideHeader(_ size: Int, after last: String) -> String {
        " (the file ends at byte \(size), inside the header of the chunk after \(last): truncated)"
    }

    static func endsInsideChunk(_ size: Int, _ type: String, at offset: Int, end: Int) -> String {
        " (the file ends at byte \(size), inside chunk \(type) that starts at byte \(offset) and needs \(end - offset) bytes: truncated)"
    }

    /// Throws when `url` ends inside a chunk (a PNG cut short, which libpng finds only when it
    /// decodes the rows there), so that the header pass over a manifest's images names it. A file
    /// that ends with a whole IEND chunk passes on its last 12 bytes; another has its chunks'
    /// headers read, 8 bytes each (one whose last chunk is whole without IEND passes: libpng reads
    /// it). Checked once a process for each version of the file.
    static func requireWhole(_ url: URL) throws {
        try checked.run(url) {
            if let problem = cutShort(url) { throw IOError(file: url.path, "not a readable PNG" + problem) }
        }
    }

    private static let checked = OncePerFileVersion()

    /// `requireWhole`'s reason, or nil.
    private static func cutShort(_ url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }  // the reader names it
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end > 20, (try? handle.seek(toOffset: end - 12)) != nil else { return nil }
        let closing: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        if let tail = try? handle.read(upToCount: 12), Array(tail) == closing { return nil }
        let size = Int(end)
        var offset = 8, last = "the signature"
        while offset < size {
            guard offset + 8 <= size else { return endsInsideHeader(size, after: last) }
            guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let head = try? handle.read(upToCount: 8), head.count == 8 else { return nil }
            let bytes = Array(head), length = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[4..<8], as: UTF8.self), chunkEnd = offset + 12 + length
            guard chunkEnd <= size else { return endsInsideChunk(size, type, at: offset, end: chunkEnd) }
            if type == "IEND" { return nil }
            (last, offset) = ("chunk \(type) at byte \(offset)", chunkEnd)
        }
        return nil
    }

}
