import Testing
import CompSegCore

@Suite struct MaskCleanupTests {
    /// A mask from rows of `#` (foreground) and `.` (background).
    static func mask(_ rows: [String]) -> Mask {
        try! Mask(height: rows.count, width: rows[0].count, pixels: rows.flatMap { $0.map { $0 == "#" } })
    }

    @Test func removesSpecksAndKeepsLargeComponents() {
        let m = Self.mask(["#.....",
                           "......",
                           "..###.",
                           "..###.",
                           "......",
                           "....#."])
        #expect(m.removingSpecks(smallerThan: 2) == Self.mask(["......",
                                                               "......",
                                                               "..###.",
                                                               "..###.",
                                                               "......",
                                                               "......"]))
        // A component of exactly the threshold's size stays; one pixel more removes it.
        #expect(m.removingSpecks(smallerThan: 6).count == 6)
        #expect(m.removingSpecks(smallerThan: 7).count == 0)
        #expect(m.removingSpecks(smallerThan: 1) == m)
        #expect(m.removingSpecks(smallerThan: 0) == m)
    }

    /// Foreground is 8-connected: a diagonal pair is one component of two pixels.
    @Test func foregroundConnectsDiagonally() {
        let m = Self.mask(["#..",
                           ".#.",
                           "..."])
        #expect(m.removingSpecks(smallerThan: 2) == m)
        #expect(m.removingSpecks(smallerThan: 3) == Mask(height: 3, width: 3, filled: false))
    }

    @Test func fillsEnclosedHolesBelowTheSize() {
        let m = Self.mask(["######",
                           "#...##",
                           "######",
                           "#.####",
                           "######"])
        // Holes of 3 and 1 pixels: a hole of exactly the threshold's size stays.
        #expect(m.fillingHoles(smallerThan: 2) == Self.mask(["######",
                                                             "#...##",
                                                             "######",
                                                             "######",
                                                             "######"]))
        #expect(m.fillingHoles(smallerThan: 3) == m.fillingHoles(smallerThan: 2))
        #expect(m.fillingHoles(smallerThan: 4) == Mask(height: 5, width: 6, filled: true))
        #expect(m.fillingHoles(smallerThan: 1) == m)
    }

    /// Background touching the border is never a hole, however small; background is
    /// 4-connected, so a pixel meeting the outside only at a corner is enclosed.
    @Test func keepsBorderBackgroundAndConnectsBackgroundByEdges() {
        let m = Self.mask([".####",
                           "#.###",
                           "##.##",
                           "####."])
        #expect(m.fillingHoles(smallerThan: 100) == Self.mask([".####",
                                                               "#####",
                                                               "#####",
                                                               "####."]))
        let whole = Mask(height: 3, width: 4, filled: false)
        #expect(whole.fillingHoles(smallerThan: 100) == whole)
    }

    /// Closing joins gaps up to 2·radius wide and never takes tissue away, at the border too; a
    /// strip of slide between tissue and the border stays slide, however narrow.
    @Test func closingJoinsGapsAndLeavesSlideAtTheBorder() throws {
        let m = Self.mask(["##.##..",
                           "##.##..",
                           "##.##.#",
                           "#######"])
        #expect(m.closing(radius: 1) == Self.mask(["#####..",
                                                   "#####..",
                                                   "#######",
                                                   "#######"]))
        #expect(m.closing(radius: 0) == m)
        for radius in 1...4 {
            let closed = m.closing(radius: radius)
            #expect(zip(m.pixels, closed.pixels).allSatisfy { !$0 || $1 }, "radius \(radius) took tissue away")
        }
        // Tissue up to one column short of the right border: the column stays slide at every radius.
        for gap in 1...3 {
            let strip = try Mask(height: 12, width: 12, pixels: (0..<144).map { $0 % 12 < 12 - gap && $0 / 12 >= 2 })
            for radius in 1...4 {
                #expect(strip.closing(radius: radius) == strip, "gap \(gap), radius \(radius)")
            }
        }
    }

    /// One component spanning a 2000×2000 image: no recursion to overflow the stack.
    @Test func handlesLargeImages() throws {
        let n = 2000
        var pixels = [Bool](repeating: true, count: n * n)
        pixels[n * (n / 2) + n / 2] = false  // one enclosed hole
        pixels[0] = false                     // one corner pixel of background
        let m = try Mask(height: n, width: n, pixels: pixels)
        let filled = m.fillingHoles(smallerThan: 2)
        #expect(filled.count == n * n - 1 && !filled.pixels[0])
        #expect(m.removingSpecks(smallerThan: n * n).count == 0)
        #expect(m.removingSpecks(smallerThan: n * n - 2) == m)
    }
}
