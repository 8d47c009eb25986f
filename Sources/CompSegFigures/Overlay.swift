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
            for k in 0..<3 {
                let v = (1 - a) * Double(preview.bytes[3 * p + k]) + a * Double(c[k])
                out.bytes[3 * p + k] = UInt8(min(max(v.rounded(), 0), 255))
            }
        }
        return out
    }

    /// Whether the pixel is on the mask's boundary: in the mask with a 4-neighbour outside it or off the image.
    public static func isBoundary(_ mask: Mask, x: Int, y: Int) -> Bool {
        guard mask.pixels[y * mask.width + x] else { return false }
        for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let nx = x + dx, ny = y + dy
            if nx < 0 || ny < 0 || nx >= mask.width || ny >= mask.height { return true }
            if !mask.pixels[ny * mask.width + nx] { return true }
        }
        return false
    }

    /// Paints the mask's boundary pixels (`isBoundary`) in `colour`; everything else is unchanged.
    public static func contour(preview: RGBImage, mask: Mask, colour: RGB = (255, 0, 0)) -> RGBImage {
        precondition(preview.height == mask.height && preview.width == mask.width,
                     "Overlay: preview is \(preview.height)×\(preview.width), mask \(mask.height)×\(mask.width)")
        var out = preview
        for y in 0..<mask.height { for x in 0..<mask.width where isBoundary(mask, x: x, y: y) { out.set(x: x, y: y, colour) } }
        return out
    }
}
