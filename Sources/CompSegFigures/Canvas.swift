import Foundation
import CompSegCore
import CompSegIO

/// An 8-bit RGB colour.
public typealias RGB = (UInt8, UInt8, UInt8)

/// Colours figures share.
public enum Palette {
    public static let white: RGB = (255, 255, 255)
    public static let black: RGB = (0, 0, 0)
    public static let grey: RGB = (128, 128, 128)
    public static let lightGrey: RGB = (200, 200, 200)
    /// One distinct colour per curve: Okabe and Ito's colours, which readers with red–green
    /// colour blindness tell apart too (blue, vermilion, bluish green, reddish purple, orange,
    /// sky blue, black; yellow, faint on white, last).
    public static let categorical: [RGB] = [
        (0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233), (0, 0, 0), (240, 228, 66),
    ]
    /// The relative luminance of a colour (WCAG 2: sRGB linearized, weighted 0.2126, 0.7152, 0.0722).
    public static func luminance(_ c: RGB) -> Double {
        func linear(_ v: UInt8) -> Double {
            let s = Double(v) / 255
            return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(c.0) + 0.7152 * linear(c.1) + 0.0722 * linear(c.2)
    }

    /// The contrast ratio of two colours (WCAG 2): 1 alike, 21 black on white.
    public static func contrast(_ a: RGB, _ b: RGB) -> Double {
        let (x, y) = (luminance(a), luminance(b))
        return (max(x, y) + 0.05) / (min(x, y) + 0.05)
    }

    /// `colour` for text on white where it reads (a contrast of 3 or more, as large text needs), else black.
    public static func legibleOnWhite(_ colour: RGB) -> RGB { contrast(colour, white) >= 3 ? colour : black }

    /// `#rrggbb` for SVG.
    public static func hex(_ c: RGB) -> String { String(format: "#%02x%02x%02x", c.0, c.1, c.2) }
}

extension RGBImage {
    /// The colour at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> RGB {
        let i = (y * width + x) * 3
        return (bytes[i], bytes[i + 1], bytes[i + 2])
    }

    /// Sets one pixel; coordinates outside the picture are ignored (drawing clips).
    public mutating func set(x: Int, y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        (bytes[i], bytes[i + 1], bytes[i + 2]) = c
    }

    /// Fills the rectangle with top-left (`x`, `y`), clipped.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB) {
        for yy in max(y, 0)..<max(min(y + h, height), max(y, 0)) {
            for xx in max(x, 0)..<max(min(x + w, width), max(x, 0)) { set(x: xx, y: yy, c) }
        }
    }

    /// A straight line (Bresenham) from (x0, y0) to (x1, y1), `thickness` pixels wide (a square pen);
    /// with `dash` > 0 it alternates `dash` pixels drawn and `dash` skipped along the line.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, _ c: RGB, thickness: Int = 1, dash: Int = 0) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var (x, y, err, step) = (x0, y0, dx + dy, 0)
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            if dash <= 0 || (step / dash) % 2 == 0 {
                for oy in lo...hi { for ox in lo...hi { set(x: x + ox, y: y + oy, c) } }
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
            step += 1
        }
    }

    /// Copies `other` with its top-left corner at (`x`, `y`), clipped.
    public mutating func paste(_ other: RGBImage, x: Int, y: Int) {
        for yy in 0..<other.height { for xx in 0..<other.width { set(x: x + xx, y: y + yy, other.pixel(x: xx, y: yy)) } }
    }

    /// The `height`×`width` part whose top-left corner is (`x`, `y`) (outside the picture: black).
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        var out = RGBImage(height: height, width: width, fill: Palette.black)
        out.paste(self, x: -x, y: -y)
        return out
    }

    /// Nearest-neighbour enlargement by an integer factor.
    public func scaled(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "scale factor must be at least 1")
        guard factor > 1 else { return self }
        var out = RGBImage(height: height * factor, width: width * factor, fill: Palette.black)
        for y in 0..<out.height { for x in 0..<out.width { out.set(x: x, y: y, pixel(x: x / factor, y: y / factor)) } }
        return out
    }

    /// The picture shrunk by a whole factor until no side exceeds `side`: each pixel the mean of a
    /// block (those at the right and bottom edges of what they hold). Small pictures stay as they are.
    public func shrunk(toFit side: Int) -> RGBImage {
        precondition(side >= 1, "shrunk(toFit:): the side must be at least 1 pixel, got \(side)")
        let factor = Downscale.factor(height: height, width: width, toFit: side)
        guard factor > 1 else { return self }
        let (oh, ow) = Downscale.size(height: height, width: width, factor: factor)
        var out = RGBImage(height: oh, width: ow, fill: Palette.black)
        for oy in 0..<oh { for ox in 0..<ow {
            var sum = (0, 0, 0), n = 0
            for y in (oy * factor)..<min(height, (oy + 1) * factor) { for x in (ox * factor)..<min(width, (ox + 1) * factor) {
                let p = pixel(x: x, y: y)
                sum = (sum.0 + Int(p.0), sum.1 + Int(p.1), sum.2 + Int(p.2)); n += 1
            } }
            out.set(x: ox, y: oy, (UInt8((sum.0 + n / 2) / n), UInt8((sum.1 + n / 2) / n), UInt8((sum.2 + n / 2) / n)))
        } }
        return out
    }

    /// The picture as an RGB `PNGImage` (write it with `write(to:)`).
    public var png: PNGImage { PNGImage(width: width, height: height, channels: 3, pixels: bytes) }

    /// Writes the picture as an 8-bit RGB PNG, with `metadata`'s text and pixel size.
    public func writePNG(to url: URL, metadata: PNGMetadata = PNGMetadata()) throws { try png.write(to: url, metadata: metadata) }
}
