import CompSegCore
import CompSegIO
import Foundation

/// How a hyperspectral cube is arranged in an HDF5 file (shapes as HDF5 and h5py list them,
/// slowest dimension first).
public enum SpectralLayout: String, ConfigurationChoice, Sendable {
    /// H×W×B: each pixel's spectrum contiguous (the default; `compseg phantom` writes it).
    case hwb
    /// B×H×W: one image per band (channels first).
    case bhw
    /// P×B with P = H·W pixels, row by row (PyIR's `data/intensities`); H and W come from
    /// datasets or attributes that the configuration names.
    case flat
    /// MATLAB v7.3 `.mat` (HDF5, column-major): a MATLAB H×W×B array appears to HDF5 as B×W×H,
    /// and an H×W mask as W×H.
    case matlab

    /// The rank the spectra dataset must have, and its dimensions named for messages.
    public var rank: Int { self == .flat ? 2 : 3 }
    public var dimensionNames: String {
        switch self {
        case .hwb: "H×W×B"
        case .bhw: "B×H×W"
        case .flat: "pixels×B"
        case .matlab: "B×W×H (MATLAB H×W×B, column-major)"
        }
    }

    /// The number of bands B in a spectra dataset of `shape` (already checked for rank).
    public func bands(_ shape: [Int]) -> Int {
        switch self {
        case .hwb: shape[2]
        case .bhw, .matlab: shape[0]
        case .flat: shape[1]
        }
    }

    /// The error for a spectra dataset of `shape` whose rank is not this layout's, with the
    /// layout that a rank-2 or rank-3 dataset suggests.
    public func rankMismatch(_ shape: [Int]) -> LayoutError {
        let hint = switch (shape.count, self) {
        case (2, .hwb), (2, .bhw), (2, .matlab):
            "; a rank-2 dataset of pixels×bands is layout 'flat', which also needs keys 'height' and 'width'"
        case (3, .flat): "; a rank-3 cube is layout 'hwb', 'bhw' or 'matlab'"
        default: ""
        }
        return LayoutError("has shape \(shape) (rank \(shape.count)); layout '\(rawValue)' expects \(dimensionNames) (rank \(rank))" + hint)
    }

    /// (B, H, W) of a spectra dataset of `shape`.
    /// - Parameter size: (H, W) for `.flat`; ignored by the other layouts.
    /// - Throws: `LayoutError` for a wrong rank, an empty dimension, or (flat) pixels ≠ H·W.
    public func dimensions(shape: [Int], size: (height: Int, width: Int)? = nil) throws -> (bands: Int, height: Int, width: Int) {
        guard shape.count == rank else { throw rankMismatch(shape) }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw LayoutError("has shape \(shape) with an empty dimension; layout '\(rawValue)' expects \(dimensionNames)")
        }
        switch self {
        case .hwb: return (shape[2], shape[0], shape[1])
        case .bhw: return (shape[0], shape[1], shape[2])
        case .matlab: return (shape[0], shape[2], shape[1])
        case .flat:
            guard let (h, w) = size, h > 0, w > 0 else {
                throw LayoutError("layout 'flat' needs the image height and width (keys 'height' and 'width')")
            }
            let (pixels, overflow) = h.multipliedReportingOverflow(by: w)
            guard !overflow, shape[0] == pixels else {
                throw LayoutError("has \(shape[0]) pixels (shape \(shape)) but height × width is \(h)×\(w)"
                                  + (overflow ? "" : " = \(pixels)"))
            }
            return (shape[1], h, w)
        }
    }

    /// Copies a slab of the spectra dataset — entries `first ..< first + n` of its slowest
    /// dimension, row-major — into `cube`, the B×H×W channels-first image of size `size`.
    public func place(_ slab: [Float], first: Int, size: (bands: Int, height: Int, width: Int), into cube: inout [Float]) {
        let (b, h, w) = size
        let plane = h * w
        switch self {
        case .bhw:  // slab over bands: already channels first
            cube.replaceSubrange((first * plane)..<(first * plane + slab.count), with: slab)
        case .hwb:  // slab over rows y: [y][x][k], pixel-major from pixel first·w
            placeSpectra(slab, fromPixel: first * w, bands: b, plane: plane, into: &cube)
        case .flat:  // slab over pixels q: [q][k]
            placeSpectra(slab, fromPixel: first, bands: b, plane: plane, into: &cube)
        case .matlab:  // slab over bands: HDF5 [k][x][y] = MATLAB (y, x, k)
            for i in 0..<(slab.count / plane) { for x in 0..<w { for y in 0..<h {
                cube[((first + i) * h + y) * w + x] = slab[(i * w + x) * h + y]
            } } }
        }
    }

    /// Turns the whole spectra dataset as read (row-major `values` of `shape`) into a B×H×W
    /// cube, channels first.
    /// - Parameter size: (H, W) for `.flat`; ignored by the other layouts.
    /// - Throws: `LayoutError` for a wrong rank, an empty dimension, or (flat) pixels ≠ H·W.
    public func channelsFirst(shape: [Int], values: [Float], size: (height: Int, width: Int)? = nil) throws
        -> (bands: Int, height: Int, width: Int, cube: [Float]) {
        let (b, h, w) = try dimensions(shape: shape, size: size)
        precondition(values.count == shape.reduce(1, *), "values do not match the shape")
        var cube = [Float](repeating: 0, count: values.count)
        place(values, first: 0, size: (b, h, w), into: &cube)
        return (b, h, w, cube)
    }

    /// Turns a mask dataset as read into H×W row-major. `.hwb`/`.bhw` take H×W; `.flat` takes
    /// H×W, P or P×1; `.matlab` takes W×H (MATLAB H×W, column-major).
    /// - Throws: `LayoutError` when the shape fits none of these.
    public func mask(shape: [Int], values: [Float], height h: Int, width w: Int) throws -> [Bool] {
        switch self {
        case .hwb, .bhw:
            if shape == [h, w] { return values.map { $0 != 0 } }
        case .flat:
            if shape == [h, w] || shape == [h * w] || shape == [h * w, 1] { return values.map { $0 != 0 } }
        case .matlab:
            if shape == [w, h] {
                var pixels = [Bool](repeating: false, count: h * w)
                for x in 0..<w { for y in 0..<h { pixels[y * w + x] = values[x * h + y] != 0 } }
                return pixels
            }
        }
        let expected = switch self {
        case .hwb, .bhw: "\(h)×\(w)"
        case .flat: "\(h)×\(w) or \(h * w) pixels"
        case .matlab: "\(w)×\(h) (MATLAB \(h)×\(w), column-major)"
        }
        throw LayoutError("has shape \(shape); expected the image's \(expected)")
    }

    /// The values of a wavenumber dataset: any shape with at most one dimension above 1
    /// (MATLAB stores vectors as 1×B or B×1).
    public func vector<T: BinaryFloatingPoint>(shape: [Int], values: [T]) throws -> [Double] {
        guard shape.filter({ $0 > 1 }).count <= 1 else {
            throw LayoutError("has shape \(shape); expected a vector")
        }
        return values.map { Double($0) }
    }
}

/// What is wrong with a dataset's arrangement; the reader prefixes the file and dataset.
public struct LayoutError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The order of a spectral axis as the file holds it (kept, never re-sorted).
public enum SpectralOrder: String, Codable, Sendable {
    case ascending, descending, unordered

    public init(_ values: [Double]) {
        if zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) { self = .ascending }
        else if zip(values, values.dropFirst()).allSatisfy({ $0 > $1 }) { self = .descending }
        else { self = .unordered }
    }
}

extension ChannelAxis {
    /// The order of a spectral axis's values (nil for named bands). One value counts as ascending.
    public var spectralOrder: SpectralOrder? {
        if case .spectral(let values, _) = self { return SpectralOrder(values) }
        return nil
    }
}
