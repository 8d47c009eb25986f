import Foundation
import Testing
import CompSegCore
import CompSegIO
import CompSegTraining

@Suite struct ManifestTests {
    func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compseg-manifest-\(UUID())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("spots"), withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    @Test func readsRowsWithRelativePathsAndOptionalColumns() throws {
        let dir = try folder(["spots/a.h5": "", "spots/b.h5": "",
                              "m.csv": "path,label,split,truth\nspots/a.h5,1,train,\n\"spots/b.h5\",cancer-free,VAL,spots/b_truth.png\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pngSignature.write(to: dir.appendingPathComponent("spots/b_truth.png"))
        let m = try Manifest(contentsOf: dir.appendingPathComponent("m.csv"))
        #expect(m.rows.count == 2)
        #expect(m.rows[0].label == .cancer && m.rows[0].split == .train && m.rows[0].truth == nil)
        #expect(m.rows[1].path.lastPathComponent == "b.h5" && m.rows[1].split == .val)
        #expect(m.rows[1].truth?.lastPathComponent == "b_truth.png")
        #expect(m.rows(in: .val).count == 1)
    }

    /// The patient column: a patient's rows in several splits are found, each split with its lines; a blank cell names none.
    @Test func patientsInSeveralSplitsAreFound() throws {
        let dir = try folder(["spots/a.h5": "", "spots/b.h5": "", "spots/c.h5": "", "spots/d.h5": "",
                              "m.csv": "path,label,split,patient\nspots/a.h5,1,test, P1 \nspots/b.h5,0,train,P1\nspots/c.h5,1,train,P2\nspots/d.h5,0,val,\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Manifest(contentsOf: dir.appendingPathComponent("m.csv"))
        #expect(m.rows.map(\.patient) == ["P1", "P1", "P2", nil])
        let shared = m.patientsInSeveralSplits
        #expect(shared.count == 1 && shared[0].patient == "P1")
        #expect(shared[0].splits.map(\.split) == [.train, .test] && shared[0].splits.map(\.lines) == [[3], [2]])
    }

    /// A reader of no samples whose files are those of the instrument formats (the spectral readers').
    struct InstrumentFiles: ImageSource {
        func load(_ url: URL, label: SampleLabel?) throws -> Sample { throw IOError(file: url.path, "not read here") }
        func files(of url: URL) -> [URL] { InstrumentFormat.files(url) }
    }

    /// The rows' digest follows names and sizes (data moved elsewhere keep it); their contents
    /// digest follows what the files hold, at the first and last bytes, within a mask file and
    /// every file the reader reads a sample from too: the data beside an ENVI header, an Agilent
    /// mosaic's tiles and an Agilent tile's axis file.
    @Test func rowsRecordTheirFilesContents() throws {
        let big = String(repeating: "spectra ", count: 12_000)  // 96 kB: sampled at nine places
        let dir = try folder(["spots/a.h5": big, "spots/b.h5": "small", "spots/e.hdr": "ENVI\nsamples = 2\n", "spots/e.img": "data",
                              "spots/m.dmt": "axis", "spots/m_0000_0000.dmd": "tile 0", "spots/m_0001_0000.dmd": "tile 1",
                              "spots/t.dat": "spectra", "spots/t.bsp": "axis",
                              "m.csv": "path,label,split,mask\nspots/a.h5,1,train,\nspots/b.h5,0,val,spots/b_mask.png\nspots/e.hdr,0,train,\n"
                                + "spots/m.dmt,1,val,\nspots/t.dat,0,train,\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try (Self.pngSignature + Data("mask".utf8)).write(to: dir.appendingPathComponent("spots/b_mask.png"))
        let manifest = dir.appendingPathComponent("m.csv")
        let before = ManifestRows(try Manifest(contentsOf: manifest), readingContentsWith: InstrumentFiles())
        let unread = ManifestRows(try Manifest(contentsOf: manifest), readingContentsWith: nil)
        #expect(before.contents != nil && unread.contents == nil && unread.sameRows(as: before))
        let moved = dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + "-moved")
        try FileManager.default.copyItem(at: dir, to: moved)
        defer { try? FileManager.default.removeItem(at: moved) }
        #expect(ManifestRows(try Manifest(contentsOf: moved.appendingPathComponent("m.csv")), readingContentsWith: InstrumentFiles()) == before)
        for (file, contents) in [("spots/a.h5", Data(("S" + big.dropFirst()).utf8)), ("spots/a.h5", Data((big.dropLast() + "S").utf8)),
                                 ("spots/b.h5", Data("smell".utf8)), ("spots/b_mask.png", Self.pngSignature + Data("MASK".utf8)),
                                 ("spots/e.img", Data("DATA".utf8)), ("spots/m_0001_0000.dmd", Data("tile 2".utf8)),
                                 ("spots/t.bsp", Data("AXIS".utf8))] {
            let url = moved.appendingPathComponent(file), original = try Data(contentsOf: url)
            try contents.write(to: url)
            let now = ManifestRows(try Manifest(contentsOf: moved.appendingPathComponent("m.csv")), readingContentsWith: InstrumentFiles())
            #expect(now.sameRows(as: before) && !now.sameContents(as: before), "\(file) written over")
            // The file that changed is named: the row's own, or one read with it.
            let named = now.changes(since: before, in: try Manifest(contentsOf: moved.appendingPathComponent("m.csv")))
            let said = file.hasSuffix(".h5") ? "other contents of the same size" : "\(url.lastPathComponent), read with it, holds other contents"
            #expect(named.count == 1 && named[0].hasSuffix(said), "\(file): \(named)")
            try original.write(to: url)
        }
        // A file renamed (its row too) is named as the run's file under its new name.
        try FileManager.default.moveItem(at: moved.appendingPathComponent("spots/a.h5"), to: moved.appendingPathComponent("spots/TMA1_a.h5"))
        let renamed = moved.appendingPathComponent("m.csv")
        try Data(try String(contentsOf: renamed, encoding: .utf8).replacingOccurrences(of: "spots/a.h5", with: "spots/TMA1_a.h5").utf8).write(to: renamed)
        let named = ManifestRows(try Manifest(contentsOf: renamed), readingContentsWith: InstrumentFiles())
            .changes(since: before, in: try Manifest(contentsOf: renamed))
        #expect(named == ["line 2 (TMA1_a.h5): the run's a.h5, renamed (the same size and contents)"], "\(named)")
        // A run that recorded its contents over other files (before contentsFiles) resumes without the check.
        var older = try JSONDecoder().decode(ManifestRows.self, from: JSONEncoder().encode(before))
        (older.contents, older.contentsFiles) = ("5eed", nil)
        #expect(before.contentsFiles == ManifestRows.currentContentsFiles && older.sameContents(as: before) && before.sameContents(as: older))
    }

    /// A name written composed (é) finds the file stored decomposed (e + ◌́, as macOS stores names), and the reverse.
    @Test func accentedNamesMatchEitherNormalForm() throws {
        let (composed, decomposed) = ("caf\u{E9}", "cafe\u{301}")
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let dir = try folder(["spots/\(decomposed)-a.h5": "", "spots/\(composed)-b.h5": "",
                              "m.csv": "path,label,split\nspots/\(composed)-a.h5,1,train\nspots/\(decomposed)-b.h5,0,val\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Manifest(contentsOf: dir.appendingPathComponent("m.csv"))
        #expect(m.rows.map { Array($0.path.lastPathComponent.utf8) } == [Array("\(decomposed)-a.h5".utf8), Array("\(composed)-b.h5".utf8)])
        // Blanks around a cell are dropped, unless the file's name has them.
        try Data().write(to: dir.appendingPathComponent(" c.h5"))
        try Data("path,label,split\n\" c.h5\",1,train\n spots/a.h5 ,0,val\n".utf8).write(to: dir.appendingPathComponent("b.csv"))
        try Data().write(to: dir.appendingPathComponent("spots/a.h5"))
        let blanks = try Manifest(contentsOf: dir.appendingPathComponent("b.csv"))
        #expect(blanks.rows.map(\.path.lastPathComponent) == [" c.h5", "a.h5"])
    }

    /// A folder, a run folder or a model.json given for a manifest is named as what it is; many problems alike are cut short.
    @Test func whatIsNoManifestIsNamed() throws {
        let dir = try folder(["spots/a.h5": ""])
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in [("data/manifest.csv", "path,label,split\n"), ("run/model.json", "{\"format\": 5}")] {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let message = { (name: String) in
            do { _ = try Manifest(contentsOf: dir.appendingPathComponent(name)); return "no error" } catch { return "\(error)" }
        }
        #expect(message("data").hasSuffix("it holds manifest.csv: give \(dir.appendingPathComponent("data/manifest.csv").path)"))
        #expect(message("run").hasSuffix("it is a run folder (model.json), which --model takes"))
        #expect(message("run/model.json").hasSuffix("is JSON (a run's model.json?), not a manifest: CSV text with a header line path,label,split"))
        try Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]).write(to: dir.appendingPathComponent("spots/b.h5"))
        #expect(message("spots/b.h5").hasSuffix("is an HDF5 file, not a manifest: CSV text with a header line path,label,split, whose path column names the images"))
        let rows = (0..<30).map { "gone\($0).h5,1,train" }.joined(separator: "\n")
        try Data("path,label,split\n\(rows)\n".utf8).write(to: dir.appendingPathComponent("many.csv"))
        let many = message("many.csv")
        #expect(many.contains("30 problems:") && many.contains("line 21: image file gone19.h5") && !many.contains("gone20.h5")
                    && many.hasSuffix("… and 10 more problems"), "\(many)")
    }

    /// A Windows path's backslashes are part of the name here: the row says so.
    @Test func aBackslashPathIsNamedAsSuch() throws {
        let dir = try folder(["spots/a.h5": "", "m.csv": "path,label,split\nspots\\a.h5,1,train\nspots/b.h5,0,train\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Manifest(contentsOf: dir.appendingPathComponent("m.csv")) } throws: { error in
            let problems = (error as? ManifestError)?.problems ?? []
            return problems == ["line 2: image file spots\\a.h5 not found (a backslash does not separate folders here: write / instead)",
                                "line 3: image file spots/b.h5 not found"]
        }
    }

    /// A manifest saved as Latin-1 names a file whose accented letter could not be read: said so.
    @Test func aManifestNotInUTF8IsNamedAsSuch() throws {
        let dir = try folder(["spots/spét.h5": ""])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("path,label,split\nspots/sp".utf8 + [0xE9] + Data("t.h5,1,train\n".utf8)).write(to: dir.appendingPathComponent("m.csv"))
        #expect { try Manifest(contentsOf: dir.appendingPathComponent("m.csv")) } throws: { error in
            (error as? ManifestError)?.problems == ["line 2: image file spots/sp\u{FFFD}t.h5 not found (the manifest is not UTF-8 text, so the "
                                                    + "name's letters shown as \u{FFFD} could not be read: save the manifest as UTF-8)"]
        }
    }

    /// What three rows or more say alike of their samples (a step every sample meets) is said once,
    /// naming the lines and samples; other problems are listed as they are.
    @Test func problemsSaidAlikeOfManySamplesAreSaidOnce() {
        let alike = (2...8).map { "line \($0): sample s\($0): step 'normalize' needs spectral channels" }
        let error = ManifestError(file: "m.csv", problems: ["line 1: missing column label"] + alike + ["line 9: sample s9: other"])
        #expect(error.description == """
            m.csv: 3 problems:
              line 1: missing column label
              lines 2, 3, 4, 5, 6, … (7 samples: s2, s3, s4, s5, s6, …): step 'normalize' needs spectral channels
              line 9: sample s9: other
            """)
        #expect(ManifestError(file: "m.csv", problems: Array(alike.prefix(2))).description.hasSuffix("line 3: sample s3: step 'normalize' needs spectral channels"))
    }

    @Test func listsEveryBadRow() throws {
        let dir = try folder(["spots/a.h5": "",
                              "m.csv": "path,label,split\nspots/a.h5,maybe,train\nspots/missing.h5,0,test\nspots/a.h5,1,holdout\nspots/a.h5,1\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("m.csv")
        do {
            _ = try Manifest(contentsOf: file)
            Issue.record("expected an error")
        } catch let error as ManifestError {
            #expect(error.problems == [
                "line 2: label 'maybe'; expected 1, cancer, 0 or cancer-free",
                "line 3: image file spots/missing.h5 not found (looked for \(dir.appendingPathComponent("spots/missing.h5").path): a path "
                    + "not starting with / is relative to the folder holding the manifest)",
                "line 4: split 'holdout'; expected train, val or test",
                "line 5: 2 fields, the header has 3",
            ])
            #expect(error.description.hasPrefix("\(file.path): 4 problems:"))
        }
        // What joining and autocorrection leave: a second header, an en dash for the hyphen.
        let joined = try folder(["spots/a.h5": "", "m.csv": "path,label,split\nspots/a.h5,1,train\n\u{FEFF}path,label,split\n"
                                    + "spots/a.h5,cancer\u{2013}free,train\n"])
        defer { try? FileManager.default.removeItem(at: joined) }
        do {
            _ = try Manifest(contentsOf: joined.appendingPathComponent("m.csv"))
            Issue.record("expected an error")
        } catch let error as ManifestError {
            #expect(error.problems == [
                "line 3: repeats the header (two manifests joined into one?); remove it",
                "line 4: label 'cancer\u{2013}free'; expected 1, cancer, 0 or cancer-free (its '\u{2013}' is U+2013, not a hyphen: an "
                    + "editor's autocorrection; write cancer-free with a plain -)",
            ], "\(error.problems)")
        }
    }

    static let pngSignature = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

    /// A mask or truth that is not a PNG is named with the missing files, in one round.
    @Test func masksAndTruthsThatAreNotPNGsAreNamedWithTheMissingFiles() throws {
        let dir = try folder(["spots/a.h5": "", "spots/a.tif": "II*\u{0}rest", "spots/b.txt": "tumor here",
                              "m.csv": "path,label,split,mask,truth\nspots/a.h5,1,train,,spots/gone.png\n"
                                + "spots/a.h5,1,val,spots/a.tif,spots/b.txt\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Manifest(contentsOf: dir.appendingPathComponent("m.csv"))
            Issue.record("expected an error")
        } catch let error as ManifestError {
            #expect(error.problems == [
                "line 2: truth file spots/gone.png not found (looked for \(dir.path)/spots/gone.png: a path not starting with / is "
                    + "relative to the folder holding the manifest)",
                "line 3: mask \(dir.path)/spots/a.tif: is a TIFF file, not a PNG",
                "line 3: truth \(dir.path)/spots/b.txt: is not a PNG file (no PNG signature)",
                "line 3: \(dir.path)/spots/a.h5 is listed already on line 2 (split train, here val)",
            ], "\(error)")
        }
    }

    /// One file under two names (a symbolic or hard link) in two splits leaks it into evaluation:
    /// named; two files whose names differ only in how an accent is stored are two files.
    @Test func aFileListedTwiceByALinkIsNamed() throws {
        let dir = try folder(["spots/a.h5": "a", "spots/b.h5": "b"])
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two names equal as Swift strings (canonically equivalent), two files on disk.
        for (name, text) in [("spots/caf\u{E9}.h5", "1"), ("spots/cafe\u{301}.h5", "2")] {
            #expect(FileManager.default.createFile(atPath: dir.path + "/" + name, contents: Data(text.utf8)))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/spots").count == 4)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/spots/sym.h5", withDestinationPath: "a.h5")
        try FileManager.default.linkItem(atPath: dir.path + "/spots/b.h5", toPath: dir.path + "/hard.h5")
        try Data(("path,label,split\nspots/a.h5,1,train\nspots/b.h5,0,train\nspots/caf\u{E9}.h5,1,train\nspots/cafe\u{301}.h5,0,train\n"
                  + "spots/sym.h5,1,test\nhard.h5,0,test\n").utf8).write(to: dir.appendingPathComponent("m.csv"))
        #expect { try Manifest(contentsOf: dir.appendingPathComponent("m.csv")) } throws: { error in
            (error as? ManifestError)?.problems == [
                "line 6: \(dir.path)/spots/sym.h5 is listed already on line 2 as \(dir.path)/spots/a.h5 (the same file by another name: a link) "
                    + "(split train, here test)",
                "line 7: \(dir.path)/hard.h5 is listed already on line 3 as \(dir.path)/spots/b.h5 (the same file by another name: a link) "
                    + "(split train, here test)"]
        }
    }

    /// A row repeated with another label says so, as one in another split does.
    @Test func aRowRepeatedWithAnotherLabelSaysSo() throws {
        let dir = try folder(["a.h5": "a", "m.csv": "path,label,split\na.h5,1,train\na.h5,0,train\na.h5,0,val\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try Manifest(contentsOf: dir.appendingPathComponent("m.csv")) } throws: { error in
            (error as? ManifestError)?.problems == [
                "line 3: \(dir.path)/a.h5 is listed already on line 2 (label cancer, here cancer-free)",
                "line 4: \(dir.path)/a.h5 is listed already on line 2 (split train, here val; label cancer, here cancer-free)"]
        }
    }

    /// An image path that is a symbolic link looping or leading nowhere is said to be one.
    @Test func brokenLinksAreNamed() throws {
        let dir = try folder(["m.csv": "path,label,split\nloop.h5,cancer,train\ngone.h5,cancer-free,train\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("loop.h5").path, withDestinationPath: "loop.h5")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("gone.h5").path, withDestinationPath: "nowhere.h5")
        do { _ = try Manifest(contentsOf: dir.appendingPathComponent("m.csv")); Issue.record("no error") } catch let e as ManifestError {
            #expect(e.problems == ["line 2: image file loop.h5 not found (it is a symbolic link that loops)",
                                   "line 3: image file gone.h5 not found (it is a symbolic link to nowhere.h5, which does not exist)"])
        }
    }

    @Test func headerProblems() throws {
        let dir = try folder(["m.csv": "file,label\nx,1\n", "n.csv": "path,label,split,Colour\n",
                              "s.yaml": "# Infrared (FTIR) settings\nreader: infrared\noptions: {format: auto}\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ManifestError.self) { try Manifest(contentsOf: dir.appendingPathComponent("m.csv")) }
        do { _ = try Manifest(contentsOf: dir.appendingPathComponent("n.csv")) } catch let e as ManifestError {
            #expect(e.problems == ["line 1: unknown column 'Colour'; known columns: path, label, split, mask, truth, patient"])
        }
        // A settings file given for the manifest is named as one.
        do { _ = try Manifest(contentsOf: dir.appendingPathComponent("s.yaml")); Issue.record("no error") } catch let e as ManifestError {
            #expect(e.problems == ["is a settings file (YAML: 'reader: infrared'), not a manifest: CSV text with a header line path,label,split"])
        }
        let twice = try folder(["t.csv": "path,label,split,label\n"])
        defer { try? FileManager.default.removeItem(at: twice) }
        do { _ = try Manifest(contentsOf: twice.appendingPathComponent("t.csv")) } catch let e as ManifestError {
            #expect(e.problems == ["line 1: column 'label' appears more than once; which one is meant cannot be told"])
        }
        do { _ = try Manifest(contentsOf: dir.appendingPathComponent("absent.csv")) } catch let e as ManifestError {
            #expect(e.problems == ["does not exist"])
        }
        // What spreadsheets write: other separators, an empty column between named ones (a trailing one is padding, taken in stride), UTF-16.
        let sheets = try folder(["semi.csv": "path;label;split\nx;1;train\n", "tab.csv": "path\tlabel\tsplit\n",
                                 "trailing.csv": "path,label,split,,\nx,1,train,,\n", "middle.csv": "path,,label,split\nx,,1,train\n", "nul.csv": "path,label,split\nspot\u{0}.h5,1,train\n"])
        defer { try? FileManager.default.removeItem(at: sheets) }
        let utf16 = sheets.appendingPathComponent("utf16.csv")
        try (Data([0xFF, 0xFE]) + "path,label,split\n".data(using: .utf16LittleEndian)!).write(to: utf16)
        for (name, problem) in [
            ("semi.csv", "line 1: the header 'path;label;split' is one column: its columns are separated by ';'; a manifest separates them by commas (path,label,split)"),
            ("tab.csv", "line 1: the header 'path\tlabel\tsplit' is one column: its columns are separated by tabs; a manifest separates them by commas (path,label,split)"),
            ("middle.csv", "line 1: a column without a name between named ones (a comma too many?); known columns: path, label, split, mask, truth, patient"),
            ("trailing.csv", "line 2: image file x not found (looked for \(sheets.appendingPathComponent("x").path): a path not starting with / is relative to the folder holding the manifest)"),
            ("utf16.csv", "is UTF-16 text (a spreadsheet's \"Unicode text\"); save it as CSV in UTF-8"),
            ("nul.csv", "line 2: holds a NUL byte (byte 21): the file is not text, or is damaged; a manifest is CSV text"),
        ] {
            do { _ = try Manifest(contentsOf: sheets.appendingPathComponent(name)); Issue.record("\(name) was read") } catch let e as ManifestError {
                #expect(e.problems.first == problem, "\(name): \(e.problems)")
            }
        }
    }
}
