import CompSegCore

/// Masks drawn over previews.
public enum Overlay {
    /// Tints the mask's pixels: each becomes (1 − α)·preview + α·colour per channel (rounded to the
    /// nearest byte); pixels outside the mask are unchanged. `alpha` is clamped to [0, 1].
    public static func blend(preview: RGBImage, mask: Mask, colour: RGB = (255, 0, 0), alpha: Double = 0.35) -> RGBImage {
        precondition(preview.height == mask.height && preview.width == mask.width,
                     "Overlay: preview is \(preview.height)×\(preview.width), mask \(mask.height)×\(mask.width)")
        let a = min(max(alpha, 0), 1)
        let c = [colour.0, colour.1, colour.2]
        var out = preview
        for p in 0..<mask.pixels.count where mask.pixels[p] {
            for k in 0..<3 { out.bytes[3 * p + k] = tint(preview.bytes[3 * p + k], c[k], alpha: a) }
        }
        return out
    }

    /// One channel of a tinted pixel: (1 − α)·`value` + α·`colour`, rounded to the nearest byte
    /// (`alpha` in [0, 1]).
    @inline(__always)
    public static func tint(_ value: UInt8, _ colour: UInt8, alpha: Double) -> UInt8 {
        UInt8(min(max(((1 - alpha) * Double(value) + alpha * Double(colour)).rounded(), 0), 255))
    }

    /// Whether the pixel is on the mask's boundary: in the mask with a 4-neighbour outside it or off the image.
    public static func isBoundary(_ mask: Mask, x: Int, y: Int) -> Bool {
        isBoundary(x: x, y: y, height: mask.height, width: mask.width) { mask.pixels[$0] }
    }

    /// `isBoundary` for a `height`×`width` mask given by `isOn(p)` (p = y·width + x), such as one held as bits.
    @inline(__always)
    public static func isBoundary(x: Int, y: Int, height: Int, width: Int, _ isOn: (Int) -> Bool) -> Bool {
        let p = y * width + x
        guard isOn(p) else { return false }
        if x == 0 || y == 0 || x == width - 1 || y == height - 1 { return true }
        return !isOn(p - 1) || !isOn(p + 1) || !isOn(p - width) || !isOn(p + width)
    }

    /// Whether the pixel lies just outside the mask given by `isOn`: not in it, with a 4-neighbour in it.
    @inline(__always)
    public static func isHalo(x: Int, y: Int, height: Int, width: Int, _ isOn: (Int) -> Bool) -> Bool {
        let p = y * width + x
        guard !isOn(p) else { return false }
        return (x > 0 && isOn(p - 1)) || (x < width - 1 && isOn(p + 1)) || (y > 0 && isOn(p - width)) || (y < height - 1 && isOn(p + width))
    }

    /// The tone of the line just outside a contour of `colour`: black or white, whichever contrasts
    /// more with it, so that the outline stands out on any tissue, in grey print and for any colour
    /// vision (red on pink H&E differs little in lightness).
    public static func halo(for colour: RGB) -> RGB {
        Palette.contrast(colour, Palette.black) >= Palette.contrast(colour, Palette.white) ? Palette.black : Palette.white
    }

    /// Paints the mask's boundary pixels (`isBoundary`) in `colour` and the pixels just outside it
    /// (`isHalo`) in `halo(for: colour)`; everything else is unchanged.
    public static func contour(preview: RGBImage, mask: Mask, colour: RGB = (255, 0, 0)) -> RGBImage {
        precondition(preview.height == mask.height && preview.width == mask.width,
                     "Overlay: preview is \(preview.height)×\(preview.width), mask \(mask.height)×\(mask.width)")
        var out = preview
        let tone = halo(for: colour), (h, w) = (mask.height, mask.width)
        for y in 0..<h {
            for x in 0..<w {
                if isBoundary(mask, x: x, y: y) { out.set(x: x, y: y, colour) }
                else if isHalo(x: x, y: y, height: h, width: w, { mask.pixels[$0] }) { out.set(x: x, y: y, tone) }
            }
        }
        return out
    }
}
