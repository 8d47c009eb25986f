import CompSegCore

/// Several pictures side by side, for one sample at a glance.
public enum Panel {
    /// Layout (pixels): white margin all round, gap between columns, gap below a title, gap above the caption.
    public static let margin = 8, columnGap = 8, titleGap = 6, captionGap = 6

    /// Output size for pictures of the given sizes with the given titles and caption.
    public static func size(_ items: [(title: String, height: Int, width: Int)], caption: String?) -> (height: Int, width: Int) {
        let columns = items.map { column(width: $0.width, title: $0.title) }
        let hasTitles = items.contains { !$0.title.isEmpty }
        let contentW = columns.reduce(0, +) + columnGap * max(columns.count - 1, 0)
        let captionW = caption.map { Text.width($0, size: Text.labelSize) } ?? 0
        let imageH = items.map(\.height).max() ?? 0
        let titleH = hasTitles ? Text.height(size: Text.labelSize) + titleGap : 0
        let captionH = caption.map { $0.isEmpty ? 0 : captionGap + Text.height(size: Text.labelSize) } ?? 0
        return (2 * margin + titleH + imageH + captionH, 2 * margin + max(contentW, captionW))
    }

    /// The pictures side by side on white, top-aligned, each with its title centred above it (black,
    /// smooth text at `Text.labelSize`) and an optional caption line below, left-aligned. Reports
    /// pass no caption: theirs is HTML beside the picture. A column is as wide as its picture
    /// or its title (`column(width:title:)`), whichever is wider; the picture is centred in it. `titleSpans[i]` centres picture
    /// i's title over its left part that wide instead (a map, not its colour bar), where it fits.
    public static func compose(_ images: [(title: String, image: RGBImage)], caption: String? = nil,
                               titleSpans: [Int: Int] = [:]) -> RGBImage {
        let (h, w) = size(images.map { ($0.title, $0.image.height, $0.image.width) }, caption: caption)
        var out = RGBImage(height: h, width: w, fill: Palette.white)
        let hasTitles = images.contains { !$0.title.isEmpty }
        let imageTop = margin + (hasTitles ? Text.height(size: Text.labelSize) + titleGap : 0)
        var x = margin
        for (i, (title, image)) in images.enumerated() {
            let titleW = Text.width(title, size: Text.labelSize), column = column(width: image.width, title: title)
            let imageX = x + (column - image.width) / 2
            let titleX = titleSpans[i].map { min(max(imageX + ($0 - titleW) / 2, x), x + column - titleW) } ?? x + (column - titleW) / 2
            Text.drawSmooth(title, into: &out, x: titleX, y: margin)
            out.paste(image, x: imageX, y: imageTop)
            x += column + columnGap
        }
        if let caption, !caption.isEmpty {
            let imageH = images.map(\.image.height).max() ?? 0
            Text.drawSmooth(caption, into: &out, x: margin, y: imageTop + imageH + captionGap)
        }
        return out
    }

    /// A column's width: its picture's, or its title's with a column gap either side, so that titles
    /// wider than their pictures stay apart from their neighbours' by more than a space.
    static func column(width: Int, title: String) -> Int {
        title.isEmpty ? width : max(width, Text.width(title, size: Text.labelSize) + 2 * columnGap)
    }
}
