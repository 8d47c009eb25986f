import CompSegCore

/// A grey-level stencil: per pixel the fraction (0…1) of it that a shape covers. Shapes (text,
/// lines, discs) are rasterized into coverage first and then blended onto a picture once, so that
/// their edges are antialiased and overlapping parts of one shape do not darken.
public struct Coverage: Sendable, Equatable {
    public let width: Int, height: Int
    /// Row-major, `height`×`width`, each in [0, 1].
    public var values: [Float]

    public init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "Coverage: negative size \(width)×\(height)")
        self.width = width
        self.height = height
        values = [Float](repeating: 0, count: width * height)
    }

    public subscript(x: Int, y: Int) -> Float {
        get { values[y * width + x] }
        set { values[y * width + x] = newValue }
    }

    /// Raises the coverage of one pixel to `c` (the union of shapes keeps the larger); clipped.
    public mutating func cover(x: Int, y: Int, _ c: Float) {
        guard x >= 0, y >= 0, x < width, y < height, c > 0 else { return }
        let i = y * width + x
        if c > values[i] { values[i] = min(c, 1) }
    }

    /// The stencil turned a quarter counter-clockwise (text then reads bottom to top).
    public func rotatedCounterClockwise() -> Coverage {
        var out = Coverage(width: height, height: width)
        for y in 0..<out.height { for x in 0..<out.width { out[x, y] = self[width - 1 - y, x] } }
        return out
    }

    /// A stroke `lineWidth` pixels wide along the segment from (x0, y0) to (x1, y1), with round ends
    /// (pixel (i, j) spans [i, i+1)×[j, j+1), its centre at (i + ½, j + ½)). Each pixel is covered by
    /// max(0, min(1, w/2 + 1/2 − d)), d the distance of its centre to the segment: a one-pixel linear
    /// ramp that approximates the area covered. With `dash` > 0, only pixels whose position along the
    /// line (plus `dashOffset`) falls in an even `dash`-long interval are drawn.
    public mutating func stroke(x0: Double, y0: Double, x1: Double, y1: Double, lineWidth: Double,
                                dash: Double = 0, dashOffset: Double = 0) {
        let dx = x1 - x0, dy = y1 - y0
        let squared = dx * dx + dy * dy, length = squared.squareRoot()
        let half = lineWidth / 2, pad = half + 1
        let xLow = max(0, Int((min(x0, x1) - pad).rounded(.down))), xHigh = min(width - 1, Int((max(x0, x1) + pad).rounded(.up)))
        let yLow = max(0, Int((min(y0, y1) - pad).rounded(.down))), yHigh = min(height - 1, Int((max(y0, y1) + pad).rounded(.up)))
        guard xLow <= xHigh, yLow <= yHigh else { return }
        for py in yLow...yHigh {
            for px in xLow...xHigh {
                let cx = Double(px) + 0.5, cy = Double(py) + 0.5
                let t = squared > 0 ? min(max(((cx - x0) * dx + (cy - y0) * dy) / squared, 0), 1) : 0
                if dash > 0 && Int(((t * length + dashOffset) / dash).rounded(.down)) % 2 != 0 { continue }
                let qx = x0 + t * dx - cx, qy = y0 + t * dy - cy
                cover(x: px, y: py, Float(min(1, max(0, half + 0.5 - (qx * qx + qy * qy).squareRoot()))))
            }
        }
    }

    /// A polyline through `points`, `lineWidth` wide, its segments joined; dashes run on across joints.
    public mutating func stroke(_ points: [(x: Double, y: Double)], lineWidth: Double, dash: Double = 0) {
        guard let first = points.first else { return }
        if points.count == 1 { stroke(x0: first.x, y0: first.y, x1: first.x, y1: first.y, lineWidth: lineWidth); return }
        var travelled = 0.0
        for (a, b) in zip(points, points.dropFirst()) {
            stroke(x0: a.x, y0: a.y, x1: b.x, y1: b.y, lineWidth: lineWidth, dash: dash, dashOffset: travelled)
            travelled += ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        }
    }

    /// A filled disc of `radius` centred at (x, y), its edge a one-pixel ramp.
    public mutating func disc(x: Double, y: Double, radius: Double) {
        let xLow = max(0, Int((x - radius - 1).rounded(.down))), xHigh = min(width - 1, Int((x + radius + 1).rounded(.up)))
        let yLow = max(0, Int((y - radius - 1).rounded(.down))), yHigh = min(height - 1, Int((y + radius + 1).rounded(.up)))
        guard xLow <= xHigh, yLow <= yHigh else { return }
        for py in yLow...yHigh {
            for px in xLow...xHigh {
                let ex = Double(px) + 0.5 - x, ey = Double(py) + 0.5 - y
                cover(x: px, y: py, Float(min(1, max(0, radius + 0.5 - (ex * ex + ey * ey).squareRoot()))))
            }
        }
    }
}

extension RGBImage {
    /// Blends `colour` onto the picture through `coverage` placed with its top-left at (`x`, `y`):
    /// each pixel becomes (1 − c)·pixel + c·colour, rounded; clipped at the edges.
    public mutating func blend(_ coverage: Coverage, x: Int = 0, y: Int = 0, colour: RGB) {
        let c = [Double(colour.0), Double(colour.1), Double(colour.2)]
        for cy in 0..<coverage.height {
            let py = y + cy
            guard py >= 0, py < height else { continue }
            for cx in 0..<coverage.width {
                let px = x + cx, a = Double(coverage[cx, cy])
                guard px >= 0, px < width, a > 0 else { continue }
                let i = (py * width + px) * 3
                for k in 0..<3 { bytes[i + k] = UInt8(((1 - a) * Double(bytes[i + k]) + a * c[k]).rounded()) }
            }
        }
    }
}
