import Foundation
import CompSegIO
import CompSegNN

/// Reference cases written by PyTorch (`tools/make_torch_fixtures.py`), in `Tests/Fixtures/torch`.
public struct TorchFixture {
    public let name: String
    public let file: Safetensors

    /// Loads `Tests/Fixtures/torch/<name>.safetensors`.
    public init(_ name: String) throws {
        self.name = name
        file = try Safetensors(contentsOf: fixturesDirectory.appendingPathComponent("torch/\(name).safetensors"))
    }

    /// The tensor `key`; with `requiresGrad`, as a fresh leaf tracked for gradients.
    public func tensor(_ key: String, requiresGrad: Bool = false) throws -> Tensor {
        let t = try file.tensor(key, in: name)
        return requiresGrad ? try Tensor(shape: t.shape, scalars: t.scalars, requiresGrad: true) : t
    }

    public func has(_ key: String) -> Bool { file.tensors[key] != nil }

    /// A metadata value as a number.
    public func number(_ key: String) throws -> Float {
        guard let text = file.metadata[key], let v = Float(text) else {
            throw FixtureError("\(name): metadata '\(key)' is missing or not a number")
        }
        return v
    }
    public func flag(_ key: String) -> Bool { file.metadata[key] == "true" }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The repository's `Tests/Fixtures` folder (found from this source file's path).
public let fixturesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
