import Foundation
import CHDF5

/// An error naming `file`, with the calling thread's HDF5 error stack emptied: a reading thread
/// whose last call failed would otherwise leave records that make the library's closing at exit
/// print "HDF5: infinite loop closing library" and a line of junk.
private func hdf5Error(_ file: String, _ message: String) -> IOError {
    compseg_h5_clear_errors()
    return IOError(file: file, message)
}

/// The size in bytes of the file at `url`, nil where it cannot be told.
private func fileSize(_ url: URL) -> Int? {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue
}

/// Initializes the library and stops HDF5 printing its error stack. The setting is per thread in
/// thread-safe builds (Debian's), so every entry point calls this. The library is initialized
/// without its clean-up at exit: a file whose writing failed (a full disk) stays half-open in it,
/// and closing that again at exit crashes; the system releases what is left at exit anyway.
private func hdf5Quiet() {
    _ = H5dont_atexit()  // before the first H5open only; later it does nothing
    _ = H5open()
    compseg_h5_silence_errors()
}

/// An HDF5 file opened read-only. Dataset paths are absolute ("/spectra", "/data/intensities");
/// shapes are row-major, slowest dimension first, as h5py and HDF5 list them. Sendable because
/// the HDF5 that CompSeg links (Debian's libhdf5-dev) is built thread-safe (H5_HAVE_THREADSAFE).
public final class HDF5File: Sendable {
    public let url: URL
    private let file: hid_t

    /// Opens `url` read-only.
    /// - Throws: `IOError` naming the file: missing, "not an HDF5 file", or cannot be opened.
    public init(url: URL) throws {
        hdf5Quiet()
        self.url = url
        try requireExistingFile(url)
        // HDF5 calls a file it may not read "not HDF5": the system's reason instead.
        guard access(url.path, R_OK) == 0 else {
            throw IOError(file: url.path, "cannot be opened for reading: \(String(cString: strerror(errno)))")
        }
        guard H5Fis_hdf5(url.path) > 0 else {
            // MATLAB's default MAT-files (v5, v7) are not HDF5; only v7.3 ones are.
            let head = (try? FileHandle(forReadingFrom: url)).flatMap { h in defer { try? h.close() }; return try? h.read(upToCount: 10) }
            if let head, String(decoding: head, as: UTF8.self) == "MATLAB 5.0" {
                throw IOError(file: url.path, "is a MATLAB MAT-file of version 5 or 7, which is not HDF5; save it as version 7.3 "
                              + "(save(file, 'cube', 'wn', '-v7.3')), which this program reads")
            }
            let size = fileSize(url)
            throw hdf5Error(url.path, size == 0 ? "is empty (0 bytes): not an HDF5 file (a copy or download cut short?)" : "not an HDF5 file")
        }
        var id = H5Fopen(url.path, compseg_h5f_acc_rdonly(), compseg_h5p_default())
        let lock = id < 0 ? fileLockState(url) : .free
        if lock == .unsupported {  // HDF5 fails to lock it: opened without its lock, as HDF5_USE_FILE_LOCKING=FALSE would
            id = withoutFileLocking { H5Fopen(url.path, compseg_h5f_acc_rdonly(), $0) }
        }
        guard id >= 0 else {
            if lock == .held {
                throw hdf5Error(url.path, "is locked by a program writing it (HDF5's file lock): wait until the writer is done, then read it")
            }
            let size = fileSize(url).map { " of \($0) bytes" } ?? ""
            throw hdf5Error(url.path, "cannot be opened as HDF5 (the file\(size) starts as HDF5 but is cut short or damaged)")
        }
        file = id
    }
    deinit { H5Fclose(file) }

    func error(_ message: String) -> IOError { hdf5Error(url.path, message) }

    /// Why a dataset's values cannot be read: compressed by a filter this library lacks (": it is
    /// compressed with filter 32000 (LZF), …"), else damaged stored data.
    private func readFailure(_ dataset: hid_t) -> String {
        var name = [CChar](repeating: 0, count: 128)
        let id = compseg_h5_missing_filter(dataset, &name, name.count)
        // Every filter there: the stored bytes themselves are wrong.
        guard id > 0 else {
            return ": its stored data cannot be decoded: damaged or cut short (a block that does not decompress, or fails its "
                + "checksum), or kept in an external file that is missing"
        }
        let known = [32000: "LZF", 32001: "Blosc", 32004: "LZ4", 32008: "Bitshuffle", 32015: "Zstandard", 307: "bzip2"][Int(id)]
        let written = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let what = known ?? (written.isEmpty ? "an unregistered filter" : written)
        return ": it is compressed with filter \(id) (\(what)), which this HDF5 library cannot decode; write it again "
            + "with gzip compression where it was made (h5py: compression='gzip')"
    }

    /// Every dataset's absolute path, recursively through groups, sorted.
    public func datasetNames() throws -> [String] {
        hdf5Quiet()
        var names: [String] = []
        let status = withUnsafeMutablePointer(to: &names) { box in
            compseg_h5_visit_datasets(file, { name, context in
                context!.assumingMemoryBound(to: [String].self).pointee.append("/" + String(cString: name!))
            }, box)
        }
        guard status >= 0 else { throw error("cannot list the datasets") }
        return names.sorted()
    }

    /// The dimensions of dataset `path` ([] for a scalar).
    public func shape(of path: String) throws -> [Int] {
        try withDataset(path) { dataset in try withSpace(H5Dget_space(dataset), path) { try dimensions($0, path) } }
    }

    /// The dimensions of dataset `path`'s chunks (the blocks it is stored and compressed in), nil
    /// where it is stored whole (contiguous or compact): a reader takes whole chunks at a time, so
    /// that no chunk is decompressed again for each part of it read.
    public func chunkShape(of path: String) throws -> [Int]? {
        try withDataset(path) { dataset in
            var dims = [hsize_t](repeating: 0, count: 32)
            let rank = compseg_h5_chunk_dims(dataset, &dims, 32)
            return rank > 0 ? dims.prefix(Int(rank)).map { Int($0) } : nil
        }
    }

    /// The bytes the file stores for the dataset (0 where none of it was ever written: every
    /// value then reads as the fill value).
    public func storedBytes(of path: String) throws -> Int {
        try withDataset(path) { Int(H5Dget_storage_size($0)) }
    }

    /// The whole dataset as Float (float, integer and integer-based enum datasets are converted by
    /// HDF5; an enum, such as h5py's `bool`, gives its members' values: FALSE → 0, TRUE → 1).
    /// - Parameter maximumValues: the most values read; a dataset declaring more is refused before
    ///   anything is allocated (a small file can declare a huge chunked dataset it never wrote).
    /// - Returns: its shape and its values in row-major order.
    /// - Throws: `IOError` naming the file, the dataset and its type class when it is not numeric,
    ///   or its declared size when that exceeds `maximumValues`.
    public func readFloats(_ path: String, maximumValues: Int = 1 << 31) throws -> (shape: [Int], values: [Float]) {
        try read(path, as: compseg_h5t_native_float(), zero: Float(0), maximumValues: maximumValues)
    }

    /// The whole dataset as Double, as `readFloats` reads it: for an axis, whose float64 values
    /// lose digits in Float that a conversion (nm to cm⁻¹) would show.
    public func readDoubles(_ path: String, maximumValues: Int = 1 << 31) throws -> (shape: [Int], values: [Double]) {
        try read(path, as: compseg_h5t_native_double(), zero: Double(0), maximumValues: maximumValues)
    }

    private func read<T>(_ path: String, as memoryType: hid_t, zero: T, maximumValues: Int) throws -> (shape: [Int], values: [T]) {
        try withDataset(path) { dataset in
            try requireNumeric(dataset, path)
            let shape = try withSpace(H5Dget_space(dataset), path) { try dimensions($0, path) }
            let count = try valueCount(shape, path, maximumValues: maximumValues)
            var values = [T](repeating: zero, count: count)
            let status = values.withUnsafeMutableBytes {
                H5Dread(dataset, memoryType, compseg_h5s_all(), compseg_h5s_all(), compseg_h5p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw error("dataset '\(path)' cannot be read" + readFailure(dataset)) }
            return (shape, values)
        }
    }

    /// The block of dataset `path` that begins at `start` and spans `count` elements along each
    /// dimension, as Float in row-major order (its shape is `count`). Types as `readFloats`.
    /// - Throws: `IOError` when the block's rank differs, it reaches outside the dataset, or the
    ///   dataset is not numeric.
    public func readHyperslab(_ path: String, start: [Int], count: [Int]) throws -> [Float] {
        try withDataset(path) { dataset in
            try requireNumeric(dataset, path)
            return try withSpace(H5Dget_space(dataset), path) { fileSpace in
                let shape = try dimensions(fileSpace, path)
                guard start.count == shape.count, count.count == shape.count,
                      zip(start, zip(count, shape)).allSatisfy({ $0 >= 0 && $1.0 > 0 && $0 + $1.0 <= $1.1 }) else {
                    throw error("hyperslab start \(start) count \(count) lies outside dataset '\(path)' of shape \(shape)")
                }
                let (h5Start, h5Count) = (start.map(hsize_t.init), count.map(hsize_t.init))
                guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, h5Start, nil, h5Count, nil) >= 0 else {
                    throw error("cannot select hyperslab \(start) + \(count) in dataset '\(path)'")
                }
                let total = try valueCount(count, path, maximumValues: Int.max)
                return try withSpace(H5Screate_simple(Int32(count.count), h5Count, nil), path) { memorySpace in
                    var values = [Float](repeating: 0, count: total)
                    let status = values.withUnsafeMutableBytes {
                        H5Dread(dataset, compseg_h5t_native_float(), memorySpace, fileSpace, compseg_h5p_default(), $0.baseAddress)
                    }
                    guard status >= 0 else {
                        throw error("hyperslab \(start) + \(count) of dataset '\(path)' cannot be read" + readFailure(dataset))
                    }
                    return values
                }
            }
        }
    }

    /// The integer attribute `name` on the object at `path` (a group or dataset; "/" is the root).
    public func attributeInt(_ name: String, on path: String = "/") throws -> Int {
        try withAttribute(name, on: path) { attribute, type in
            guard H5Tget_class(type) == H5T_INTEGER else { throw error("attribute '\(name)' on '\(path)' is not an integer") }
            var value: Int64 = 0
            guard H5Aread(attribute, compseg_h5t_native_int64(), &value) >= 0 else {
                throw error("attribute '\(name)' on '\(path)' cannot be read as an integer")
            }
            return Int(value)
        }
    }

    /// The number attribute `name` (integer or floating point) on the object at `path`.
    public func attributeDouble(_ name: String, on path: String = "/") throws -> Double {
        try withAttribute(name, on: path) { attribute, type in
            guard [H5T_INTEGER, H5T_FLOAT].contains(H5Tget_class(type)) else { throw error("attribute '\(name)' on '\(path)' is not a number") }
            var value = 0.0
            guard H5Aread(attribute, compseg_h5t_native_double(), &value) >= 0 else {
                throw error("attribute '\(name)' on '\(path)' cannot be read as a number")
            }
            return value
        }
    }

    /// Whether the object at `path` carries an attribute `name` (false when the object is missing).
    public func hasAttribute(_ name: String, on path: String = "/") -> Bool {
        hdf5Quiet()
        return H5Aexists_by_name(file, path, name, compseg_h5p_default()) > 0
    }

    /// The string attribute `name` on the object at `path` (fixed-length or variable-length).
    public func attributeString(_ name: String, on path: String = "/") throws -> String {
        try withAttribute(name, on: path) { attribute, type in
            guard H5Tget_class(type) == H5T_STRING else { throw error("attribute '\(name)' on '\(path)' is not a string") }
            if H5Tis_variable_str(type) > 0 {
                let memoryType = H5Tcopy(compseg_h5t_c_s1())
                defer { H5Tclose(memoryType) }
                H5Tset_size(memoryType, compseg_h5t_variable())
                H5Tset_cset(memoryType, H5Tget_cset(type))
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, memoryType, &pointer) >= 0, let text = pointer else {
                    throw error("attribute '\(name)' on '\(path)' cannot be read as a string")
                }
                defer { H5free_memory(text) }
                return String(cString: text)
            }
            var bytes = [UInt8](repeating: 0, count: H5Tget_size(type))
            guard H5Aread(attribute, type, &bytes) >= 0 else {
                throw error("attribute '\(name)' on '\(path)' cannot be read as a string")
            }
            let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            return String(text.reversed().drop { $0 == " " }.reversed())
        }
    }

    // MARK: - Handles, each closed on every path

    private func withDataset<T>(_ path: String, _ body: (hid_t) throws -> T) throws -> T {
        hdf5Quiet()
        // A file may point elsewhere: an external link, external raw data or a virtual dataset
        // would read other files (any on the machine, a fifo); only what the file holds is read.
        let parts = path.split(separator: "/")
        for k in parts.indices {
            let prefix = (path.hasPrefix("/") ? "/" : "") + parts[...k].joined(separator: "/")
            if compseg_h5_link_is_external(file, prefix) != 0 {
                throw error("'\(prefix)' is a link into another file; compseg reads only what the file itself holds")
            }
        }
        let access = compseg_h5_dapl_without_external_links()  // a soft link into an external one is not followed either
        defer { if access >= 0 { H5Pclose(access) } }
        let dataset = H5Dopen2(file, path, access >= 0 ? access : compseg_h5p_default())
        guard dataset >= 0 else {
            let names = (try? datasetNames()) ?? []
            let absolute = path.hasPrefix("/") ? path : "/" + path
            if names.contains(absolute) { throw error("dataset '\(path)' cannot be opened") }
            if H5Lexists(file, path, compseg_h5p_default()) > 0, H5Oexists_by_name(file, path, access) <= 0 {
                throw error("'\(path)' is a link that cannot be followed (it leads nowhere, in a loop, or into another file, "
                            + "which compseg does not read)")
            }
            throw error("dataset '\(path)' not found; it has \(names.isEmpty ? "no datasets" : names.joined(separator: ", "))")
        }
        defer { H5Dclose(dataset) }
        guard compseg_h5_dataset_is_elsewhere(dataset) == 0 else {
            throw error("dataset '\(path)' keeps its values in other files (external storage or a virtual dataset); "
                        + "compseg reads only what the file itself holds")
        }
        return try body(dataset)
    }

    private func withSpace<T>(_ space: hid_t, _ path: String, _ body: (hid_t) throws -> T) throws -> T {
        guard space >= 0 else { throw error("cannot get the dataspace of '\(path)'") }
        defer { H5Sclose(space) }
        return try body(space)
    }

    private func dimensions(_ space: hid_t, _ path: String) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw error("'\(path)' has no simple dataspace") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dims, nil) == rank else { throw error("cannot read the dimensions of '\(path)'") }
        let shape = dims.compactMap { Int(exactly: $0) }
        guard shape.count == dims.count else { throw error("dataset '\(path)' declares dimensions \(dims) beyond \(Int.max)") }
        return shape
    }

    /// The product of `shape`, or an error naming the dataset when it overflows or exceeds `maximumValues`.
    private func valueCount(_ shape: [Int], _ path: String, maximumValues: Int) throws -> Int {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw error("dataset '\(path)' declares shape \(shape), more values than can be counted") }
            count = product
        }
        guard count <= maximumValues else {
            throw error("dataset '\(path)' declares shape \(shape) (\(count) values), more than the limit of \(maximumValues) "
                        + "(option maximumValues raises it, if the memory is there: 4 bytes a value)")
        }
        return count
    }

    /// The dataset's element type in numpy's words: "float32", "uint16", "int8", "enum", …
    public func elementType(of path: String) throws -> String {
        try withDataset(path) { dataset in
            let type = H5Dget_type(dataset)
            guard type >= 0 else { throw error("cannot get the type of dataset '\(path)'") }
            defer { H5Tclose(type) }
            let typeClass = H5Tget_class(type), bits = 8 * H5Tget_size(type)
            switch typeClass {
            case H5T_FLOAT: return "float\(bits)"
            case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + "\(bits)"
            default: return Self.name(typeClass)
            }
        }
    }

    /// Refuses datasets that are not numbers: float, integer, or an enum over an integer (h5py
    /// writes numpy `bool` as one, FALSE = 0 and TRUE = 1). HDF5 converts an enum to Float by
    /// its members' integer values (`H5T__conv_enum_numeric`, HDF5 ≥ 1.8.11).
    private func requireNumeric(_ dataset: hid_t, _ path: String) throws {
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw error("cannot get the type of dataset '\(path)'") }
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        if typeClass == H5T_FLOAT || typeClass == H5T_INTEGER { return }
        if typeClass == H5T_ENUM {
            let base = H5Tget_super(type)
            guard base >= 0 else { throw error("cannot get the base type of enum dataset '\(path)'") }
            defer { H5Tclose(base) }
            let baseClass = H5Tget_class(base)
            if baseClass == H5T_INTEGER { return }
            throw error("dataset '\(path)' is an enum over \(Self.name(baseClass)); expected an enum over an integer")
        }
        throw error("dataset '\(path)' has type class \(Self.name(typeClass)); expected float, integer or enum (bool)")
    }

    /// HDF5's name for a type class, as h5dump prints it.
    static func name(_ typeClass: H5T_class_t) -> String {
        switch typeClass {
        case H5T_INTEGER: "integer"
        case H5T_FLOAT: "float"
        case H5T_TIME: "time"
        case H5T_STRING: "string"
        case H5T_BITFIELD: "bitfield"
        case H5T_OPAQUE: "opaque"
        case H5T_COMPOUND: "compound"
        case H5T_REFERENCE: "reference"
        case H5T_ENUM: "enum"
        case H5T_VLEN: "variable-length"
        case H5T_ARRAY: "array"
        default: "unknown (\(typeClass.rawValue))"
        }
    }

    private func withAttribute<T>(_ name: String, on path: String, _ body: (hid_t, hid_t) throws -> T) throws -> T {
        hdf5Quiet()
        let exists = H5Aexists_by_name(file, path, name, compseg_h5p_default())
        guard exists >= 0 else { throw error("object '\(path)' not found (looking for attribute '\(name)')") }
        guard exists > 0 else { throw error("attribute '\(name)' not found on '\(path)'") }
        let attribute = H5Aopen_by_name(file, path, name, compseg_h5p_default(), compseg_h5p_default())
        guard attribute >= 0 else { throw error("attribute '\(name)' on '\(path)' cannot be opened") }
        defer { H5Aclose(attribute) }
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw error("cannot get the type of attribute '\(name)' on '\(path)'") }
        defer { H5Tclose(type) }
        let points = try withSpace(H5Aget_space(attribute), path) { H5Sget_simple_extent_npoints($0) }
        guard points == 1 else { throw error("attribute '\(name)' on '\(path)' has \(points) elements; expected one") }
        return try body(attribute, type)
    }
}

/// Element types `HDF5Writer` stores, each as its native HDF5 type.
public protocol HDF5Element: Sendable { static var nativeType: hid_t { get } }
extension Float: HDF5Element { public static var nativeType: hid_t { compseg_h5t_native_float() } }
extension Double: HDF5Element { public static var nativeType: hid_t { compseg_h5t_native_double() } }
extension UInt8: HDF5Element { public static var nativeType: hid_t { compseg_h5t_native_uint8() } }
extension Int32: HDF5Element { public static var nativeType: hid_t { compseg_h5t_native_int32() } }
extension Int64: HDF5Element { public static var nativeType: hid_t { compseg_h5t_native_int64() } }

/// Writes a new HDF5 file (replacing any file at `url`): datasets, then attributes, then `close()`.
/// It is written into a temporary file beside `url`, which `close()` renames to `url` (atomically,
/// after flushing it to disk); a writer dropped without `close()`, or one whose writing failed
/// (a full disk), removes its temporary and leaves `url` untouched. Datasets may be written whole
/// or in blocks (`createDataset`, then `write(_:start:count:values:)`), so a file larger than
/// memory can be written. No times are recorded: the same contents give the same bytes.
public final class HDF5Writer {
    public let url: URL
    private var file: hid_t
    private let temporary: String
    /// Whether the temporary is gone: renamed to `url`, or removed.
    private var done = false

    public init(url: URL) throws {
        hdf5Quiet()
        self.url = url
        temporary = try temporaryPath(for: url)  // the folder must exist
        errno = 0
        file = H5Fcreate(temporary, compseg_h5f_acc_trunc(), compseg_h5p_default(), compseg_h5p_default())
        // A file system without locks (told by its folder's lock, the failed file may be gone): its own new temporary needs none.
        if file < 0, fileLockState(URL(fileURLWithPath: temporary).deletingLastPathComponent()) == .unsupported {
            file = withoutFileLocking { H5Fcreate(temporary, compseg_h5f_acc_trunc(), compseg_h5p_default(), $0) }
        }
        guard file >= 0 else { throw hdf5Error(url.path, "cannot be created as an HDF5 file" + Self.systemCause()) }
    }
    deinit { abandon() }

    /// Closes the file and removes the temporary (emptied first: should HDF5 keep the file open
    /// after a failed write, its disk space is still given back).
    private func abandon() {
        guard !done else { return }
        done = true
        if file >= 0 { _ = H5Fclose(file) }
        compseg_h5_clear_errors()
        file = -1
        _ = truncate(temporary, 0)
        _ = unlink(temporary)
    }

    /// The system's reason for a failed write, where HDF5 failed for one (a full disk, a file
    /// too large): ": No space left on device".
    private static func systemCause() -> String {
        [ENOSPC, EFBIG, EDQUOT, EIO, EROFS, EACCES, ENAMETOOLONG].contains(errno) ? ": \(String(cString: strerror(errno)))" : ""
    }

    /// The error of a failed write, the file abandoned.
    private func failure(_ message: String) -> IOError {
        let error = hdf5Error(url.path, message + Self.systemCause())
        abandon()
        return error
    }

    private func error(_ message: String) -> IOError { hdf5Error(url.path, message) }

    /// Writes dataset `path` (groups on the way are created) of `shape`, `values` row-major.
    /// With `gzip` (level 1…9) the dataset is chunked — by `chunks`, or by default chunks of at
    /// most 64 Ki elements (largest dimensions halved first) — and compressed, after HDF5's byte
    /// shuffle when `shuffle` (which lets deflate find the similar high bytes of neighbouring
    /// floats: measured on 256×256×450 spectra, 84% of the raw size instead of 93%, read in 0.49 s
    /// instead of 0.85 s).
    public func write<T: HDF5Element>(_ path: String, shape: [Int], values: [T], gzip: Int? = nil, shuffle: Bool = false,
                                      chunks: [Int]? = nil) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw error("dataset '\(path)': shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        let dataset = try create(path, shape: shape, type: T.nativeType, gzip: gzip, shuffle: shuffle, chunks: chunks)
        errno = 0
        let status = values.withUnsafeBytes {
            H5Dwrite(dataset, T.nativeType, compseg_h5s_all(), compseg_h5s_all(), compseg_h5p_default(), $0.baseAddress)
        }
        let cause = errno
        H5Dclose(dataset)  // before the file is abandoned, should the writing have failed
        errno = cause
        guard status >= 0 else { throw failure("dataset '\(path)' cannot be written") }
    }

    /// Creates dataset `path` of `shape` (chunked and compressed as `write(_:shape:values:…)`
    /// says), its values to be written in blocks by `write(_:start:count:values:)`.
    public func createDataset<T: HDF5Element>(_ path: String, shape: [Int], of _: T.Type, gzip: Int? = nil, shuffle: Bool = false,
                                              chunks: [Int]? = nil) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw error("dataset '\(path)': shape \(shape) has a negative dimension") }
        H5Dclose(try create(path, shape: shape, type: T.nativeType, gzip: gzip, shuffle: shuffle, chunks: chunks))
    }

    /// Writes `values` (row-major) into the block of dataset `path` that begins at `start` and
    /// spans `count` along each dimension. Blocks of whole chunks are written fastest: a chunk
    /// written in parts is compressed again for each.
    public func write<T: HDF5Element>(_ path: String, start: [Int], count: [Int], values: [T]) throws {
        hdf5Quiet()
        guard file >= 0 else { throw error("is already closed") }
        guard start.count == count.count, count.allSatisfy({ $0 >= 1 }), start.allSatisfy({ $0 >= 0 }),
              count.reduce(1, *) == values.count else {
            throw error("dataset '\(path)': a block at \(start) of \(count) cannot take \(values.count) values")
        }
        let (written, cause): (Bool, Int32) = try {  // the dataset and its spaces closed before the file is abandoned, should the writing fail
            let dataset = H5Dopen2(file, path, compseg_h5p_default())
            guard dataset >= 0 else { throw error("dataset '\(path)' cannot be opened for writing") }
            defer { H5Dclose(dataset) }
            let fileSpace = H5Dget_space(dataset)
            guard fileSpace >= 0 else { throw error("dataset '\(path)' has no dataspace") }
            defer { H5Sclose(fileSpace) }
            let h5Start = start.map(hsize_t.init), h5Count = count.map(hsize_t.init)
            guard H5Sget_simple_extent_ndims(fileSpace) == Int32(start.count),
                  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, h5Start, nil, h5Count, nil) >= 0, H5Sselect_valid(fileSpace) > 0 else {
                throw error("dataset '\(path)': a block at \(start) of \(count) does not lie inside it")
            }
            let memorySpace = H5Screate_simple(Int32(count.count), h5Count, nil)
            guard memorySpace >= 0 else { throw error("dataset '\(path)': cannot describe a block of \(count)") }
            defer { H5Sclose(memorySpace) }
            errno = 0
            let status = values.withUnsafeBytes { H5Dwrite(dataset, T.nativeType, memorySpace, fileSpace, compseg_h5p_default(), $0.baseAddress) }
            return (status >= 0, errno)
        }()
        errno = cause  // as the write left it: the closing may set another
        guard written else { throw failure("dataset '\(path)' cannot be written") }
    }

    /// A new dataset `path`, open (the caller closes it).
    private func create(_ path: String, shape: [Int], type: hid_t, gzip: Int?, shuffle: Bool, chunks: [Int]?) throws -> hid_t {
        hdf5Quiet()
        guard file >= 0 else { throw error("is already closed") }
        let dcpl = H5Pcreate(compseg_h5p_dataset_create())
        let lcpl = H5Pcreate(compseg_h5p_link_create())
        defer { H5Pclose(dcpl); H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        H5Pset_obj_track_times(dcpl, false)
        try createGroups(above: path)
        if let level = gzip {
            let chunk = chunks ?? Self.defaultChunks(shape)
            guard !shape.isEmpty, chunk.count == shape.count, zip(chunk, shape).allSatisfy({ $0 >= 1 && $0 <= max($1, 1) }) else {
                throw error("dataset '\(path)': chunks \(chunk) do not fit shape \(shape)")
            }
            guard H5Pset_chunk(dcpl, Int32(chunk.count), chunk.map(hsize_t.init)) >= 0,
                  !shuffle || H5Pset_shuffle(dcpl) >= 0,
                  H5Pset_deflate(dcpl, UInt32(level)) >= 0 else { throw error("dataset '\(path)': cannot set gzip level \(level)") }
        }
        let space = shape.isEmpty ? compseg_h5s_scalar_create() : H5Screate_simple(Int32(shape.count), shape.map(hsize_t.init), nil)
        guard space >= 0 else { throw error("dataset '\(path)': cannot create a dataspace of shape \(shape)") }
        defer { H5Sclose(space) }
        errno = 0
        let dataset = H5Dcreate2(file, path, type, space, lcpl, dcpl, compseg_h5p_default())
        guard dataset >= 0 else {
            let cause = Self.systemCause()
            if !cause.isEmpty { throw failure("dataset '\(path)' cannot be created") }
            throw error("dataset '\(path)' cannot be created (does it exist already?)")
        }
        return dataset
    }

    /// Sets the integer attribute `name` (stored as int64) on the object at `path`.
    public func setAttribute(_ name: String, _ value: Int, on path: String = "/") throws {
        var v = Int64(value)
        try withNewAttribute(name, on: path, type: compseg_h5t_native_int64()) { H5Awrite($0, $1, &v) }
    }

    /// Sets the number attribute `name` (stored as a 64-bit float) on the object at `path`.
    public func setAttribute(_ name: String, _ value: Double, on path: String = "/") throws {
        var v = value
        try withNewAttribute(name, on: path, type: compseg_h5t_native_double()) { H5Awrite($0, $1, &v) }
    }

    /// Sets the string attribute `name` (fixed-length UTF-8) on the object at `path`.
    public func setAttribute(_ name: String, _ value: String, on path: String = "/") throws {
        let bytes = Array(value.utf8)
        let type = H5Tcopy(compseg_h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, max(bytes.count, 1))
        H5Tset_cset(type, H5T_CSET_UTF8)
        let padded = bytes.isEmpty ? [0] : bytes
        try withNewAttribute(name, on: path, type: type) { attribute, type in H5Awrite(attribute, type, padded) }
    }

    /// Finishes the file and renames it to `url` (atomically, flushed to disk). Later calls do nothing.
    public func close() throws {
        guard file >= 0 else { return }
        errno = 0
        let closed = H5Fclose(file) >= 0
        file = -1  // closed, or left half-open by HDF5: not closed again (which crashes it)
        guard closed else { throw failure("cannot be finished (HDF5 could not close it)") }
        done = true  // commit removes the temporary where it fails
        try commit(temporary: temporary, to: url)
    }

    /// Creates the groups on the way to `path` that do not exist yet, recording no times.
    private func createGroups(above path: String) throws {
        let parts = path.split(separator: "/").dropLast()
        var prefix = ""
        for part in parts {
            prefix += "/" + part
            guard H5Lexists(file, prefix, compseg_h5p_default()) <= 0 else { continue }
            let gcpl = compseg_h5p_group_without_times()
            defer { if gcpl >= 0 { H5Pclose(gcpl) } }
            let group = H5Gcreate2(file, prefix, compseg_h5p_default(), gcpl, compseg_h5p_default())
            guard group >= 0 else { throw error("group '\(prefix)' cannot be created") }
            H5Gclose(group)
        }
    }

    private func withNewAttribute(_ name: String, on path: String, type: hid_t, _ write: (hid_t, hid_t) -> herr_t) throws {
        hdf5Quiet()
        guard file >= 0 else { throw error("is already closed") }
        let space = compseg_h5s_scalar_create()
        defer { H5Sclose(space) }
        let attribute = H5Acreate_by_name(file, path, name, type, space, compseg_h5p_default(), compseg_h5p_default(), compseg_h5p_default())
        guard attribute >= 0 else { throw error("attribute '\(name)' cannot be created on '\(path)' (does the object exist?)") }
        defer { H5Aclose(attribute) }
        guard write(attribute, type) >= 0 else { throw error("attribute '\(name)' on '\(path)' cannot be written") }
    }

    /// `shape` with its largest dimension halved until a chunk holds at most 64 Ki elements.
    static func defaultChunks(_ shape: [Int]) -> [Int] {
        var chunk = shape.map { max($0, 1) }
        while chunk.reduce(1, *) > 65_536, let i = chunk.indices.max(by: { chunk[$0] < chunk[$1] }) {
            chunk[i] = (chunk[i] + 1) / 2
        }
        return chunk
    }
}

/// Whether a file's HDF5 lock can be taken: `free` (locks work, and no writer holds it), `held`
/// (a writer holds it), `unsupported` (its file system has no locks: `flock` fails otherwise).
enum FileLockState { case free, held, unsupported }

func fileLockState(_ url: URL) -> FileLockState {
    let descriptor = open(url.path, O_RDONLY)
    guard descriptor >= 0 else { return .free }
    defer { close(descriptor) }  // closing releases a lock taken here
    if flock(descriptor, LOCK_SH | LOCK_NB) == 0 { return .free }
    return errno == EWOULDBLOCK ? .held : .unsupported
}

/// `body`'s result given a file-access list with HDF5's file locking off.
func withoutFileLocking(_ body: (hid_t) -> hid_t) -> hid_t {
    let list = compseg_fapl_without_locking()
    defer { if list != compseg_h5p_default() { H5Pclose(list) } }
    return body(list)
}
