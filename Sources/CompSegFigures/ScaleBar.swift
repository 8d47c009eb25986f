import CompSegCore
import Foundation

/// A scale bar: a round length drawn in a picture's lower left corner, black on a white box,
/// with the length written above it, so a picture shown or printed alone keeps its scale.
public enum ScaleBar {
    /// Space between the picture's edge, the box and its contents, in pixels.
    static let inset = 4, padding = 3
    /// The text's size (`Text.drawSmooth`).
    static let textSize = Text.tickSize

    /// The length, in µm, to show on a picture `width` pixels wide of `micrometresPerPixel`: the
    /// largest 1, 2 or 5 × 10ⁿ µm that takes at most a quarter of the width; nil where that would be
    /// under 12 pixels (a picture too small for a readable bar).
    public static func length(width: Int, micrometresPerPixel: Double) -> Double? {
        guard micrometresPerPixel > 0, micrometresPerPixel.isFinite, width > 0 else { return nil }
        let most = Double(width) / 4 * micrometresPerPixel
        var best: Double?
        var decade = pow10(Int((log10(most)).rounded(.down)) - 1)
        while decade <= most {
            for m in [1.0, 2, 5] where m * decade <= most { best = m * decade }
            decade *= 10
        }
        guard let best, best / micrometresPerPixel >= 12 else { return nil }
        return best
    }

    /// "50 µm", "1 mm", "2.5 mm": a length in µm as the bar's label says it.
    public static func label(_ micrometres: Double) -> String {
        func g(_ v: Double) -> String { String(format: "%g", v) }
        return micrometres >= 1000 ? "\(g(micrometres / 1000)) mm" : "\(g(micrometres)) µm"
    }

    /// `image` with a scale bar for pixels of `micrometresPerPixel`, or as it is where the picture is too small for one.
    public static func drawn(on image: RGBImage, micrometresPerPixel: Double) -> RGBImage {
        guard let length = length(width: image.width, micrometresPerPixel: micrometresPerPixel) else { return image }
        let bar = Int((length / micrometresPerPixel).rounded()), thickness = max(2, image.height / 80)
        // The text's height with its descent (µ reaches below the line).
        let text = label(length), textW = Text.width(text, size: textSize)
        let textH = Text.height(size: textSize) + Int((Double(Text.descent) * textSize).rounded(.up))
        let boxW = max(bar, textW) + 2 * padding, boxH = textH + padding + thickness + 2 * padding
        guard boxW + 2 * inset <= image.width, boxH + 2 * inset <= image.height else { return image }
        var out = image
        let (x0, y0) = (inset, image.height - inset - boxH)
        out.fillRect(x: x0, y: y0, width: boxW, height: boxH, Palette.white)
        Text.drawSmooth(text, into: &out, x: x0 + padding, y: y0 + padding, size: textSize)
        out.fillRect(x: x0 + padding, y: y0 + padding + textH + padding, width: bar, height: thickness, Palette.black)
        return out
    }

    private static func pow10(_ n: Int) -> Double {
        var v = 1.0
        if n >= 0 { for _ in 0..<n { v *= 10 } } else { for _ in 0..<(-n) { v /= 10 } }
        return v
    }
}
