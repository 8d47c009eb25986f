import Foundation

/// What is wrong with a PNG's chunk structure, said in words, for the files libpng refuses with
/// only "Read Error" or "CRC error": a PNG is its 8-byte signature, then chunks of a 4-byte
/// big-endian length, a 4-byte type, the data and a CRC-32 of type and data, ending with IEND.
enum PNGChunks {
    /// " (the file ends …)" or " (chunk … fails its CRC check …)" for the first structural
    /// problem found, or "" when the chunks are whole (the trouble is then inside the image data).
    static func diagnosis(of url: URL) -> String {
        guard let bytes = try? Data(contentsOf: url, options: .mappedIfSafe) else { return "" }  // indices from 0
        var offset = 8
        var last = "the signature"
        while offset < bytes.count {
            guard offset + 8 <= bytes.count else {
                return " (the file ends at byte \(bytes.count), inside the header of the chunk after \(last): truncated)"
            }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let end = offset + 12 + length
            guard end <= bytes.count else {
                return " (the file ends at byte \(bytes.count), inside chunk \(type) that starts at byte \(offset) and "
                    + "needs \(end - offset) bytes: truncated)"
            }
            let stored = bytes[(end - 4)..<end].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard crc32(bytes[(offset + 4)..<(end - 4)]) == stored else {
                return " (chunk \(type) at byte \(offset) fails its CRC check: the file is damaged)"
            }
            if type == "IEND" { return "" }
            (last, offset) = ("chunk \(type) at byte \(offset)", end)
        }
        return " (the file ends at byte \(bytes.count) without the closing IEND chunk, after \(last): truncated)"
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
}
