import CompSegCore
import CompSegNN

/// Tiny synthetic data: 2-channel images with tissue inside a border; cancer images carry a
/// bright square in channel 1 that cancer-free images lack.
public struct SyntheticSquares {
    /// The square of each cancer sample, by sample id.
    public var squares: [String: (row: Int, col: Int)] = [:]
    public var samples: [Sample] = []
    public let size: Int, squareSide = 5

    public init(count: Int, size: Int = 16, seed: UInt64) throws {
        self.size = size
        var g = SeededGenerator(seed: seed)
        for k in 0..<count {
            let cancer = k % 2 == 0
            let id = "s\(k)"
            var pixels = [Float](repeating: 0, count: 2 * size * size)
            var tissue = [Bool](repeating: false, count: size * size)
            for r in 0..<size {
                for c in 0..<size {
                    let inside = r >= 2 && r < size - 2 && c >= 2 && c < size - 2
                    tissue[r * size + c] = inside
                    pixels[r * size + c] = (inside ? 0.5 : 0) + 0.1 * g.nextNormal()
                    pixels[size * size + r * size + c] = 0.1 * g.nextNormal()
                }
            }
            if cancer {
                let row = 2 + Int(g.next() % UInt64(size - 4 - squareSide + 1))
                let col = 2 + Int(g.next() % UInt64(size - 4 - squareSide + 1))
                squares[id] = (row, col)
                for r in row..<(row + squareSide) { for c in col..<(col + squareSide) { pixels[size * size + r * size + c] += 1 } }
            }
            samples.append(try Sample(id: id, image: Tensor(shape: [2, size, size], scalars: pixels),
                                      channels: .bands(["tissue", "marker"]),
                                      tissue: try Mask(height: size, width: size, pixels: tissue),
                                      preview: try RGBImage(height: size, width: size, bytes: Array(repeating: 0, count: 3 * size * size)),
                                      label: cancer ? .cancer : .cancerFree))
        }
    }

    public func inSquare(_ id: String, _ r: Int, _ c: Int) -> Bool {
        guard let s = squares[id] else { return false }
        return r >= s.row && r < s.row + squareSide && c >= s.col && c < s.col + squareSide
    }

    /// The mean activation of `network` (in inference mode) on tissue inside the squares of the
    /// cancer samples, and on the rest of their tissue.
    public func meanActivation(of network: any SegmentingNetwork) throws -> (inside: Float, outside: Float) {
        network.setTraining(false)
        let cancer = samples.filter { $0.label == .cancer }
        let plane = size * size
        let images = try Tensor(shape: [cancer.count, 2, size, size], scalars: cancer.flatMap(\.image.scalars))
        let maps = try withoutGradients { try network.activation(images) }.scalars
        var inside: [Float] = [], outside: [Float] = []
        for (k, s) in cancer.enumerated() {
            for p in 0..<plane where s.tissue.pixels[p] {
                if inSquare(s.id, p / size, p % size) { inside.append(maps[k * plane + p]) } else { outside.append(maps[k * plane + p]) }
            }
        }
        return (inside.reduce(0, +) / Float(inside.count), outside.reduce(0, +) / Float(outside.count))
    }
}
