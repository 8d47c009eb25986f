import Foundation
import Testing
import CompSegNN
@testable import CompSegIO

@Suite struct SafetensorsTests {
    @Test func roundTrips() throws {
        let (dir, cleanup) = try temporaryFolder("st")
        defer { cleanup() }
        let url = dir.appendingPathComponent("w.safetensors")
        let weight = try Tensor(shape: [2, 3, 1, 1], scalars: [1, -2, 3.5, 0, 1e-7, -1e30])
        let bias = try Tensor(shape: [2], scalars: [0.25, -0.75])
        try Safetensors(tensors: ["down.0.0.weight": weight, "down.0.0.bias": bias], metadata: ["epoch": "3"]).write(to: url)
        let read = try Safetensors(contentsOf: url)
        #expect(read.metadata == ["epoch": "3"])
        #expect(read.tensors.keys.sorted() == ["down.0.0.bias", "down.0.0.weight"])
        #expect(try read.tensor("down.0.0.weight").shape == [2, 3, 1, 1])
        #expect(try read.tensor("down.0.0.weight").scalars == weight.scalars)
        #expect(try read.tensor("down.0.0.bias").scalars == [0.25, -0.75])
        #expect(contents(of: dir) == ["w.safetensors"])
    }

    /// Bytes of the data changed after writing (a damaged disk or copy) are found by the checksum
    /// written with them; a file without one (another program's) reads as it is.
    @Test func damagedDataIsFound() throws {
        let data = Safetensors(tensors: ["a": try Tensor(shape: [5], scalars: [1, 2, 3, 4, 5]),
                                         "b": try Tensor(shape: [3], scalars: [-1, 0.5, 7])]).serialized()
        var damaged = data
        damaged[damaged.count - 7] ^= 0x10
        #expect { _ = try Safetensors(data: damaged, name: "c.safetensors") } throws: {
            "\($0)".contains("c.safetensors: its data do not match the checksum written with them")
        }
        // The same file with its checksum left out of the header (spaces in its place) reads unchecked.
        let headerLength = Int(data[0]) | Int(data[1]) << 8
        var header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
        let key = try #require(header.range(of: #""__metadata__":\{"compseg_data_checksum":"[0-9a-f]{16}"\},"#, options: .regularExpression))
        header.replaceSubrange(key, with: String(repeating: " ", count: header.distance(from: key.lowerBound, to: key.upperBound)))
        var unchecked = damaged
        unchecked.replaceSubrange(8..<(8 + headerLength), with: Data(header.utf8))
        #expect(try Safetensors(data: unchecked).tensors.count == 2)
    }

    @Test func truncatedFileNamesIt() throws {
        let (dir, cleanup) = try temporaryFolder("st-cut")
        defer { cleanup() }
        let url = dir.appendingPathComponent("cut.safetensors")
        let data = Safetensors(tensors: ["w": try Tensor(shape: [4], scalars: [1, 2, 3, 4])]).serialized()
        for (length, text) in [(data.count - 4, "truncated: tensor 'w' ends at byte 16 of the data its header describes, and the file holds 12"),
                               (20, "exceeds the file size"), (5, "truncated")] {
            try data.prefix(length).write(to: url)
            do {
                _ = try Safetensors(contentsOf: url)
                Issue.record("expected an error for \(length) bytes")
            } catch let error as SafetensorsError {
                #expect(error.file == url.path)
                #expect(error.description.hasPrefix("\(url.path): ") && error.message.contains(text), "\(error)")
            }
        }
    }

    /// Shapes and byte ranges whose products or sums overflow are refused before anything is read.
    @Test func overflowingHeadersAreRefused() throws {
        for entry in [#"{"t":{"dtype":"F32","shape":[2147483648,2147483648,2147483648],"data_offsets":[0,4]}}"#,
                      #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4611686018427387904,9223372036854775807]}}"#,
                      #"{"t":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,4]}}"#] {
            var data = Data()
            var length = UInt64(entry.utf8.count).littleEndian
            withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
            data.append(contentsOf: Array(entry.utf8) + [0, 0, 0, 0])
            #expect(throws: SafetensorsError.self) { try Safetensors(data: data, name: "x.safetensors") }
        }
    }
}
