import CompSegCore
import CompSegIO
import Foundation

extension SpectralFileReader {
    /// An HDF5 (or MATLAB v7.3) file's cube: `spectra` arranged as `layout` says, `wavenumbers`
    /// (cm⁻¹), and the `mask` dataset when the file has it.
    func hdf5Cube(_ url: URL) throws -> SpectralCube {
        let spectra = try HDF5Spectra(url, options: options)
        let values = try spectra.readAll()
        let mask = try spectra.readMask()
        var cube = SpectralCube(height: spectra.height, width: spectra.width, bands: spectra.bands, values: values, axis: spectra.axis,
                                axisUnit: spectra.axisUnit, mask: mask, format: spectra.format, dataType: spectra.dataType)
        cube.warning = try spectra.warning(maskFound: mask != nil)
        cube.pixelSize = spectra.pixelSize
        return cube
    }
}

/// An HDF5 (or MATLAB v7.3) spectral image, opened and checked, its values not yet read: its
/// size, axis and unit, read whole (`readAll`) or a region at a time (`region`).
struct HDF5Spectra: SpectralRegionFile {
    let url: URL
    let file: HDF5File
    let options: SpectralFileOptions
    /// The spectra dataset's shape, as HDF5 lists it.
    let shape: [Int]
    let bands: Int, height: Int, width: Int
    /// The axis in the file's order, and its unit ("cm⁻¹" when the file names none).
    let axis: [Double], axisUnit: String
    let format: String, dataType: String
    var notes: [String] { [] }
    /// The spectra's chunks, nil where they are stored whole.
    let chunks: [Int]?
    /// The root's `pixel_size_um` attribute (µm per pixel, square), where the file has one.
    let pixelSize: PixelSize?

    /// Opens `url` and checks its spectra's shape against `options.layout`, and its axis against
    /// the bands: a cube whose bands disagree with its axis is refused before it is read, and an
    /// axis (or mask) of another size before it is read (a small file can declare billions).
    init(_ url: URL, options c: SpectralFileOptions) throws {
        let layout = c.layout
        let file = try HDF5File(url: url)
        (self.url, self.file, options) = (url, file, c)
        func fail(_ dataset: String, _ error: LayoutError) -> IOError {
            IOError(file: url.path, "dataset '\(dataset)' \(error.description)")
        }
        if layout != .flat, c.height != nil || c.width != nil {
            throw IOError(file: url.path, "keys 'height' and 'width' apply only to layout 'flat', not '\(layout.rawValue)'")
        }
        let shape = try file.shape(of: c.spectra)
        guard shape.count == layout.rank else {
            throw fail(c.spectra, layout.rankMismatch(shape))
        }
        self.shape = shape
        let size = layout == .flat ? try SpectralFileReader(c).imageSize(file, url) : nil
        let (b, h, w): (Int, Int, Int)
        do { (b, h, w) = try layout.dimensions(shape: shape, size: size) } catch let e as LayoutError {
            throw fail(c.spectra, e)
        }
        (bands, height, width) = (b, h, w)
        let axisShape = try file.shape(of: c.wavenumbers)
        guard axisShape.allSatisfy({ $0 <= b }), checkedProduct(axisShape) == b else {
            // The axis' length at the spectra's first dimension: bands first, as channels-first writers and MATLAB store them.
            let firstDimension = layout == .hwb && shape.count == 3 && axisShape.filter { $0 > 1 } == [shape[0]]
            let matlab = layout != .matlab && file.hasAttribute("MATLAB_class", on: c.spectra)
            throw IOError(file: url.path, "dataset '\(c.wavenumbers)' has shape \(axisShape) but '\(c.spectra)' has \(b) bands "
                          + "(shape \(shape), layout '\(layout.rawValue)'); expected \(b) values"
                          + (matlab ? "; the spectra are a MATLAB v7.3 array: set the modality option layout: matlab"
                             : firstDimension ? "; the axis' length is the spectra's first dimension: if the bands come first, set the "
                                + "modality option layout: bhw" : ""))
        }
        let (wavenumberShape, wavenumberValues) = try file.readDoubles(c.wavenumbers, maximumValues: c.maximumValues)
        do { axis = try layout.vector(shape: wavenumberShape, values: wavenumberValues) } catch let e as LayoutError {
            throw fail(c.wavenumbers, e)
        }
        guard axis.count == b else {
            throw IOError(file: url.path, "dataset '\(c.wavenumbers)' has \(axis.count) values "
                          + "but '\(c.spectra)' has \(b) bands (shape \(shape), layout '\(layout.rawValue)')")
        }
        // A `units` (or `unit`) string attribute on the axis says its unit; without one it is cm⁻¹.
        // One that is not a single string is refused: guessing would misread an axis in nm.
        let written = try ["units", "unit", "Units", "Unit", "UNITS"].first { file.hasAttribute($0, on: c.wavenumbers) }.map { name in
            do { return try file.attributeString(name, on: c.wavenumbers) } catch let e as IOError {
                throw IOError(file: e.file, "\(e.message) (the axis's unit, such as \"cm-1\" or \"nm\")")
            }
        }
        axisUnit = written.map(SpectralCube.unit(written:)).flatMap { $0.isEmpty ? nil : $0 } ?? "cm⁻¹"
        format = "HDF5 (layout \(layout.rawValue))"
        dataType = try file.elementType(of: c.spectra)
        chunks = try file.chunkShape(of: c.spectra).flatMap { $0.count == shape.count ? $0 : nil }
        pixelSize = try Self.pixelSize(file, url)
    }

    /// The attribute that records the pixel size: micrometres per pixel, one number on the root.
    static let pixelSizeAttribute = "pixel_size_um"

    /// The root's `pixelSizeAttribute`, or nil without one.
    /// - Throws: `IOError` for one that is not a single number above 0.
    static func pixelSize(_ file: HDF5File, _ url: URL) throws -> PixelSize? {
        guard file.hasAttribute(pixelSizeAttribute) else { return nil }
        let value: Double
        do { value = try file.attributeDouble(pixelSizeAttribute) } catch let e as IOError {
            throw IOError(file: e.file, "\(e.message) (the pixel size in micrometres, one number)")
        }
        guard let size = PixelSize(value) else {
            throw IOError(file: url.path, "attribute '\(pixelSizeAttribute)' on '/' is \(value); expected the pixel size in micrometres, "
                          + "from \(PixelSize.plausible.lowerBound) to \(Int(PixelSize.plausible.upperBound))")
        }
        return size
    }

    /// The image rows a chunk spans: along H (hwb: dimension 0, bhw: 1, matlab: 2), or the rows its
    /// pixels fill (flat).
    var rowsStoredTogether: Int {
        guard let chunks else { return 1 }
        switch options.layout {
        case .hwb: return chunks[0]
        case .bhw: return chunks[1]
        case .matlab: return chunks[2]
        case .flat: return (chunks[0] + width - 1) / width
        }
    }

    /// Height × width × bands, nil where it overflows.
    var valueCount: Int? {
        let (plane, o1) = height.multipliedReportingOverflow(by: width), (count, o2) = plane.multipliedReportingOverflow(by: bands)
        return o1 || o2 ? nil : count
    }

    /// Every value, B×H×W channels first.
    /// - Throws: `IOError` when the image declares more than `maximumValues` values or needs more
    ///   memory than there is (checked before any is taken), or cannot be read.
    func readAll() throws -> [Float] {
        let (b, h, w) = (bands, height, width), c = options
        guard let count = valueCount, count <= c.maximumValues else {
            throw IOError(file: url.path, "dataset '\(c.spectra)' declares \(h)×\(w)×\(b) values, more than the limit of "
                          + "\(c.maximumValues) (option maximumValues raises it, if the memory is there: 4 bytes a value; segment, "
                          + "overlay and evaluate read such an image region by region where every preprocessing step is pixelwise)")
        }
        // The image, and the copies reading and preparing it make, must fit: checked before any is taken.
        do {
            try requireMemory(wholeReadBytes, for: "reading \(h)×\(w)×\(b) values (4 bytes each, and copies)",
                              "read a smaller image or region (segment, overlay and evaluate read an image too large to hold "
                              + "region by region where every preprocessing step is pixelwise)")
        } catch { throw IOError(file: url.path, "dataset '\(c.spectra)': \(error)") }
        // Read by hyperslabs along the slowest dimension, each at most `slabValues` values, so a
        // large file never needs a second full-size copy besides the image.
        var image = [Float](repeating: 0, count: count)
        // Whole chunks along that dimension: a compressed chunk read in parts is decompressed for each
        // (a 1024²×450 gzip file in chunks of 64×64×450: 72 s to read in slabs of 9 rows).
        let perEntry = shape.dropFirst().reduce(1, *), chunk = chunks?[0] ?? 1
        let entries = max(chunk, c.slabValues / perEntry / chunk * chunk)
        for first in stride(from: 0, to: shape[0], by: entries) {
            let n = min(entries, shape[0] - first)
            let slab = try file.readHyperslab(c.spectra, start: [first] + shape.dropFirst().map { _ in 0 },
                                              count: [n] + shape.dropFirst())
            c.layout.place(slab, first: first, size: (b, h, w), into: &image)
        }
        return image
    }

    /// Rows `y ..< y + h`, columns `x ..< x + w` of every band, B×h×w channels first.
    func region(y: Int, x: Int, height h: Int, width w: Int) throws -> [Float] {
        try requireInside(y: y, x: x, height: h, width: w)
        let (b, name) = (bands, options.spectra)
        let slab: [Float]
        switch options.layout {
        case .hwb: slab = try file.readHyperslab(name, start: [y, x, 0], count: [h, w, b])
        case .bhw: slab = try file.readHyperslab(name, start: [0, y, x], count: [b, h, w])
        case .matlab: slab = try file.readHyperslab(name, start: [0, x, y], count: [b, w, h])
        case .flat:
            if w == width {
                slab = try file.readHyperslab(name, start: [y * width, 0], count: [h * w, b])
            } else {  // pixels row by row: each row's run of the region
                var rows = [Float]()
                rows.reserveCapacity(h * w * b)
                for r in 0..<h { rows += try file.readHyperslab(name, start: [(y + r) * width + x, 0], count: [w, b]) }
                slab = rows
            }
        }
        var values = [Float](repeating: 0, count: b * h * w)
        options.layout.place(slab, first: 0, size: (b, h, w), into: &values)
        return values
    }

    /// The file's tissue mask (H×W, row-major), nil when the file lacks the dataset `options.mask` names.
    func readMask() throws -> [Bool]? {
        guard let name = options.mask, try file.datasetNames().contains(name.hasPrefix("/") ? name : "/" + name) else { return nil }
        let plane = height * width
        let declared = try file.shape(of: name)
        guard declared.allSatisfy({ $0 <= plane }), checkedProduct(declared) == plane else {
            throw IOError(file: url.path, "dataset '\(name)' has shape \(declared); expected \(height)×\(width) values, one per pixel")
        }
        let (shape, values) = try file.readFloats(name, maximumValues: options.maximumValues)
        // NaN compares unequal to 0: a mask marking background with NaN would mark it tissue.
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw IOError(file: url.path, "dataset '\(name)' holds \(values[bad]) at value \(bad) (of \(values.count)); a mask holds 0 (background) "
                          + "and non-zero (tissue) numbers, or booleans")
        }
        do { return try options.layout.mask(shape: shape, values: values, height: height, width: width) } catch let e as LayoutError {
            throw IOError(file: url.path, "dataset '\(name)' \(e.description)")
        }
    }

    /// Where the file lacks a mask dataset named other than the default: a misspelt name, most
    /// likely (the default's absence is usual), said with the file's datasets.
    func warning(maskFound found: Bool) throws -> String? {
        guard !found, let name = options.mask, (name.hasPrefix("/") ? name : "/" + name) != SpectralFileOptions().mask else { return nil }
        return "the mask dataset '\(name)' that the modality names is not in the file, so its tissue mask is computed; "
            + "the file's datasets are " + (try file.datasetNames()).joined(separator: ", ")
    }
}

extension SpectralFileReader {
    /// Layout `flat`: (H, W) from the datasets or attributes that `height` and `width` name.
    func imageSize(_ file: HDF5File, _ url: URL) throws -> (height: Int, width: Int) {
        guard let height = options.height, let width = options.width else {
            throw IOError(file: url.path, "layout 'flat' needs the keys 'height' and 'width' (datasets or attributes "
                          + "holding the image size, e.g. PyIR's '/data/ypixels' and '/data/xpixels')")
        }
        let datasets = try file.datasetNames()
        func integer(_ key: String, _ source: ImageSizeSource) throws -> Int {
            let name: String
            switch source {
            case .value(let v): return v
            case .named(let n): name = n
            }
            let absolute = name.hasPrefix("/") ? name : "/" + name
            if datasets.contains(absolute) {
                // A dataset of many values (the axis, say) is the wrong one: named as such, not as too large to read.
                let declared = try file.shape(of: absolute)
                guard declared.allSatisfy({ $0 == 1 }) else {  // not a product: declared sizes may overflow it
                    throw IOError(file: url.path, "'\(key)' names dataset '\(name)' of shape \(declared); expected a dataset (or "
                                  + "attribute) holding one positive integer, the image's \(key)")
                }
                let (shape, values): ([Int], [Float])
                do { (shape, values) = try file.readFloats(absolute, maximumValues: 16) } catch {
                    throw IOError(file: url.path, "'\(key)' names dataset '\(name)', which does not hold a number: \(error)")
                }
                guard values.count == 1, let v = values.first, v == v.rounded(), v >= 1, v <= 1_073_741_824 else {
                    throw IOError(file: url.path, "'\(key)' names dataset '\(name)' of shape \(shape) holding \(values.prefix(4)); "
                                  + "expected one positive integer")
                }
                return Int(v)
            }
            for owner in ["/", options.spectra] {
                if let v = try? file.attributeInt(name, on: owner) {
                    guard v >= 1, v <= 1 << 30 else {
                        throw IOError(file: url.path, "'\(key)': attribute '\(name)' on '\(owner)' is \(v); expected 1 to \(1 << 30)")
                    }
                    return v
                }
            }
            throw IOError(file: url.path, "'\(key)' names '\(name)', which is neither a dataset nor an integer attribute "
                          + "of '/' or '\(options.spectra)'; the datasets are \(datasets.joined(separator: ", "))")
        }
        return (try integer("height", height), try integer("width", width))
    }
}
