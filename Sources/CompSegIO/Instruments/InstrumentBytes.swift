import Foundation

/// Byte order of the numbers in a file.
enum ByteOrder: Sendable { case little, big }

/// A file opened for reads that are checked against its length first, so that no size field in the
/// file can make a reader run past its end or allocate more than the file holds.
final class BoundedFile {
    let path: String
    let length: Int
    private let handle: FileHandle

    init(_ url: URL) throws {
        try requireExistingFile(url)
        path = url.path
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw IOError(file: url.path, "cannot be opened for reading: \(systemReason(error))")
        }
        guard let end = try? handle.seekToEnd(), let length = Int(exactly: end) else {
            throw IOError(file: url.path, "cannot be read to its end (a folder, or a device?)")
        }
        (self.handle, self.length) = (handle, length)
    }

    deinit { try? handle.close() }

    /// `count` bytes from `offset`; `what` names them in the error when the file is shorter.
    func bytes(at offset: Int, count: Int, _ what: String) throws -> Bytes {
        guard offset >= 0, count >= 0, offset <= length, count <= length - offset else {
            throw IOError(file: path, "\(what): needs \(count) bytes at offset \(offset), but the file has only \(length)")
        }
        guard count > 0 else { return Bytes([], file: path) }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw IOError(file: path, "\(what): read \(data.count) of \(count) bytes") }
            return Bytes([UInt8](data), file: path)
        } catch let error as IOError { throw error } catch {
            throw IOError(file: path, "\(what): \(error.localizedDescription)")
        }
    }

    /// The whole file.
    func all(_ what: String) throws -> Bytes { try bytes(at: 0, count: length, what) }

    /// `count` samples from `offset` (which the caller checked the file holds), read 4 MB at a
    /// time, sample e put at `place(e)` of the result: a cube in any order is rearranged as it is
    /// read, and the file is never held whole. `ignore` as `Bytes.samples`'.
    func samples(at offset: Int, count: Int, _ type: SampleType, order: ByteOrder, ignore: Double? = nil, _ what: String,
                 place: (Int) -> Int) throws -> [Float] {
        let chunk = max(1, (4 << 20) / type.size)
        var values = [Float](repeating: 0, count: count), first = 0
        while first < count {
            let n = min(chunk, count - first)
            let part = try bytes(at: offset + first * type.size, count: n * type.size, what)
                .samples(type, at: 0, count: n, order: order, ignore: ignore, what)
            values.withUnsafeMutableBufferPointer { out in for i in 0..<n { out[place(first + i)] = part[i] } }
            first += n
        }
        return values
    }
}

/// Copies pixel-major spectra ([pixel][band], starting at pixel `p0`) into the band-major cube:
/// blocks of 8 pixels × 8 bands are transposed in registers, so both sides move in runs of 8.
public func placeSpectra(_ slab: [Float], fromPixel p0: Int, bands b: Int, plane: Int, into cube: inout [Float]) {
    guard b > 0, slab.count >= b else { return }
    let pixels = slab.count / b
    let (pixels8, bands8) = (pixels / 8 * 8, b / 8 * 8)
    slab.withUnsafeBufferPointer { s in
        cube.withUnsafeMutableBufferPointer { c in
            let (source, target) = (s.baseAddress!, c.baseAddress! + p0)
            for p in stride(from: 0, to: pixels8, by: 8) {
                for k in stride(from: 0, to: bands8, by: 8) {
                    func row(_ j: Int) -> SIMD8<Float> {
                        UnsafeRawPointer(source + (p + j) * b + k).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    var r = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
                    transpose8(&r)
                    func put(_ i: Int, _ v: SIMD8<Float>) {
                        UnsafeMutableRawPointer(target + (k + i) * plane + p).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                    put(0, r.0); put(1, r.1); put(2, r.2); put(3, r.3); put(4, r.4); put(5, r.5); put(6, r.6); put(7, r.7)
                }
                for k in bands8..<b { for j in 0..<8 { target[k * plane + p + j] = source[(p + j) * b + k] } }
            }
            for p in pixels8..<pixels { for k in 0..<b { target[k * plane + p] = source[p * b + k] } }
        }
    }
}

/// Transposes the 8×8 matrix whose rows are `r`: three perfect shuffles (for i < 4, rows i and
/// i + 4 of each pass take the even and the odd elements of rows 2i and 2i + 1 joined).
@inline(__always)
private func transpose8(_ r: inout (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                                    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) {
    for _ in 0..<3 {
        let a = SIMD16(lowHalf: r.0, highHalf: r.1), b = SIMD16(lowHalf: r.2, highHalf: r.3)
        let c = SIMD16(lowHalf: r.4, highHalf: r.5), d = SIMD16(lowHalf: r.6, highHalf: r.7)
        r = (a.evenHalf, b.evenHalf, c.evenHalf, d.evenHalf, a.oddHalf, b.oddHalf, c.oddHalf, d.oddHalf)
    }
}

/// Bytes read from a file, with bounds-checked reads of numbers in either byte order.
struct Bytes {
    let raw: [UInt8]
    let file: String
    init(_ raw: [UInt8], file: String) { (self.raw, self.file) = (raw, file) }
    var count: Int { raw.count }

    /// The integer at `offset`; `field` names it in the error when the bytes end first.
    func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int, _ field: String, _ order: ByteOrder = .little) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= raw.count - size else {
            throw IOError(file: file, "\(field): needs \(size) bytes at offset \(offset), but only \(raw.count) were read")
        }
        let value = raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        return order == .little ? T(littleEndian: value) : T(bigEndian: value)
    }

    func uint32(at offset: Int, _ field: String) throws -> UInt32 { try integer(UInt32.self, at: offset, field) }
    func int32(at offset: Int, _ field: String) throws -> Int32 { try integer(Int32.self, at: offset, field) }
    func float32(at offset: Int, _ field: String) throws -> Float { Float(bitPattern: try uint32(at: offset, field)) }
    func float64(at offset: Int, _ field: String) throws -> Double {
        Double(bitPattern: try integer(UInt64.self, at: offset, field))
    }

    /// An unsigned 64-bit count as an Int; larger than Int.max is an error naming `field`.
    func count64(at offset: Int, _ field: String) throws -> Int {
        let value = try integer(UInt64.self, at: offset, field)
        guard let int = Int(exactly: value) else { throw IOError(file: file, "\(field): \(value) is out of range") }
        return int
    }

    /// The bytes at `offset..<offset+length` as text, NULs and padding dropped.
    func ascii(at offset: Int, length: Int) -> String {
        guard offset >= 0, length >= 0, offset <= raw.count - length else { return "" }
        return String(raw[offset..<offset + length].map { (32..<127).contains($0) ? Character(UnicodeScalar($0)) : "?" })
    }

    /// `count` samples of `type` from `offset`, as Float; NaN where a sample equals `ignore` in
    /// `type`'s own values (a float32 sample equals the float32 nearest `ignore`: headers write
    /// FLT_MAX as -3.40282346639e+38, 0.1 as 0.100000001).
    func samples(_ type: SampleType, at offset: Int, count: Int, order: ByteOrder, ignore: Double? = nil,
                 _ what: String) throws -> [Float] {
        let ignore = type == .float32 ? ignore.map { Double(Float($0)) } : ignore
        guard let bytes = checkedProduct(count, type.size), offset >= 0, offset <= raw.count - bytes else {
            throw IOError(file: file, "\(what): needs \(count) samples of \(type.size) bytes at offset \(offset), but only \(raw.count) bytes were read")
        }
        return raw.withUnsafeBytes { buffer in
            switch type {
            case .int8: decode(buffer, Int8.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .uint8: decode(buffer, UInt8.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .int16: decode(buffer, Int16.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .uint16: decode(buffer, UInt16.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .int32: decode(buffer, Int32.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .uint32: decode(buffer, UInt32.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .int64: decode(buffer, Int64.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .uint64: decode(buffer, UInt64.self, offset, count, order, ignore) { (Float($0), Double($0)) }
            case .float32: decode(buffer, UInt32.self, offset, count, order, ignore) {
                let value = Float(bitPattern: $0); return (value, Double(value))
            }
            case .float64: decode(buffer, UInt64.self, offset, count, order, ignore) {
                let value = Double(bitPattern: $0); return (Float(value), value)
            }
            }
        }
    }
}

/// Decodes `count` integers of type T from `offset`; `convert` gives the Float to keep and the
/// Double to compare with `ignore`.
@inline(__always)
private func decode<T: FixedWidthInteger>(_ buffer: UnsafeRawBufferPointer, _: T.Type, _ offset: Int, _ count: Int,
                                          _ order: ByteOrder, _ ignore: Double?, _ convert: (T) -> (Float, Double)) -> [Float] {
    let size = MemoryLayout<T>.size
    return [Float](unsafeUninitializedCapacity: count) { out, initialized in
        for i in 0..<count {
            let stored = buffer.loadUnaligned(fromByteOffset: offset + i * size, as: T.self)
            let (value, exact) = convert(order == .little ? T(littleEndian: stored) : T(bigEndian: stored))
            out[i] = exact == ignore ? .nan : value
        }
        initialized = count
    }
}

/// The number types instrument files store samples in.
enum SampleType: Sendable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    var size: Int {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        }
    }
}

/// The product of `factors`, or nil when it overflows Int or a factor is negative.
func checkedProduct(_ factors: Int...) -> Int? { checkedProduct(factors) }

/// The product of `factors` (a dataset's shape, say), or nil when it overflows Int or a factor is negative.
public func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}

/// The file named `name` in `folder`: that exact name if it exists, else one that matches ignoring case
/// (instrument software is not consistent about case, e.g. `5_mosaic.dmt` beside `5_Mosaic_0000_0000.dmd`).
func sibling(_ name: String, in folder: URL) -> URL? {
    let exact = folder.appendingPathComponent(name)
    if isRegularFile(exact) { return exact }
    let lowered = name.lowercased()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.sorted().lazy.filter { $0.lowercased() == lowered }
        .map { folder.appendingPathComponent($0) }.first(where: isRegularFile)
}

/// Whether `url` names an existing file that is not a folder.
func isRegularFile(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
}

/// `url`'s name without its last extension, and that extension in lower case ("" when none).
func stemAndExtension(_ url: URL) -> (stem: String, ext: String) {
    (url.deletingPathExtension().lastPathComponent, url.pathExtension.lowercased())
}
