/// The logical shape of a tensor: its dimensions outermost first (N×C×H×W for images,
/// O×I×kH×kW for convolution weights, C for biases and per-channel statistics).
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral dims: Int...) { self.dims = dims }

    public var rank: Int { dims.count }
    /// The number of elements; 1 for rank 0.
    public var count: Int { dims.reduce(1, *) }
    public subscript(axis: Int) -> Int { dims[axis] }

    /// N, C, H, W of a rank-4 shape.
    public var n: Int { dims[0] }
    public var c: Int { dims[1] }
    public var h: Int { dims[2] }
    public var w: Int { dims[3] }

    public var description: String { dims.map(String.init).joined(separator: "×") }
}

/// A rejected operation: names the op and what it was given.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let message: String
    public init(_ op: String, _ message: String) { self.op = op; self.message = message }
    public var description: String { "\(op): \(message)" }
}

/// Checks `condition`, else throws a `ShapeError` for `op` with `message`.
@inline(__always)
func require(_ condition: Bool, _ op: String, _ message: @autoclosure () -> String) throws(ShapeError) {
    if !condition { throw ShapeError(op, message()) }
}

extension Shape {
    /// Throws unless the shape is rank 4 with every dimension positive.
    func requireImage(_ op: String, _ name: String = "input") throws(ShapeError) {
        try require(rank == 4, op, "\(name) must be N×C×H×W, got rank \(rank) (\(self))")
        try require(dims.allSatisfy { $0 > 0 }, op, "\(name) must not be empty, got \(self)")
    }
}

extension Shape {
    /// Throws unless this is N×`channels`×H×W with no empty dimension, naming `network`.
    public func requireChannels(_ channels: Int, _ network: String) throws {
        guard rank == 4, dims.allSatisfy({ $0 > 0 }) else {
            throw ShapeError(network, "input must be N×C×H×W and not empty, got \(self)")
        }
        guard c == channels else {
            throw ShapeError(network, "input has \(c) channels; the network was built for \(channels)")
        }
    }
}
