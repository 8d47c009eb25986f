import CompSegNN

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

/// Runs `body` on `x` reflect-padded so H and W are multiples of 2^depth (what `depth` halvings
/// need), and crops its output back to x's H×W. Sizes that already fit pass through unchanged.
public func withMultipleOfPowerOfTwo(_ x: Tensor, depth: Int, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    let m = 1 << depth
    let (h, w) = (x.shape.h, x.shape.w)
    let (padH, padW) = ((m - h % m) % m, (m - w % m) % m)
    if padH == 0 && padW == 0 { return try body(x) }
    guard padH / 2 + padH % 2 < h, padW / 2 + padW % 2 < w else {
        throw ShapeError("network", "image \(h)×\(w) is too small to pad to a multiple of \(m) by reflection")
    }
    let padded = try reflectPad(x, top: padH / 2, bottom: padH - padH / 2, left: padW / 2, right: padW - padW / 2)
    return try crop(body(padded), top: padH / 2, left: padW / 2, height: h, width: w)
}
