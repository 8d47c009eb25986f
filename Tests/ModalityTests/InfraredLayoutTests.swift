import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegTestSupport
import InfraredModality
import SpectralFiles

/// Reads the files of `tools/make_infrared_fixtures.py` (written by h5py): every layout holds the
/// same 4×5×6 cube, value(y, x, b) = 1 + 0.1·b + y + 10·x.
@Suite struct InfraredLayoutTests {
    static let (h, w, b) = (4, 5, 6)
    static let ascending = (0..<6).map { 1790 + 2 * Double($0) }
    static let descending = (0..<6).map { 1800 - 2 * Double($0) }
    static let mask = (0..<20).map { ($0 % 5 + $0 / 5) % 2 == 1 }  // (x + y) % 2

    static func url(_ name: String) -> URL { fixturesDirectory.appendingPathComponent("infrared/\(name)") }

    static func load(_ name: String, _ configure: (inout InfraredSource.Configuration) -> Void = { _ in }) throws -> Sample {
        var c = InfraredSource.Configuration()
        configure(&c)
        return try InfraredSource(c).load(url(name), label: .cancer)
    }

    /// The cube channels first, C×H×W, as the formula gives it.
    static var expected: [Float] {
        var cube: [Float] = []
        for k in 0..<b { for y in 0..<h { for x in 0..<w { cube.append(Float(1 + 0.1 * Double(k) + Double(y) + 10 * Double(x))) } } }
        return cube
    }

    static func check(_ sample: Sample, wavenumbers: [Double], mask: [Bool]?) {
        #expect(sample.image.shape == [b, h, w])
        let worst = zip(sample.image.scalars, expected).map { Swift.abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5)
        #expect(sample.channels == .spectral(values: wavenumbers, unit: "cm⁻¹"))
        #expect(sample.channels.spectralOrder == SpectralOrder(wavenumbers))
        #expect(sample.metadata["wavenumberOrder"] == SpectralOrder(wavenumbers).rawValue)
        #expect(sample.tissue.height == h && sample.tissue.width == w)
        if let mask { #expect(sample.tissue.pixels == mask) }
    }

    @Test func hwbGzipFloat64() throws {
        Self.check(try Self.load("hwb.h5"), wavenumbers: Self.ascending, mask: Self.mask)
    }

    @Test func bhwDescending() throws {
        let s = try Self.load("bhw.h5") { $0.layout = .bhw }
        Self.check(s, wavenumbers: Self.descending, mask: nil)  // no mask: Otsu
        #expect(s.channels.spectralOrder == .descending && s.metadata["format"] == "HDF5 (layout bhw)")
    }

    @Test func pyirFlatWithSizeDatasets() throws {
        Self.check(try Self.load("pyir.h5") { $0 = .pyir }, wavenumbers: Self.ascending, mask: Self.mask)
    }

    @Test func flatWithSizeAttributes() throws {
        let s = try Self.load("pyir_attrs.h5") { $0 = .pyir; $0.height = "ypixels"; $0.width = "xpixels" }
        Self.check(s, wavenumbers: Self.ascending, mask: Self.mask)
    }

    /// A size given as a number, as a settings file writes it (`width: 5`), and read back from JSON.
    @Test func flatWithSizesGiven() throws {
        let s = try Self.load("pyir.h5") { $0 = .pyir; $0.height = 4; $0.width = 5 }
        Self.check(s, wavenumbers: Self.ascending, mask: Self.mask)
        let decoded = try PluginConfiguration(json: Data(#"{"layout": "flat", "height": 4, "width": "/data/xpixels"}"#.utf8))
            .decode(SpectralFileOptions.self)
        #expect(decoded.height == .value(4) && decoded.width == .named("/data/xpixels"))
        #expect(try JSONEncoder().encode(decoded.height) == Data("4".utf8))
        #expect { try PluginConfiguration(json: Data(#"{"width": [5]}"#.utf8), source: "lab.yaml").decode(SpectralFileOptions.self) }
            throws: { "\($0)".contains("key 'width': expected a whole number, or the name of the dataset or attribute") }
    }

    @Test func matlabColumnMajor() throws {
        let s = try Self.load("matlab.mat") { $0.layout = .matlab; $0.spectra = "cube"; $0.wavenumbers = "wn"; $0.mask = "mask" }
        Self.check(s, wavenumbers: Self.descending, mask: Self.mask)
    }

    @Test func configurationDecodesLayoutsAndRejectsUnknownKeys() throws {
        func decode(_ json: String) throws -> InfraredSource.Configuration {
            try PluginConfiguration(json: Data(json.utf8), source: "test").decode(InfraredSource.Configuration.self)
        }
        #expect(try decode("{}") == InfraredSource.Configuration())
        #expect(try decode("{}").layout == .hwb)
        let flat = try decode(#"{"layout": "flat", "spectra": "/data/intensities", "wavenumbers": "/data/xvalues", "mask": "/data/tissue_mask", "height": "/data/ypixels", "width": "/data/xpixels"}"#)
        #expect(flat == .pyir)
        #expect(try decode(#"{"mask": null}"#).mask == nil)
        #expect(try decode(#"{"layout": "matlab"}"#).layout == .matlab)
        #expect(throws: ConfigurationError.self) { try decode(#"{"layout": "whb"}"#) }
        #expect(throws: ConfigurationError.self) { try decode(#"{"layot": "bhw"}"#) }
        let roundTrip = try JSONDecoder().decode(InfraredSource.Configuration.self, from: JSONEncoder().encode(flat))
        #expect(roundTrip == flat)
    }

    // MARK: - Errors name the file and the problem

    static func message(_ name: String, _ configure: (inout InfraredSource.Configuration) -> Void = { _ in }) -> String {
        do { _ = try load(name, configure); return "no error" } catch { return "\(error)" }
    }

    @Test func missingDatasetListsTheDatasets() {
        let m = Self.message("missing.h5")
        #expect(m.contains("missing.h5") && m.contains("'/spectra' not found") && m.contains("/cube") && m.contains("/wavenumbers"))
    }

    @Test func bandsDifferFromWavenumbers() {
        let m = Self.message("bad_bands.h5")
        #expect(m.contains("bad_bands.h5") && m.contains("has shape [5]") && m.contains("6 bands"), "\(m)")
    }

    @Test func nanIsLocated() {
        let m = Self.message("nan.h5")
        #expect(m.contains("nan.h5") && m.contains("1 NaN") && m.contains("row 2, column 3 (from 0, top left), band 4"), "\(m)")
    }

    @Test func wrongRankForTheLayout() {
        let m = Self.message("hwb.h5") { $0.layout = .flat; $0.height = "h"; $0.width = "w" }
        #expect(m.contains("hwb.h5") && m.contains("'/spectra'") && m.contains("rank 3") && m.contains("pixels×B")
                && m.contains("a rank-3 cube is layout 'hwb', 'bhw' or 'matlab'"), "\(m)")
        let m2 = Self.message("pyir.h5") { $0.layout = .bhw; $0.spectra = "/data/intensities" }
        #expect(m2.contains("pyir.h5") && m2.contains("rank 2") && m2.contains("B×H×W")
                && m2.contains("is layout 'flat', which also needs keys 'height' and 'width'"), "\(m2)")
    }

    /// The first non-finite value is named by pixel, row by row, not by the band-by-band order the
    /// values are stored in.
    @Test func theFirstNonFinitePixelIsNamedRowByRow() throws {
        var values = [Float](repeating: 1, count: 3 * 4 * 5)  // 3 bands of 4×5, band by band
        values[0 * 20 + 19] = .nan  // band 0, the last pixel
        values[2 * 20 + 6] = .infinity  // band 2, row 1, column 1
        let cube = SpectralCube(height: 4, width: 5, bands: 3, values: values, axis: [1000, 1100, 1200], axisUnit: "cm⁻¹", format: "test")
        #expect { try SpectralFileReader().sample(cube, file: URL(fileURLWithPath: "/x.h5"), label: nil, axisUnit: "cm⁻¹") }
            throws: { "\($0)".contains("2 NaN or infinite values") && "\($0)".contains("the first at row 1, column 1 (from 0, top left), band 2") }
    }

    /// A mask the modality names that a file lacks is computed; one other than the default is named in a warning.
    @Test func aMissingNamedMaskIsWarnedOf() throws {
        let misspelt = try Self.load("pyir.h5") { $0 = .pyir; $0.mask = "/data/tisue_mask" }
        #expect(misspelt.metadata[Sample.warningKey]?.hasPrefix("the mask dataset '/data/tisue_mask' that the modality names is not in "
                                                                 + "the file, so its tissue mask is computed; the file's datasets are ") == true)
        #expect(try Self.load("bhw.h5") { $0.layout = .bhw }.metadata[Sample.warningKey] == nil)  // no /mask, the default: usual
    }

    /// Bands stored first, read with the default layout: the message names the layout to set.
    @Test func bandsFirstNameTheirLayout() {
        let bhw = Self.message("bhw.h5")
        #expect(bhw.contains("has shape [6] but '/spectra' has 5 bands") && bhw.contains("if the bands come first, set the modality option "
                                                                                          + "layout: bhw"), "\(bhw)")
        let matlab = Self.message("matlab.mat") { $0.spectra = "cube"; $0.wavenumbers = "wn"; $0.mask = "mask" }
        #expect(matlab.contains("a MATLAB v7.3 array: set the modality option layout: matlab"), "\(matlab)")
    }

    @Test func flatPixelsDifferFromHeightTimesWidth() {
        let m = Self.message("flat_mismatch.h5") { $0 = .pyir }
        #expect(m.contains("flat_mismatch.h5") && m.contains("19 pixels") && m.contains("4×5 = 20"))
    }

    @Test func flatSizeProblems() {
        let none = Self.message("pyir.h5") { $0 = .pyir; $0.height = nil }
        #expect(none.contains("pyir.h5") && none.contains("'height' and 'width'"))
        let absent = Self.message("pyir.h5") { $0 = .pyir; $0.width = "columns" }
        #expect(absent.contains("'columns'") && absent.contains("neither a dataset nor") && absent.contains("/data/xpixels"))
        let notFlat = Self.message("hwb.h5") { $0.height = "/h" }
        #expect(notFlat.contains("only to layout 'flat'"))
        // A dataset of many values (the axis) is named as the wrong one, not as too large to read.
        let axis = Self.message("pyir.h5") { $0 = .pyir; $0.height = "/data/xvalues" }
        #expect(axis.contains("'height' names dataset '/data/xvalues' of shape [6]; expected a dataset (or attribute) holding one "
                              + "positive integer") && !axis.contains("maximumValues"), "\(axis)")
    }

    /// Sizes that take the 8×8 block transpose and both of its tails (pixels and bands not
    /// multiples of 8), whole and in slabs of rows as the HDF5 reader places them.
    @Test func pixelMajorInBlocks() throws {
        let (h, w, b) = (3, 7, 19)
        func v(_ k: Int, _ y: Int, _ x: Int) -> Float { Float(1000 * k + 10 * y + x) }
        var chw: [Float] = [], hwb: [Float] = []
        for k in 0..<b { for y in 0..<h { for x in 0..<w { chw.append(v(k, y, x)) } } }
        for y in 0..<h { for x in 0..<w { for k in 0..<b { hwb.append(v(k, y, x)) } } }
        #expect(try SpectralLayout.hwb.channelsFirst(shape: [h, w, b], values: hwb).cube == chw)
        var cube = [Float](repeating: -1, count: chw.count)
        SpectralLayout.hwb.place(Array(hwb[..<(w * b)]), first: 0, size: (b, h, w), into: &cube)
        SpectralLayout.hwb.place(Array(hwb[(w * b)...]), first: 1, size: (b, h, w), into: &cube)
        #expect(cube == chw)
    }

    @Test func layoutFunctionsDirectly() throws {
        // 2×3 image, 2 bands, value = 100·band + 10·y + x, given in each layout.
        let (h, w, b) = (2, 3, 2)
        func v(_ k: Int, _ y: Int, _ x: Int) -> Float { Float(100 * k + 10 * y + x) }
        var chw: [Float] = [], hwb: [Float] = [], mat: [Float] = []
        for k in 0..<b { for y in 0..<h { for x in 0..<w { chw.append(v(k, y, x)) } } }
        for y in 0..<h { for x in 0..<w { for k in 0..<b { hwb.append(v(k, y, x)) } } }
        for k in 0..<b { for x in 0..<w { for y in 0..<h { mat.append(v(k, y, x)) } } }
        #expect(try SpectralLayout.hwb.channelsFirst(shape: [h, w, b], values: hwb).cube == chw)
        #expect(try SpectralLayout.bhw.channelsFirst(shape: [b, h, w], values: chw).cube == chw)
        #expect(try SpectralLayout.flat.channelsFirst(shape: [h * w, b], values: hwb, size: (h, w)).cube == chw)
        let m = try SpectralLayout.matlab.channelsFirst(shape: [b, w, h], values: mat)
        #expect(m.cube == chw && m.height == h && m.width == w && m.bands == b)
        // Masks: MATLAB's W×H is transposed; an H×W mask is refused for layout matlab.
        let maskHW: [Float] = [1, 0, 0, 0, 1, 1]  // rows (1 0 0), (0 1 1)
        let maskWH: [Float] = [1, 0, 0, 1, 0, 1]
        let want = maskHW.map { $0 != 0 }
        #expect(try SpectralLayout.matlab.mask(shape: [w, h], values: maskWH, height: h, width: w) == want)
        #expect(try SpectralLayout.flat.mask(shape: [h * w], values: maskHW, height: h, width: w) == want)
        #expect(throws: LayoutError.self) { try SpectralLayout.matlab.mask(shape: [h, w], values: maskHW, height: h, width: w) }
        #expect(throws: LayoutError.self) { try SpectralLayout.hwb.mask(shape: [w, h], values: maskWH, height: h, width: w) }
        #expect(throws: LayoutError.self) { try SpectralLayout.flat.channelsFirst(shape: [5, b], values: [Float](repeating: 0, count: 5 * b), size: (h, w)) }
        #expect(throws: LayoutError.self) { try SpectralLayout.hwb.vector(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]) }
        #expect(try SpectralLayout.matlab.vector(shape: [3, 1], values: [3, 2, 1]) == [3, 2, 1])
        #expect(SpectralOrder([1, 2, 3]) == .ascending && SpectralOrder([3, 2]) == .descending && SpectralOrder([1, 3, 2]) == .unordered)
    }

    /// Files that once crashed the reader (fuzz/hdf5_layout): each gives an error naming the file
    /// and the dataset or key, before anything large is allocated.
    @Test func hostileFilesGiveCleanErrors() {
        let inf = Self.message("hostile_height_inf.h5") { $0 = .pyir }
        #expect(inf.contains("hostile_height_inf.h5") && inf.contains("'height'") && inf.contains("expected one positive integer"))
        let huge = Self.message("hostile_height_huge.h5") { $0 = .pyir }
        #expect(huge.contains("hostile_height_huge.h5") && huge.contains("expected one positive integer"))
        let overflow = Self.message("hostile_size_overflow.h5") { $0 = .pyir; $0.height = "ypixels"; $0.width = "xpixels" }
        #expect(overflow.contains("hostile_size_overflow.h5") && overflow.contains("attribute 'ypixels'") && overflow.contains("expected 1 to"))
        // Declared sizes are checked against the cube's before anything is read.
        let axis = Self.message("hostile_wavenumbers_declared.h5")
        #expect(axis.contains("'/wavenumbers' has shape [1099511627776]") && axis.contains("expected 6 values"), "\(axis)")
        let mask = Self.message("hostile_mask_overflow.h5")
        #expect(mask.contains("'/mask' has shape [1099511627776, 1099511627776]; expected 4×5 values"), "\(mask)")
    }

    /// Values kept in other files (external raw data, an external link, a virtual dataset) are
    /// refused, naming the dataset: a file could otherwise read any file on the machine, or a fifo.
    @Test func valuesInOtherFilesAreNotRead() {
        for (name, words) in [("elsewhere_storage.h5", "dataset '/spectra' keeps its values in other files"),
                              ("elsewhere_virtual.h5", "dataset '/spectra' keeps its values in other files"),
                              ("elsewhere_link.h5", "'/spectra' is a link into another file"),
                              ("elsewhere_soft.h5", "'/spectra' is a link that cannot be followed")] {
            let message = Self.message(name)
            #expect(message.contains(name) && message.contains(words) && message.contains("compseg") && !message.contains("tissue"),
                    "\(message)")
        }
    }

    /// A dataset compressed with a filter this HDF5 library lacks (h5py's LZF) is refused naming it.
    @Test func aMissingCompressionFilterIsNamed() {
        let message = Self.message("lzf.h5")
        #expect(message.contains("lzf.h5") && message.contains("it is compressed with filter 32000 (LZF), which this HDF5 library "
                                                                 + "cannot decode"), "\(message)")
    }

    /// A NaN or repeated wavenumber is named as such, with its band.
    @Test func badAxesAreNamed() {
        let nan = Self.message("axis_nan.h5")
        #expect(nan.contains("axis_nan.h5") && nan.contains("spectral axis") && nan.contains("NaN at band 2") && !nan.contains("preview"))
        // inspect describes such a file, with a note that a sample is refused.
        let notes = (try? SpectralFileReader().summary(fixturesDirectory.appendingPathComponent("infrared/axis_nan.h5")).notes) ?? []
        #expect(notes.contains("the axis holds NaN at band 2: reading it as a sample is refused"), "\(notes)")
        let constant = Self.message("axis_constant.h5")
        #expect(constant.contains("holds 1000.0 at bands 0 and 1; expected distinct wavenumbers"))
    }

    /// Values of ±3·10³⁸ (finite, but their range overflows Float) load; Otsu's tissue threshold
    /// is computed in Double.
    @Test func extremeValuesLoad() throws {
        let s = try Self.load("hostile_range.h5")
        #expect(s.image.shape == [Self.b, Self.h, Self.w])
        #expect(otsuThreshold([-3e38, 0, 1, 3e38]).isFinite)
        #expect(otsuThreshold([.nan, 1, 2, .infinity, 3]) > 1)
    }
}
