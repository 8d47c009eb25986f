import CompSegCore

/// Maps and masks reduced by a whole factor, block by block as `RGBImage.shrunk(toFit:)` reduces
/// pictures (blocks at the right and bottom edges hold what is left), so that the three line up.
public enum Downscale {
    /// The factor `RGBImage.shrunk(toFit: side)` takes for a `height`×`width` picture (1: unchanged).
    public static func factor(height: Int, width: Int, toFit side: Int) -> Int {
        max(1, (max(height, width) + side - 1) / max(side, 1))
    }

    /// The size a `height`×`width` picture has after reduction by `factor`.
    public static func size(height: Int, width: Int, factor: Int) -> (height: Int, width: Int) {
        ((height + factor - 1) / factor, (width + factor - 1) / factor)
    }

    /// Each block's mean of `value(p)` over its pixels (p = y·width + x).
    public static func mean(height: Int, width: Int, factor: Int, _ value: (Int) -> Float) -> [Float] {
        let (oh, ow) = size(height: height, width: width, factor: factor)
        var out = [Float](repeating: 0, count: oh * ow)
        for oy in 0..<oh { for ox in 0..<ow {
            var sum: Float = 0, n = 0
            for y in (oy * factor)..<min(height, (oy + 1) * factor) { for x in (ox * factor)..<min(width, (ox + 1) * factor) {
                sum += value(y * width + x); n += 1
            } }
            out[oy * ow + ox] = sum / Float(n)
        } }
        return out
    }

    /// Each block true where at least half its pixels are (`isOn(p)`, p = y·width + x).
    public static func majority(height: Int, width: Int, factor: Int, _ isOn: (Int) -> Bool) -> Mask {
        let (oh, ow) = size(height: height, width: width, factor: factor)
        var pixels = [Bool](repeating: false, count: oh * ow)
        for oy in 0..<oh { for ox in 0..<ow {
            var on = 0, n = 0
            for y in (oy * factor)..<min(height, (oy + 1) * factor) { for x in (ox * factor)..<min(width, (ox + 1) * factor) {
                if isOn(y * width + x) { on += 1 }
                n += 1
            } }
            pixels[oy * ow + ox] = 2 * on >= n
        } }
        return try! Mask(height: oh, width: ow, pixels: pixels)  // oh × ow pixels by construction
    }
}

extension Mask {
    /// Nearest-neighbour enlargement by a whole factor, as `RGBImage.scaled(by:)` enlarges a picture.
    public func scaled(by factor: Int) -> Mask {
        precondition(factor >= 1, "scale factor must be at least 1")
        guard factor > 1 else { return self }
        let (h, w) = (height * factor, width * factor)
        return try! Mask(height: h, width: w, pixels: (0..<(h * w)).map { pixels[($0 / w / factor) * width + ($0 % w) / factor] })
    }
}
