import Foundation
import CompSegNN

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. CompSeg reads and writes
/// F32 tensors (reading also converts F64), with string metadata.
public struct Safetensors: Sendable {
    /// Tensors by name, in plain row-major layout.
    public var tensors: [String: Tensor]
    /// The header's `__metadata__` (string to string).
    public var metadata: [String: String]
    /// The data's checksum as the file read recorded it (`checksumKey`, checked): which weights
    /// these are, for the records made with them; nil for a file written otherwise.
    public private(set) var dataChecksum: String?
    /// The epoch a run's weights file says it kept (its metadata's `epoch`); nil where it does not say.
    public var keptEpoch: Int? { metadata["epoch"].flatMap { Int($0) } }

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor named `name`.
    /// - Throws: `SafetensorsError.missingTensor` listing the names that exist.
    public func tensor(_ name: String, in file: String = "safetensors") throws -> Tensor {
        guard let t = tensors[name] else {
            throw SafetensorsError(file: file, "no tensor named '\(name)'; it has \(tensors.keys.sorted().joined(separator: ", "))")
        }
        return t
    }
}

public struct SafetensorsError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

extension Safetensors {
    /// Reads a safetensors file.
    /// - Throws: `SafetensorsError` naming the file and what is wrong (truncated, bad header,
    ///   unsupported dtype, byte range outside the data, shape and byte count that disagree).
    public init(contentsOf url: URL) throws {
        let name = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError(file: name, "cannot be read: \(systemReason(error))")
        }
        try self.init(data: data, name: name)
    }

    public init(data: Data, name: String = "safetensors") throws {
        guard data.count >= 8 else { throw SafetensorsError(file: name, "truncated: \(data.count) bytes, no header") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafetensorsError(file: name, "header length \(headerLength) exceeds the file size \(data.count)")
        }
        let dataStart = 8 + Int(headerLength)
        let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart))
        guard let header = object as? [String: Any] else {
            throw SafetensorsError(file: name, "header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw SafetensorsError(file: name, "tensor '\(key)': header entry needs dtype, shape and data_offsets") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            default: throw SafetensorsError(file: name, "tensor '\(key)': dtype \(dtype) is not supported (F32, F64)")
            }
            // Sizes from the file: checked without overflow against the bytes there are.
            let dataBytes = data.count - dataStart
            if shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] > dataBytes {
                throw SafetensorsError(file: name, "truncated: tensor '\(key)' ends at byte \(offsets[1]) of the data its header "
                                       + "describes, and the file holds \(dataBytes) (a copy or download cut short?)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw SafetensorsError(file: name, "tensor '\(key)': shape \(shape) or byte range \(offsets) lies outside "
                                       + "the \(dataBytes) bytes of data")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataBytes else {
                    throw SafetensorsError(file: name, "tensor '\(key)': shape \(shape) holds more values than the file's \(dataBytes) bytes")
                }
                count = product
            }
            let (begin, end) = (dataStart + offsets[0], dataStart + offsets[1])
            guard end - begin == count * width else {
                throw SafetensorsError(file: name, "tensor '\(key)': shape \(shape) needs \(count * width) bytes, range has \(end - begin)")
            }
            let bytes = data.subdata(in: begin..<end)
            let values: [Float] = bytes.withUnsafeBytes { raw in
                width == 4
                    ? (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                    : (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            }
            tensors[key] = try Tensor(shape: Shape(shape.isEmpty ? [1] : shape), scalars: values)
        }
        let written = metadata[Self.checksumKey]
        if let written {
            let found = data.withUnsafeBytes { Self.checksum(UnsafeRawBufferPointer(rebasing: $0[dataStart...])) }
            guard written == found else {
                throw SafetensorsError(file: name, "its data do not match the checksum written with them (\(Self.checksumKey) "
                                       + "\(written), the data's \(found)): bytes changed after compseg wrote the file (a damaged disk or copy, or another "
                                       + "program that saved new weights and kept compseg's metadata: then delete the key \(Self.checksumKey) "
                                       + "from the file's __metadata__)")
            }
            metadata[Self.checksumKey] = nil
        }
        self.init(tensors: tensors, metadata: metadata)
        dataChecksum = written
    }

    /// The metadata key of the data's checksum, written with every file so that bytes changed
    /// afterwards (a disk or a copy that damaged them) are found when it is read; a file without
    /// one (another program's) is read unchecked.
    static let checksumKey = "compseg_data_checksum"

    /// FNV-1a over the data's little-endian 32-bit words (every tensor written is F32; bytes after
    /// the last whole word, which no file of ours has, count one by one), as 16 hex digits.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> String { String(format: "%016llx", checksumValue(bytes)) }

    /// `checksum`'s value, continuing from `start` (the value of the bytes before these).
    static func checksumValue(_ bytes: UnsafeRawBufferPointer, continuing start: UInt64 = 0xcbf29ce484222325) -> UInt64 {
        var h = start
        let words = bytes.count / 4
        for k in 0..<words { h = (h ^ UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))) &* 0x100000001b3 }
        for k in (4 * words)..<bytes.count { h = (h ^ UInt64(bytes[k]) ^ 0xff00) &* 0x100000001b3 }  // a tail never matches whole words
        return h
    }

    /// The checksum `serialized` writes for these tensors (`checksumKey`), as 16 hex digits.
    public var tensorsChecksum: String {
        String(format: "%016llx", Self.checksumValue(of: tensors.keys.sorted().map { tensors[$0]!.plain() }))
    }

    /// `checksumValue` over the tensors' data in the file's byte order, one after another.
    private static func checksumValue(of plain: [Tensor]) -> UInt64 {
        var sum: UInt64 = 0xcbf29ce484222325
        for t in plain {
            t.withPlainBuffer { buffer in
                #if _endian(little)
                sum = Self.checksumValue(UnsafeRawBufferPointer(buffer), continuing: sum)
                #else
                for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { sum = Self.checksumValue($0, continuing: sum) } }
                #endif
            }
        }
        return sum
    }

    /// The file's bytes: tensors as F32 in name order, 8-byte aligned header.
    public func serialized() -> Data {
        var header: [String: Any] = [:]
        let names = tensors.keys.sorted()
        let plain = names.map { tensors[$0]!.plain() }
        let sum = Self.checksumValue(of: plain)
        header["__metadata__"] = metadata.merging([Self.checksumKey: String(format: "%016llx", sum)]) { _, sum in sum }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape.dims, "data_offsets": [offset, offset + 4 * t.shape.count]]
            offset += 4 * t.shape.count
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in plain {
            t.withPlainBuffer { buffer in
                #if _endian(little)
                out.append(contentsOf: UnsafeRawBufferPointer(buffer))  // already the file's byte order: one copy
                #else
                for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #endif
            }
        }
        return out
    }

    /// Writes the file atomically and durably (temporary file in the same folder, fsync, rename).
    public func write(to url: URL) throws {
        try writeDurably(serialized(), to: url)
    }
}
