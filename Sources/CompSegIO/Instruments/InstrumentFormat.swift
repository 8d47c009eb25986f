import Foundation

/// The file formats spectral images arrive in, told apart by extension and, where that is ambiguous,
/// by content and by the files beside.
public enum InstrumentFormat: Sendable, Equatable {
    case hdf5, envi, agilentTile, agilentMosaic, wire, spc, fsm, numpy, textMap

    /// The format of `url`:
    /// - HDF5 by its signature (`\x89HDF\r\n\x1a\n`) or extension (`.h5`, `.hdf5`, `.hdf`, `.he5`, `.nxs`,
    ///   and `.mat`, which MATLAB v7.3 writes as HDF5);
    /// - WiRE by its `WDF1` signature or `.wdf`;
    /// - a Galactic SPC map by `.spc`;
    /// - a PerkinElmer Spotlight image by its `PEPE` signature or `.fsm`;
    /// - a NumPy array by its `\x93NUMPY` signature or `.npy`;
    /// - ENVI for a `.hdr` or a file starting `ENVI`, or a data file with a `.hdr` beside it (not a
    ///   `.png`, `.tif` or `.tiff` that is one: an image beside a header of its stem is that image);
    /// - an Agilent tile for a `.bsp`, or a `.dat`/`.seq` with a `.bsp` beside it (preferred to a `.hdr`:
    ///   Resolutions Pro writes both), a mosaic for a `.dmt` or `.dmd`;
    /// - a text map for `.txt`, `.csv`, `.tsv`, `.xyz`, or any other file that is text.
    /// - Throws: `IOError` when the file does not exist or is none of these.
    public static func detect(_ url: URL) throws -> InstrumentFormat {
        try requireExistingFile(url)
        let head = (try? BoundedFile(url)).flatMap { file in try? file.bytes(at: 0, count: min(512, file.length), "signature").raw } ?? []
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if head.starts(with: Array("WDF1".utf8)) { return .wire }
        if head.starts(with: Array("PEPE".utf8)) { return .fsm }
        if head.starts(with: NumPyHeader.magic) { return .numpy }
        if head.starts(with: Array("ENVI".utf8)) { return .envi }  // a header, whatever its name
        let folder = url.deletingLastPathComponent()
        let (stem, ext) = stemAndExtension(url)
        switch ext {
        case "h5", "hdf5", "hdf", "he5", "nxs", "mat": return .hdf5  // .mat: MATLAB v7.3 (a 512-byte user block first)
        case "wdf": return .wire
        case "spc": return .spc
        case "fsm": return .fsm
        case "npy": return .numpy
        case "hdr": return .envi
        case "bsp": return .agilentTile
        case "dmt", "dmd": return .agilentMosaic
        case "txt", "csv", "tsv", "xyz": return .textMap
        default: break
        }
        // A TIFF or PNG named so is an image of its own, even beside an ENVI header of its stem (whose
        // data is another file); raw ENVI data may begin with the same bytes.
        let raster = FileSignature.isTIFF(head) ? "a TIFF" : head.starts(with: FileSignature.png) ? "a PNG" : nil
        if raster == nil || !["png", "tif", "tiff"].contains(ext) {
            if ["dat", "seq"].contains(ext), sibling("\(stem).bsp", in: folder) != nil { return .agilentTile }
            if sibling("\(url.lastPathComponent).hdr", in: folder) != nil || sibling("\(stem).hdr", in: folder) != nil { return .envi }
            if ["dat", "seq"].contains(ext) {
                throw IOError(file: url.path, "neither an ENVI header (\(stem).hdr) nor an Agilent header (\(stem).bsp) is beside it")
            }
            if !head.isEmpty, !head.contains(0) { return .textMap }
        }
        throw IOError(file: url.path, (raster.map { "is \($0) image, " } ?? "is ")
                      + "not a spectral image this program reads (HDF5, ENVI, Agilent FPA, Renishaw WiRE, Galactic SPC, PerkinElmer FSM, NumPy .npy or a text map)"
                      + (raster == nil ? "" : "; RGB (H&E) images are read by the he modality (--modality he where a command takes it; a trained "
                                              + "run reads the files it was trained on)"))
    }

    /// The files an image in `url` is read from: `url`, and the other file of an ENVI pair, an
    /// Agilent tile's `.dat` and `.bsp`, or a mosaic's `.dmt` and tiles; `[url]` for the other
    /// formats and for what `detect` does not take.
    public static func files(_ url: URL) -> [URL] {
        switch try? detect(url) {
        case .envi?: return [url] + [enviCompanion(of: url)].compactMap { $0 }
        case .agilentTile?, .agilentMosaic?: return (try? SpectralCube.agilentFiles(url)) ?? [url]
        default: return [url]
        }
    }

    /// Reads `url` in the format `detect` finds, for every format but HDF5 (which the caller reads).
    /// - Throws: `IOError` from `detect` or the format's reader; for HDF5, one saying so.
    public static func read(_ url: URL) throws -> SpectralCube {
        switch try detect(url) {
        case .hdf5: throw IOError(file: url.path, "is an HDF5 file: read it with the HDF5 reader")
        case .envi: try SpectralCube.readENVI(url)
        case .agilentTile: try SpectralCube.readAgilentTile(url)
        case .agilentMosaic: try SpectralCube.readAgilentMosaic(url)
        case .wire: try SpectralCube.readWiRE(url)
        case .spc: try SpectralCube.readSPC(url)
        case .fsm: try SpectralCube.readFSM(url)
        case .numpy: try SpectralCube.readNumPy(url)
        case .textMap: try SpectralCube.readTextMap(url)
        }
    }
}
