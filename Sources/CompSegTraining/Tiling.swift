import CompSegCore
import CompSegIO
import CompSegNN
import Foundation

/// How an image larger than one tile is segmented: overlapping square tiles, each run through the
/// network on its own, blended where they overlap with weights that fall linearly to 0 over
/// `overlap` pixels at every edge a tile shares with a neighbour (edges on the image border keep
/// full weight). The blend hides the tiles' borders, where a network sees padding instead of the
/// image, so no seam shows; memory holds one batch of tiles besides the image and its map.
public struct Tiling: Sendable, Equatable {
    /// Tile side in pixels; images no larger than this on either side run whole.
    public var size: Int
    /// Pixels shared by neighbouring tiles (at least the blend's width).
    public var overlap: Int

    /// - Throws: `TrainingError` unless 0 ≤ overlap < size / 2 and size ≥ 8.
    public init(size: Int, overlap: Int) throws {
        guard size >= 8, overlap >= 0, 2 * overlap < size else {
            throw TrainingError("tiling: size must be at least 8 and overlap below half of it, got size \(size), overlap \(overlap)")
        }
        self.size = size; self.overlap = overlap
    }

    private init(checked size: Int, _ overlap: Int) { self.size = size; self.overlap = overlap }

    /// Tiles of 512 pixels overlapping by 64: far beyond the spots networks train on, and wider
    /// than the U-Net's reach into padding at depth 3 or 4.
    public static let standard = Tiling(checked: 512, 64)

    /// The first pixel of each tile along a side of `length` pixels: every `size − overlap`
    /// pixels, the last tile flush with the end.
    func starts(_ length: Int) -> [Int] {
        guard length > size else { return [0] }
        var starts = Array(stride(from: 0, to: length - size, by: size - overlap))
        starts.append(length - size)
        return starts
    }

    /// The blend weight of position `i` in a tile of `n` pixels starting at `start` along a side
    /// of `length`: rising over `overlap` pixels after an inner leading edge, falling before an
    /// inner trailing edge; never 0, so every pixel has weight.
    func weight(_ i: Int, n: Int, start: Int, length: Int) -> Float {
        guard overlap > 0 else { return 1 }
        var w: Float = 1
        if start > 0 { w = min(w, (Float(i) + 0.5) / Float(overlap)) }
        if start + n < length { w = min(w, (Float(n - i) - 0.5) / Float(overlap)) }
        return w
    }
}

extension TrainedModel {
    /// The activation map of one C×H×W image, H×W values, computed tile by tile as `tiling`
    /// says (whole when it fits in one tile). With `tissue` (H×W), a tile without tissue is not
    /// run: the tiles that are run blend as before at every pixel they cover, so the map on the
    /// tissue, and the masks, are the same; a pixel no run tile covers (background) is 0.
    public func tiledActivationMap(_ image: Tensor, tissue: [Bool]? = nil, tiling: Tiling, batchSize: Int = 4) throws -> [Float] {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        guard c == description.inputChannels else {
            throw TrainingError("an image of \(c) channels; the model was trained on \(description.inputChannels)")
        }
        guard tissue.map({ $0.count == h * w }) ?? true else {
            throw TrainingError("a tissue mask of \(tissue?.count ?? 0) pixels for a \(h)×\(w) image")
        }
        let (ys, xs) = (tiling.starts(h), tiling.starts(w))
        let (th, tw) = (min(tiling.size, h), min(tiling.size, w))
        if ys.count == 1 && xs.count == 1 {
            return try withoutGradients { try network.activation(Tensor(shape: [1, c, h, w], scalars: image.scalars)) }.scalars
        }
        var sum = [Float](repeating: 0, count: h * w), total = sum
        let wy = ys.map { y0 in (0..<th).map { tiling.weight($0, n: th, start: y0, length: h) } }
        let wx = xs.map { x0 in (0..<tw).map { tiling.weight($0, n: tw, start: x0, length: w) } }
        let tiles = ys.indices.flatMap { a in xs.indices.map { b in (a, b) } }.filter { a, b in
            tissue.map { t in (0..<th).contains { y in t[((ys[a] + y) * w + xs[b])..<((ys[a] + y) * w + xs[b] + tw)].contains(true) } } ?? true
        }
        let scalars = image.scalars
        for first in stride(from: 0, to: tiles.count, by: batchSize) {
            try Interruption.check()  // Ctrl-C: between batches of tiles (a large image takes many seconds)
            let batch = Array(tiles[first..<min(first + batchSize, tiles.count)])
            var input = [Float](repeating: 0, count: batch.count * c * th * tw)
            for (k, (a, b)) in batch.enumerated() {
                for ch in 0..<c { for y in 0..<th {
                    let from = (ch * h + ys[a] + y) * w + xs[b], to = ((k * c + ch) * th + y) * tw
                    input.replaceSubrange(to..<(to + tw), with: scalars[from..<(from + tw)])
                } }
            }
            let maps = try withoutGradients {
                try network.activation(Tensor(shape: [batch.count, c, th, tw], scalars: input))
            }.scalars
            for (k, (a, b)) in batch.enumerated() {
                for y in 0..<th { for x in 0..<tw {
                    let weight = wy[a][y] * wx[b][x], p = (ys[a] + y) * w + xs[b] + x
                    sum[p] += weight * maps[(k * th + y) * tw + x]
                    total[p] += weight
                } }
            }
        }
        return zip(sum, total).map { $1 > 0 ? $0 / $1 : 0 }
    }
}
