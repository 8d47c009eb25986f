import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import Foundation

extension TrainedModel {
    /// Segments an image too large to hold, region by region: the tiles of `tiling` are read
    /// through `regions`, prepared by `modality`'s (pixelwise) chain, run through the network a
    /// batch at a time and blended as `tiledActivationMap` blends them (tiles without tissue
    /// skipped, 0 there). Rows are finished a band
    /// of tiles at a time: `<id>_map.tif` is written as they finish; `<id>_map.png` and
    /// `<id>_mask.png` (8-bit, so H×W bytes held) and, with `geoJSON`, the mask's polygons at the
    /// end. Memory: the 8-bit map, the mask as bits, one band of blend sums, one batch of tiles, and
    /// what `regions` holds (`HERegions`: one band of whole rows of the image, as floats).
    /// - Returns: the sample's tissue and tumor pixels (no ground truth).
    /// - Throws: the reader's, a step's or a write's error, naming the sample or file.
    /// - Parameters:
    ///   - id: the name its files get (default: the regions' own id).
    ///   - minimumArea: the GeoJSON leaves out polygons of fewer full-resolution pixels.
    ///   - figures: with it, also the figures `overlay` writes (`EvaluationReport.writeFigures`), in
    ///     its mask colour and opacity, the true tumor `truth` (full resolution) in the panel; the
    ///     image is read a second time for them, a band of rows at a time.
    public func segmentStreaming(_ regions: any SampleRegions, id: String? = nil, modality: PreparedModality, threshold: Float,
                                 to folder: URL, geoJSON: Bool = false, minimumArea: Double = 0, figures: (colour: RGB, alpha: Double, truth: Mask?)? = nil,
                                 tiling: Tiling = .standard, batchSize: Int = 4) throws
        -> SegmentationEvaluation.SampleResult {
        let id = id ?? regions.id
        let (h, w) = (regions.height, regions.width)
        let (ys, xs) = (tiling.starts(h), tiling.starts(w))
        let (th, tw) = (min(tiling.size, h), min(tiling.size, w))
        let wy = ys.map { y0 in (0..<th).map { tiling.weight($0, n: th, start: y0, length: h) } }
        let wx = xs.map { x0 in (0..<tw).map { tiling.weight($0, n: tw, start: x0, length: w) } }
        let tiff = try FloatTIFFWriter(url: folder.appendingPathComponent(id + "_map.tif"), width: w, height: h)
        var mapBytes = [UInt8](repeating: 0, count: h * w), maskBits = PixelBits(count: h * w)
        var tissueBits = PixelBits(count: figures == nil ? 0 : h * w)  // for the figures only
        // The band: rows ys[a] ..< ys[a] + th, blend sums, weights and tissue.
        var sum = [Float](repeating: 0, count: th * w), total = sum
        var tissue = [Bool](repeating: false, count: th * w)
        var (tissuePixels, tumorPixels) = (0, 0)

        /// Finishes the band's first `rows` rows (image rows y0 ..< y0 + rows) and shifts the rest up.
        func finish(rows: Int, y0: Int) throws {
            var values = [Float](repeating: 0, count: rows * w)
            for r in 0..<rows { for x in 0..<w {
                let i = r * w + x, p = (y0 + r) * w + x
                let v = total[i] > 0 ? sum[i] / total[i] : 0  // 0: on tiles without tissue only
                values[i] = v
                mapBytes[p] = UInt8(max(0, min(255, (v * 255).rounded())))
                if tissue[i] {
                    tissuePixels += 1
                    if figures != nil { tissueBits.set(p) }
                    if v > threshold { tumorPixels += 1; maskBits.set(p) }
                }
            } }
            try tiff.append(values)
            let kept = (th - rows) * w
            for i in 0..<(th * w) {
                let from = i + rows * w
                (sum[i], total[i], tissue[i]) = i < kept ? (sum[from], total[from], tissue[from]) : (0, 0, false)
            }
        }

        for a in ys.indices {
            for first in stride(from: 0, to: xs.count, by: batchSize) {
                var batch: [Int] = [], input: [Float] = []
                input.reserveCapacity(batchSize * description.inputChannels * th * tw)
                for b in first..<min(first + batchSize, xs.count) {
                    let single = ys.count * xs.count == 1
                    // A tile without tissue is not run, as `tiledActivationMap` skips it; where the regions can tell, not read either.
                    guard single || regions.mayHoldTissue(y: ys[a], x: xs[b], height: th, width: tw) else { continue }
                    let tile = try aligned(modality.prepare(regions.region(y: ys[a], x: xs[b], height: th, width: tw)))
                    guard tile.image.shape[0] == description.inputChannels else {
                        throw TrainingError("sample \(regions.id) has \(tile.image.shape[0]) channels after preprocessing; "
                                            + "the model was trained on \(description.inputChannels)")
                    }
                    guard single || tile.tissue.pixels.contains(true) else { continue }
                    batch.append(b)
                    input += tile.image.scalars
                    for y in 0..<th { for x in 0..<tw where tile.tissue.pixels[y * tw + x] { tissue[y * w + xs[b] + x] = true } }
                }
                guard !batch.isEmpty else { continue }
                let maps = try withoutGradients {
                    try network.activation(Tensor(shape: [batch.count, description.inputChannels, th, tw], scalars: input))
                }.scalars
                for (k, b) in batch.enumerated() {
                    for y in 0..<th { for x in 0..<tw {
                        let weight = wy[a][y] * wx[b][x], i = y * w + xs[b] + x
                        sum[i] += weight * maps[(k * th + y) * tw + x]
                        total[i] += weight
                    } }
                }
            }
            try finish(rows: a + 1 < ys.count ? ys[a + 1] - ys[a] : th, y0: ys[a])
        }
        try tiff.finish()
        try PNGImage(width: w, height: h, channels: 1, pixels: mapBytes).write(to: folder.appendingPathComponent(id + "_map.png"))
        let maskPNG = try PNGRowWriter(url: folder.appendingPathComponent(id + "_mask.png"), width: w, height: h, channels: 1)
        for y in 0..<h { try maskPNG.append((y * w..<(y + 1) * w).map { maskBits[$0] ? 255 : 0 }) }
        try maskPNG.finish()
        if let figures {
            try StreamedFigures(regions: regions, id: id, map: mapBytes, maskBits: maskBits, tissueBits: tissueBits, truth: figures.truth,
                                threshold: threshold,
                                colour: figures.colour, alpha: figures.alpha).write(to: folder)
        }
        (mapBytes, tissueBits) = ([], PixelBits(count: 0))
        if geoJSON {
            let scale = regions.metadata[Sample.pixelScaleKey].flatMap(Double.init) ?? 1
            let mask = (0..<(h * w)).map { maskBits[$0] }
            maskBits = PixelBits(count: 0)
            try MaskPolygons(width: w, height: h, pixels: mask, scale: scale)
                .write(to: folder.appendingPathComponent(id + SegmentationFiles.geoJSONSuffix), minimumArea: minimumArea)
        }
        return .init(id: id, label: regions.label, tissuePixels: tissuePixels, tumorPixels: tumorPixels,
                     tumorFraction: Double(tumorPixels) / Double(max(1, tissuePixels)), pixel: nil)
    }
}
