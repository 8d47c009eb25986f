import CompSegCore

/// A tiny bitmap text renderer: a built-in 5×7 pixel font, one pixel of spacing between glyphs, with
/// two rows below the line for the descenders of `g j p q y` and the comma.
///
/// Covers digits, `A`–`Z`, `a`–`z`, space and `. , - + ± = : / ( ) % _ < > [ ] ' ! ? * & – × ≥`; any other
/// character draws as a hollow box so that it is visible rather than silently dropped.
///
/// Figures draw with `drawSmooth` (SmoothText.swift): the same glyphs enlarged to any size, their
/// diagonals smoothed and their edges antialiased by pixel coverage; `draw` is the plain pixel version.
public enum Text {
    /// Glyph cell: 5 wide, 7 high (the line: capitals and digits), and `descent` 2 rows below it
    /// that layouts leave as gap; each character advances 6 (× scale) pixels.
    public static let glyphWidth = 5, glyphHeight = 7, descent = 2, advance = 6

    /// Width in pixels of `string` at `scale`: 6·n − 1 per unit scale (no trailing gap); 0 when empty.
    public static func width(_ string: String, scale: Int = 1) -> Int {
        let n = string.count
        return n == 0 ? 0 : (n * advance - 1) * scale
    }

    /// Height in pixels of a line at `scale`; descenders hang `descent`·scale below it.
    public static func height(scale: Int = 1) -> Int { glyphHeight * scale }

    /// Draws `string` with its top-left corner at (`x`, `y`); pixels off the image are clipped.
    public static func draw(_ string: String, into image: inout RGBImage, x: Int, y: Int,
                            colour: RGB = (0, 0, 0), scale: Int = 1) {
        precondition(scale >= 1, "Text scale must be at least 1")
        var penX = x
        for ch in string {
            let rows = glyph(ch)
            for (r, bits) in rows.enumerated() {
                for c in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - c)) != 0 {
                    image.fillRect(x: penX + c * scale, y: y + r * scale, width: scale, height: scale, colour)
                }
            }
            penX += advance * scale
        }
    }

    /// The 9 rows of `ch`, the line's 7 and the descent's 2 (bit 4 = leftmost column).
    public static func glyph(_ ch: Character) -> [UInt8] { font[ch] ?? unknown }

    /// Whether the font has a glyph for `ch`.
    public static func supports(_ ch: Character) -> Bool { font[ch] != nil }

    private static let unknown: [UInt8] = [0b11111, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11111, 0, 0]

    /// The glyphs; those written with 7 rows have an empty descent.
    static let font: [Character: [UInt8]] = drawn.mapValues { $0 + [UInt8](repeating: 0, count: glyphHeight + descent - $0.count) }

    private static let drawn: [Character: [UInt8]] = [
        " ": [0, 0, 0, 0, 0, 0, 0],
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        ".": [0, 0, 0, 0, 0, 0b01100, 0b01100],
        ",": [0, 0, 0, 0, 0, 0b01100, 0b01100, 0b00100, 0b01000],
        "-": [0, 0, 0, 0b11111, 0, 0, 0],
        "+": [0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0],
        "±": [0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0, 0b11111],
        "=": [0, 0, 0b11111, 0, 0b11111, 0, 0],
        ":": [0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0],
        "/": [0, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0],
        "(": [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        ")": [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        "%": [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011],
        "_": [0, 0, 0, 0, 0, 0, 0b11111],
        "<": [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010],
        ">": [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000],
        "A": [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "B": [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        "C": [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        "D": [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
        "E": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        "H": [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "J": [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        "K": [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        "M": [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        "N": [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "P": [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        "Q": [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        "T": [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        "U": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "V": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        "W": [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        "X": [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        "Y": [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100],
        "Z": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        "a": [0, 0, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111],
        "b": [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110],
        "c": [0, 0, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110],
        "d": [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111],
        "e": [0, 0, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110],
        "f": [0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000],
        "g": [0, 0, 0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110],
        "h": [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001],
        "i": [0b00100, 0, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110],
        "j": [0b00010, 0, 0b00110, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        "k": [0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010],
        "l": [0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "m": [0, 0, 0b11010, 0b10101, 0b10101, 0b10001, 0b10001],
        "n": [0, 0, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001],
        "o": [0, 0, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110],
        "p": [0, 0, 0b11110, 0b10001, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000],
        "q": [0, 0, 0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b00001],
        "r": [0, 0, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000],
        "s": [0, 0, 0b01110, 0b10000, 0b01110, 0b00001, 0b11110],
        "t": [0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110],
        "u": [0, 0, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101],
        "v": [0, 0, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        "w": [0, 0, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010],
        "x": [0, 0, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001],
        "y": [0, 0, 0b10001, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110],
        "z": [0, 0, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111],
        "[": [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110],
        "]": [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110],
        "'": [0b00100, 0b00100, 0b01000, 0, 0, 0, 0],
        "!": [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0, 0b00100],
        "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100],
        "*": [0, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0],
        "&": [0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101],
        "–": [0, 0, 0, 0b11111, 0, 0, 0],
        "×": [0, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0],
        "µ": [0, 0, 0b10001, 0b10001, 0b10001, 0b10011, 0b11101, 0b10000, 0b10000],
        "²": [0b01100, 0b10010, 0b00100, 0b01000, 0b11110, 0, 0],
        "≥": [0b01000, 0b00100, 0b00010, 0b00100, 0b01000, 0, 0b11111],
    ]
}
