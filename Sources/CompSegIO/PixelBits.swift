/// A mask held as bits (pixel p is bit p & 7 of byte p >> 3): an eighth of a `[Bool]`, for slides.
public struct PixelBits: Sendable {
    public private(set) var bytes: [UInt8]
    public init(count: Int) { bytes = [UInt8](repeating: 0, count: (count + 7) / 8) }
    @inline(__always) public subscript(p: Int) -> Bool { bytes[p >> 3] & (1 << UInt8(p & 7)) != 0 }
    @inline(__always) public mutating func set(_ p: Int) { bytes[p >> 3] |= 1 << UInt8(p & 7) }
}
