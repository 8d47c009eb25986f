import CompSegCore
import CompSegIO
import Foundation

extension SpectralFileReader {
    /// An HDF5 (or MATLAB v7.3) file's cube: `spectra` arranged as `layout` says, `wavenumbers`
    /// (cm⁻¹), and the `mask` dataset when the file has it.
    func hdf5Cube(_ url: URL) throws -> SpectralCube {
        let c = options, layout = c.layout
        let file = try HDF5File(url: url)
        func fail(_ dataset: String, _ error: LayoutError) -> IOError {
            IOError(file: url.path, "dataset '\(dataset)' \(error.description)")
        }
        if layout != .flat, c.height != nil || c.width != nil {
            throw IOError(file: url.path, "keys 'height' and 'width' apply only to layout 'flat', not '\(layout.rawValue)'")
        }
        let shape = try file.shape(of: c.spectra)
        guard shape.count == layout.rank else {
            throw fail(c.spectra, LayoutError("has shape \(shape) (rank \(shape.count)); layout '\(layout.rawValue)' "
                                              + "expects \(layout.dimensionNames) (rank \(layout.rank))"))
        }
        let size = layout == .flat ? try imageSize(file, url) : nil
        let (b, h, w): (Int, Int, Int)
        do { (b, h, w) = try layout.dimensions(shape: shape, size: size) } catch let e as LayoutError {
            throw fail(c.spectra, e)
        }
        // The axis first: a cube whose bands disagree with it is refused before it is read, and an
        // axis (or mask) of another size before it is read (a small file can declare billions).
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
        let wavenumbers: [Double]
        do { wavenumbers = try layout.vector(shape: wavenumberShape, values: wavenumberValues) } catch let e as LayoutError {
            throw fail(c.wavenumbers, e)
        }
        guard wavenumbers.count == b else {
            throw IOError(file: url.path, "dataset '\(c.wavenumbers)' has \(wavenumbers.count) values "
                          + "but '\(c.spectra)' has \(b) bands (shape \(shape), layout '\(layout.rawValue)')")
        }
        let (plane, o1) = h.multipliedReportingOverflow(by: w), (count, o2) = plane.multipliedReportingOverflow(by: b)
        guard !o1, !o2, count <= c.maximumValues else {
            throw IOError(file: url.path, "dataset '\(c.spectra)' declares \(h)×\(w)×\(b) values, more than the limit of "
                          + "\(c.maximumValues) (option maximumValues raises it, if the memory is there: 4 bytes a value)")
        }
        // The image, and the copies reading and preparing it make, must fit: checked before any is taken.
        do {
            try requireMemory(Double(count) * 16, for: "reading \(h)×\(w)×\(b) values (4 bytes each, and copies)",
                              "read a smaller image or region")
        } catch { throw IOError(file: url.path, "dataset '\(c.spectra)': \(error)") }
        // Read by hyperslabs along the slowest dimension, each at most `slabValues` values, so a
        // large file never needs a second full-size copy besides the image.
        var image = [Float](repeating: 0, count: count)
        let perEntry = shape.dropFirst().reduce(1, *)
        let entries = max(1, c.slabValues / perEntry)
        for first in stride(from: 0, to: shape[0], by: entries) {
            let n = min(entries, shape[0] - first)
            let slab = try file.readHyperslab(c.spectra, start: [first] + shape.dropFirst().map { _ in 0 },
                                              count: [n] + shape.dropFirst())
            layout.place(slab, first: first, size: (b, h, w), into: &image)
        }
        var mask: [Bool]?
        if let name = c.mask, try file.datasetNames().contains(name.hasPrefix("/") ? name : "/" + name) {
            let declared = try file.shape(of: name)
            guard declared.allSatisfy({ $0 <= plane }), checkedProduct(declared) == plane else {
                throw fail(name, LayoutError("has shape \(declared); expected \(h)×\(w) values, one per pixel"))
            }
            let (shape, values) = try file.readFloats(name, maximumValues: c.maximumValues)
            do { mask = try layout.mask(shape: shape, values: values, height: h, width: w) } catch let e as LayoutError {
                throw fail(name, e)
            }
        }
        // A `units` (or `unit`) string attribute on the axis says its unit; without one it is cm⁻¹.
        // One that is not a single string is refused: guessing would misread an axis in nm.
        let written = try ["units", "unit"].first { file.hasAttribute($0, on: c.wavenumbers) }.map { name in
            do { return try file.attributeString(name, on: c.wavenumbers) } catch let e as IOError {
                throw IOError(file: e.file, "\(e.message) (the axis's unit, such as \"cm-1\" or \"nm\")")
            }
        }
        let unit = written.map(SpectralCube.unit(written:)).flatMap { $0.isEmpty ? nil : $0 } ?? "cm⁻¹"
        var cube = SpectralCube(height: h, width: w, bands: b, values: image, axis: wavenumbers, axisUnit: unit, mask: mask,
                                format: "HDF5 (layout \(layout.rawValue))", dataType: try file.elementType(of: c.spectra))
        // A mask named other than the default, absent: a misspelt name, most likely (the default's absence is usual).
        if mask == nil, let name = c.mask, (name.hasPrefix("/") ? name : "/" + name) != SpectralFileOptions().mask {
            cube.warning = "the mask dataset '\(name)' that the modality names is not in the file, so its tissue mask is computed; "
                + "the file's datasets are " + (try file.datasetNames()).joined(separator: ", ")
        }
        return cube
    }

    /// Layout `flat`: (H, W) from the datasets or attributes that `height` and `width` name.
    private func imageSize(_ file: HDF5File, _ url: URL) throws -> (height: Int, width: Int) {
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
