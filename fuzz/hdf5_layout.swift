// Fuzz target: reading spectral images from HDF5 files as the infrared and Raman modalities do
// (Plugins/Modalities/SpectralFiles: HDF5Cube.swift's dataset-shape and layout checks, Layout.swift,
// the flat layout's height/width from datasets or attributes, masks, non-finite values, the tissue
// mask and preview; Sources/CompSegIO/HDF5.swift underneath). libhdf5's own file parsing is not
// ours and is not fuzzed: the input describes a small HDF5 file, which the harness writes with
// libhdf5 and then reads through SpectralFileReader.sample as the tool does.
//
// Input (read in order; missing bytes are 0):
// - options byte: layout (bits 0-1: hwb, bhw, flat, matlab), mask key (bits 2-3: "/mask", none,
//   "mask", "/missing"), nonFinite (bit 4: error, zero), slab size (bits 5-7: 1, 2, 3, 7, 16, 64,
//   1024 or 4194304 values per hyperslab);
// - size byte: where flat's height and width are (bits 0-1: datasets /h and /w, attributes on
//   "/", attributes on the spectra dataset, not given); bit 2: give them for other layouts too;
// - five datasets in turn (/spectra, /wavenumbers, /mask, /h, /w), each a header byte — bit 0
//   present, bits 1-3 element type (float32, float64, uint8, int32, int64, uint16, bool enum,
//   fixed string), bit 4 "declared": a chunked dataset whose dimensions are 8-byte values and
//   whose data is never written (what a file that declares more than it holds looks like),
//   bits 5-7 rank (0 scalar … 4, capped at 4) — then one byte per dimension (8 when declared);
//   when /h and /w are attributes instead, each is its header byte (type as above) and 8 bytes
//   of value;
// - the rest: the values of the written datasets (little-endian), one after the other, cycled as
//   needed; then, for attributes, /h's and /w's header byte and 8 value bytes.
// A written dataset holds at most 65536 elements (larger ones become declared).
// The reader's maximumValues is 2^20 here, so declared sizes are refused (as they are at the
// default 2^31) without the harness spending its memory limit on legitimate large reads.
import CHDF5
import CompSegCore
import Foundation

private struct Reader {
    var bytes: ArraySlice<UInt8>
    mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func u64() -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(byte()) << (8 * UInt64($1)) } }
}

/// One dataset to write: element type code, dimensions, whether only declared.
private struct DatasetPlan { var type: Int, dims: [UInt64], declared: Bool }

private func plan(_ r: inout Reader) -> DatasetPlan? {
    let header = r.byte()
    guard header & 1 == 1 else { return nil }
    let declared = header & 16 != 0
    let rank = min(4, Int(header >> 5))
    let dims = (0..<rank).map { _ in declared ? r.u64() % (1 << 62) : UInt64(r.byte()) }
    var plan = DatasetPlan(type: Int(header >> 1) & 7, dims: dims, declared: declared)
    if !declared {
        let count = dims.reduce(1, *)  // ≤ 255⁴: no overflow
        if count > 65_536 { plan.declared = true }
    }
    return plan
}

private func hdf5Type(_ code: Int) -> hid_t {
    switch code {
    case 0: return compseg_h5t_native_float()
    case 1: return compseg_h5t_native_double()
    case 2: return compseg_h5t_native_uint8()
    case 3: return compseg_h5t_native_int32()
    case 4: return compseg_h5t_native_int64()
    case 5: return H5Tcopy(compseg_h5t_native_uint8())  // replaced below by uint16 size
    case 6:  // h5py's bool: an enum over int8
        let t = H5Tenum_create(compseg_h5t_native_uint8())
        var f: UInt8 = 0, tr: UInt8 = 1
        H5Tenum_insert(t, "FALSE", &f); H5Tenum_insert(t, "TRUE", &tr)
        return t
    default:
        let t = H5Tcopy(compseg_h5t_c_s1()); H5Tset_size(t, 4); return t
    }
}

private func elementSize(_ code: Int) -> Int { [4, 8, 1, 4, 8, 2, 1, 4][code] }

/// Writes `plan` as dataset `path` of `file`, its values from `values` (cycled).
private func write(_ plan: DatasetPlan, _ path: String, in file: hid_t, cursor: inout Int, pool: [UInt8]) {
    var type = hdf5Type(plan.type)
    var ownsType = plan.type >= 5
    if plan.type == 5 { H5Tclose(type); type = H5Tcopy(compseg_h5t_native_int32()); H5Tset_size(type, 2); H5Tset_sign(type, H5T_SGN_NONE); ownsType = true }
    defer { if ownsType { H5Tclose(type) } }
    let space = plan.dims.isEmpty ? compseg_h5s_scalar_create() : H5Screate_simple(Int32(plan.dims.count), plan.dims, nil)
    guard space >= 0 else { return }
    defer { H5Sclose(space) }
    let dcpl = H5Pcreate(compseg_h5p_dataset_create())
    defer { H5Pclose(dcpl) }
    if plan.declared, !plan.dims.isEmpty {
        let chunk = plan.dims.map { max(1, min($0, 16)) }
        guard H5Pset_chunk(dcpl, Int32(chunk.count), chunk) >= 0 else { return }
    }
    let dataset = H5Dcreate2(file, path, type, space, compseg_h5p_default(), dcpl, compseg_h5p_default())
    guard dataset >= 0 else { return }
    defer { H5Dclose(dataset) }
    guard !plan.declared else { return }
    let count = Int(plan.dims.reduce(1, *))
    let size = elementSize(plan.type)
    var buffer = [UInt8](repeating: 0, count: count * size)
    if !pool.isEmpty { for i in buffer.indices { buffer[i] = pool[(cursor + i) % pool.count] } }
    cursor += buffer.count
    if plan.type == 6 { for i in buffer.indices { buffer[i] &= 1 } }
    H5Dwrite(dataset, type, compseg_h5s_all(), compseg_h5s_all(), compseg_h5p_default(), buffer)
}

/// Writes an attribute `name` on `object` from a header byte (type) and 8 bytes (value).
private func attribute(_ name: String, on object: hid_t, _ r: inout Reader) {
    let code = Int(r.byte() >> 1) & 7
    var value = r.u64()
    let type = code == 1 ? compseg_h5t_native_double() : code == 7 ? compseg_h5t_c_s1() : compseg_h5t_native_int64()
    let space = compseg_h5s_scalar_create()
    defer { H5Sclose(space) }
    let a = H5Acreate2(object, name, type, space, compseg_h5p_default(), compseg_h5p_default())
    guard a >= 0 else { return }
    defer { H5Aclose(a) }
    H5Awrite(a, type, &value)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var r = Reader(bytes: input(data, size)[...])
    let o = r.byte(), s = r.byte()
    var options = SpectralFileOptions()
    options.layout = [SpectralLayout.hwb, .bhw, .flat, .matlab][Int(o & 3)]
    options.mask = ["/mask", nil, "mask", "/missing"][Int(o >> 2 & 3)]
    options.nonFinite = o & 16 == 0 ? .error : .zero
    options.slabValues = [1, 2, 3, 7, 16, 64, 1024, 1 << 22][Int(o >> 5)]
    options.maximumValues = 1 << 20
    let sizeMode = Int(s & 3)
    if options.layout == .flat || s & 4 != 0, sizeMode < 3 {
        (options.height, options.width) = sizeMode == 0 ? ("/h", "/w") : ("h", "w")
    }
    let names = ["/spectra", "/wavenumbers", "/mask"] + (sizeMode == 0 ? ["/h", "/w"] : [])
    let plans = names.map { _ in plan(&r) }

    Scratch.reset()
    let url = Scratch.folder.appendingPathComponent("cube.h5")
    _ = H5open()
    compseg_h5_silence_errors()
    let file = H5Fcreate(url.path, compseg_h5f_acc_trunc(), compseg_h5p_default(), compseg_h5p_default())
    guard file >= 0 else { return 0 }
    let pool = Array(r.bytes)
    var cursor = 0
    for (name, p) in zip(names, plans) { if let p { write(p, name, in: file, cursor: &cursor, pool: pool) } }
    if sizeMode == 1 || sizeMode == 2 {
        let owner = sizeMode == 1 ? H5Gopen2(file, "/", compseg_h5p_default()) : H5Dopen2(file, "/spectra", compseg_h5p_default())
        if owner >= 0 {
            var a = Reader(bytes: pool[min(cursor, pool.count)...])
            attribute("h", on: owner, &a); attribute("w", on: owner, &a)
            if sizeMode == 1 { H5Gclose(owner) } else { H5Dclose(owner) }
        }
    }
    H5Fclose(file)

    expectCleanError {
        let reader = SpectralFileReader(options)
        _ = try reader.sample(url, label: nil, axisUnit: "cm⁻¹")
    }
    return 0
}
