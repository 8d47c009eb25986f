import CompSegCore
import CompSegFigures
import CompSegIO
import CompSegNN
import Foundation

/// What `TrainedModel.segmentStreaming` gives back of an image.
public struct StreamedSegmentation: Sendable {
    /// Its activation counts (with its truth, where given), over edges that hold the mask threshold.
    public let counts: ActivationCounts
    /// Its mask threshold.
    public let threshold: Float
    /// Its report card's pictures (`EvaluationReport.card`), where figures were drawn.
    public let card: [(title: String, image: RGBImage)]?
    /// `maskParitySpread` of its mask, measured a band of rows at a time (`ParitySums`): about 0.5
    /// and more where the mask is dotted by a checkerboard in the map.
    public var maskParitySpread = 0.0

    /// Its tissue and tumor pixels, and its agreement with the truth where given.
    public var result: SegmentationEvaluation.SampleResult { counts.result(at: threshold) }
}

extension TrainedModel {
    /// Segments an image too large to hold, region by region (`streamActivations`): `<id>_map.tif`
    /// is written as rows finish; `<id>_map.png` and `<id>_mask.png` (8-bit, so H×W bytes held)
    /// and, with `geoJSON`, the mask's polygons at the end. Memory: the 8-bit map, the mask as bits,
    /// what `streamActivations` holds, and `truth` where given.
    /// - Returns: the sample's activation counts, with `truth` where given, over edges that hold
    ///   `threshold` and `thresholds`; and its card's pictures with `figures`.
    /// - Throws: the reader's, a step's or a write's error, naming the sample or file.
    /// - Parameters:
    ///   - id: the name its files get (default: the regions' own id).
    ///   - minimumArea: the GeoJSON leaves out polygons of fewer full-resolution pixels.
    ///   - truth: the true tumor at the regions' size (H×W bits), counted and, with `figures`, drawn in the panel.
    ///   - figures: with it, also the figures `overlay` writes (`EvaluationReport.writeFigures`), in
    ///     its mask colour and opacity; the image is read a second time for them, a band of rows at a time.
    public func segmentStreaming(_ regions: any SampleRegions, id: String? = nil, modality: PreparedModality, threshold: Float,
                                 to folder: URL, geoJSON: Bool = false, minimumArea: Double = 0, truth: PixelBits? = nil,
                                 thresholds: [Float] = [], figures: (colour: RGB, alpha: Double)? = nil,
                                 tiling: Tiling = .standard, batchSize: Int = 4) throws -> StreamedSegmentation {
        let id = id ?? regions.id
        let (h, w) = (regions.height, regions.width)
        let tiff = try FloatTIFFWriter(url: folder.appendingPathComponent(id + "_map.tif"), width: w, height: h)
        var mapBytes = [UInt8](repeating: 0, count: h * w), maskBits = PixelBits(count: h * w)
        var tissueBits = PixelBits(count: figures == nil ? 0 : h * w)  // for the figures only
        let size = modality.pixelSize(in: regions.metadata, height: h, width: w)
        var counts = ActivationCounts(id: id, label: regions.label, hasTruth: truth != nil, thresholds: [threshold] + thresholds)
        counts.pixelSize = size
        var parity = ParitySums()
        try streamActivations(regions, id: id, modality: modality, tiling: tiling, batchSize: batchSize) { y0, values, tissue in
            parity.add(values.indices.map { tissue[$0] && values[$0] > threshold ? 1 : 0 }, rows: values.count / w, width: w,
                       firstRow: y0, over: tissue)
            for i in values.indices {
                let p = y0 * w + i, v = values[i]
                mapBytes[p] = UInt8(max(0, min(255, (v * 255).rounded())))
                counts.add(v, tissue: tissue[i], truth: truth?[p] ?? false)
                guard tissue[i] else { continue }
                if figures != nil { tissueBits.set(p) }
                if v > threshold { maskBits.set(p) }
            }
            try tiff.append(values)
        }
        try tiff.finish()
        // Row by row: libpng's one-call writer refuses an image of 4 GiB or more (a 65,536² slide).
        let mapPNG = try PNGRowWriter(url: folder.appendingPathComponent(id + "_map.png"), width: w, height: h, channels: 1,
                                      metadata: .picture(SegmentationFiles.mapDescription(id), pixelSize: size))
        try mapPNG.append(mapBytes)
        try mapPNG.finish()
        let maskPNG = try PNGRowWriter(url: folder.appendingPathComponent(id + "_mask.png"), width: w, height: h, channels: 1,
                                       metadata: .picture(SegmentationFiles.maskDescription(id, threshold: threshold), pixelSize: size))
        for y in 0..<h { try maskPNG.append((y * w..<(y + 1) * w).map { maskBits[$0] ? 255 : 0 }) }
        try maskPNG.finish()
        var card: [(title: String, image: RGBImage)]?
        if let figures {
            card = try StreamedFigures(regions: regions, id: id, map: mapBytes, maskBits: maskBits, tissueBits: tissueBits, truth: truth,
                                       threshold: threshold, colour: figures.colour, alpha: figures.alpha, pixelSize: size).write(to: folder)
        }
        (mapBytes, tissueBits) = ([], PixelBits(count: 0))
        if geoJSON {
            let scale = Sample.pixelScale(in: regions.metadata, height: h, width: w)
            let bits = maskBits
            maskBits = PixelBits(count: 0)
            try MaskPolygons(width: w, height: h, scale: scale) { bits[$0] }
                .write(to: folder.appendingPathComponent(id + SegmentationFiles.geoJSONSuffix), minimumArea: minimumArea)
        }
        return StreamedSegmentation(counts: counts, threshold: threshold, card: card, maskParitySpread: parity.spread)
    }

    /// The activation counts of an image too large to hold (`streamActivations`), with `truth`
    /// where given, over edges that hold `thresholds`; nothing is written. Memory: what
    /// `streamActivations` holds, and `truth`.
    public func countStreaming(_ regions: any SampleRegions, id: String? = nil, modality: PreparedModality, truth: PixelBits? = nil,
                               thresholds: [Float] = [], tiling: Tiling = .standard, batchSize: Int = 4) throws -> ActivationCounts {
        var counts = ActivationCounts(id: id ?? regions.id, label: regions.label, hasTruth: truth != nil, thresholds: thresholds)
        counts.pixelSize = modality.pixelSize(in: regions.metadata, height: regions.height, width: regions.width)
        try streamActivations(regions, id: id, modality: modality, tiling: tiling, batchSize: batchSize) { y0, values, tissue in
            let start = y0 * regions.width
            for i in values.indices { counts.add(values[i], tissue: tissue[i], truth: truth?[start + i] ?? false) }
        }
        return counts
    }

    /// Runs the network over an image region by region: the tiles of `tiling` are read through
    /// `regions`, prepared by `modality`'s (pixelwise) chain, run a batch at a time and blended as
    /// `tiledActivationMap` blends them (tiles without tissue skipped, 0 there). Rows are finished a
    /// band of tiles at a time, and handed to `rows` top to bottom: the first row's index, the
    /// activations of the rows (row-major, the image's width) and whether each pixel is tissue.
    /// Where a band's prepared rows fit in `preparedBandBytes`, each pixel is read and prepared
    /// once (`PreparedBand`), and tiles are cut from the band; else each tile is read and prepared
    /// on its own (overlapping tiles prepare their shared pixels again).
    /// Memory: one band of blend sums, one batch of tiles, the prepared band, and what `regions`
    /// holds (`HERegions`: one band of whole rows of the image, as floats). The tiles' tissue is
    /// counted against the run's `inputRange` into `inputChecks`, as `id`, each pixel once.
    func streamActivations(_ regions: any SampleRegions, id: String? = nil, modality: PreparedModality, tiling: Tiling, batchSize: Int,
                           preparedBandBytes: Double = 1_073_741_824,
                           rows: (_ y0: Int, _ activations: [Float], _ tissue: [Bool]) throws -> Void) throws {
        let (h, w) = (regions.height, regions.width), channels = description.inputChannels
        let (ys, xs) = (tiling.starts(h), tiling.starts(w))
        let (th, tw) = (min(tiling.size, h), min(tiling.size, w))
        let wy = ys.map { y0 in (0..<th).map { tiling.weight($0, n: th, start: y0, length: h) } }
        let wx = xs.map { x0 in (0..<tw).map { tiling.weight($0, n: tw, start: x0, length: w) } }
        // The band: rows ys[a] ..< ys[a] + th, blend sums, weights and tissue.
        var sum = [Float](repeating: 0, count: th * w), total = sum
        var tissue = [Bool](repeating: false, count: th * w)
        var heap = HeapTrim()
        let single = ys.count * xs.count == 1  // run whole, tissue or not, as `tiledActivationMap` runs a sample no larger than a tile
        var inputCounts = description.inputRange.map { InputRangeCounts(id: id ?? regions.id, range: $0) }

        /// A region read and prepared, its channels checked against the network's.
        func prepared(y: Int, x: Int, height: Int, width: Int) throws -> Sample {
            let part = try aligned(modality.prepare(regions.region(y: y, x: x, height: height, width: width)))
            guard part.image.shape[0] == channels else {
                throw TrainingError("sample \(regions.id) has \(part.image.shape[0]) channels after preprocessing; "
                                    + "the model was trained on \(channels)")
            }
            heap.trimIfGrown()
            return part
        }
        var band = Double(channels) * Double(th) * Double(w) * 4 <= preparedBandBytes
            ? PreparedBand(channels: channels, rows: th, width: w, chunkWidth: tw) : nil

        /// Hands on the band's first `count` rows (image rows y0 ..< y0 + count) and shifts the rest up.
        func finish(rows count: Int, y0: Int) throws {
            let n = count * w
            // 0 where only tiles without tissue reach.
            try rows(y0, (0..<n).map { total[$0] > 0 ? sum[$0] / total[$0] : 0 }, Array(tissue[..<n]))
            let kept = (th - count) * w
            for i in 0..<(th * w) {
                let from = i + n
                (sum[i], total[i], tissue[i]) = i < kept ? (sum[from], total[from], tissue[from]) : (0, 0, false)
            }
        }

        for a in ys.indices {
            try Interruption.check()
            try band?.advance(to: ys[a], skipping: single ? nil : { regions.mayHoldTissue(y: $0, x: $1, height: $2, width: $3) }, prepare: prepared)
            for first in stride(from: 0, to: xs.count, by: batchSize) {
                var batch: [Int] = [], input: [Float] = []
                input.reserveCapacity(batchSize * channels * th * tw)
                for b in first..<min(first + batchSize, xs.count) {
                    // A tile without tissue is not run, as `tiledActivationMap` skips it; where the regions can tell, not read either.
                    guard single || regions.mayHoldTissue(y: ys[a], x: xs[b], height: th, width: tw) else { continue }
                    let tile = try band.map { $0.tile(x: xs[b], width: tw) } ?? {
                        let part = try prepared(y: ys[a], x: xs[b], height: th, width: tw)
                        return (part.image.scalars, part.tissue.pixels)
                    }()
                    guard single || tile.tissue.contains(true) else { continue }
                    batch.append(b)
                    input += tile.values
                    if inputCounts != nil {  // each pixel once: the part of the tile the next tiles do not cover
                        let rows = a + 1 < ys.count ? ys[a + 1] - ys[a] : th, columns = b + 1 < xs.count ? xs[b + 1] - xs[b] : tw
                        let own = tile.tissue.indices.map { tile.tissue[$0] && $0 / tw < rows && $0 % tw < columns }
                        tile.values.withUnsafeBufferPointer { inputCounts?.add($0, tissue: own) }
                    }
                    for y in 0..<th { for x in 0..<tw where tile.tissue[y * tw + x] { tissue[y * w + xs[b] + x] = true } }
                }
                guard !batch.isEmpty else { continue }
                let maps = try withoutGradients {
                    try network.activation(Tensor(shape: [batch.count, channels, th, tw], scalars: input))
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
        if let inputCounts { inputChecks.append(inputCounts) }
    }
}

/// The prepared rows of one band of tiles, the image's whole width, channels first: each pixel is
/// read and prepared once, in chunks of `chunkWidth` columns, and the rows a band shares with the
/// one above are kept from it. Valid for a chain of pixelwise steps only (each pixel prepared
/// alike, whatever region it is read in), which streaming requires.
struct PreparedBand {
    let channels: Int, rows: Int, width: Int, chunkWidth: Int
    /// C × rows × width, and rows × width.
    private var values: [Float], tissue: [Bool]
    /// The image row of the band's first row; nil before the first band.
    private var top: Int?

    init(channels: Int, rows: Int, width: Int, chunkWidth: Int) {
        (self.channels, self.rows, self.width, self.chunkWidth) = (channels, rows, width, chunkWidth)
        values = [Float](repeating: 0, count: channels * rows * width)
        tissue = [Bool](repeating: false, count: rows * width)
    }

    /// Moves the band to image rows `y0 ..< y0 + rows` (below the last): the rows shared with the
    /// last band are kept, the others read through `prepare` (a region's prepared sample) chunk by
    /// chunk; a chunk `skipping` says holds no tissue is left at 0, outside the tissue.
    mutating func advance(to y0: Int, skipping mayHoldTissue: ((Int, Int, Int, Int) -> Bool)?,
                          prepare: (_ y: Int, _ x: Int, _ height: Int, _ width: Int) throws -> Sample) throws {
        let kept = top.map { max(0, min(rows, $0 + rows - y0)) } ?? 0, shift = rows - kept
        let (plane, w) = (rows * width, width)
        values.withUnsafeMutableBufferPointer { v in
            for k in 0..<channels {
                let band = v.baseAddress! + k * plane
                if kept > 0 { band.update(from: band + shift * w, count: kept * w) }
                (band + kept * w).update(repeating: 0, count: shift * w)
            }
        }
        for i in 0..<plane { tissue[i] = i < kept * w ? tissue[i + shift * w] : false }
        top = y0
        guard shift > 0 else { return }
        let r0 = y0 + kept
        for x0 in stride(from: 0, to: width, by: chunkWidth) {
            let cw = min(chunkWidth, width - x0)
            if let mayHoldTissue, !mayHoldTissue(r0, x0, shift, cw) { continue }
            let part = try prepare(r0, x0, shift, cw)
            let scalars = part.image.scalars
            scalars.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { v in
                    for k in 0..<channels { for r in 0..<shift {
                        (v.baseAddress! + (k * rows + kept + r) * w + x0).update(from: source.baseAddress! + (k * shift + r) * cw, count: cw)
                    } }
                }
            }
            for r in 0..<shift { for c in 0..<cw { tissue[(kept + r) * w + x0 + c] = part.tissue.pixels[r * cw + c] } }
        }
    }

    /// The tile of the band's rows at columns `x ..< x + width`: its values (C × rows × width) and tissue.
    func tile(x: Int, width tw: Int) -> (values: [Float], tissue: [Bool]) {
        var out = [Float](repeating: 0, count: channels * rows * tw), inside = [Bool](repeating: false, count: rows * tw)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for k in 0..<channels { for r in 0..<rows {
                    (o.baseAddress! + (k * rows + r) * tw).update(from: v.baseAddress! + (k * rows + r) * width + x, count: tw)
                } }
            }
        }
        for r in 0..<rows { for c in 0..<tw { inside[r * tw + c] = tissue[r * width + x + c] } }
        return (out, inside)
    }
}

/// Hands the heap's free memory back to the system whenever the heap has grown since it last
/// looked. The command-line tool keeps freed memory in the heap for reuse; a tile's buffers of
/// several sizes (the region read, each step's cube) can leave holes too small for the next
/// tile's, and the heap then grows by a tile's worth each tile (a 1024² infrared file with a
/// resample step: 7.6 GB, 2.8 GB so trimmed); where it does not grow, nothing is trimmed.
struct HeapTrim {
    private var top = sbrk(0)

    mutating func trimIfGrown() {
        guard let now = sbrk(0), let before = top, now > before else { return }
        _ = glibcMallocTrim(0)
        top = sbrk(0)
    }
}

@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
