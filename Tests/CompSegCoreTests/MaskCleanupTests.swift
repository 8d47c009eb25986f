import Testing
import CompSegCore

@Suite struct MaskCleanupTests {
    /// A mask from rows of `#` (foreground) and `.` (background).
    static func mask(_ rows: [String]) -> Mask {
        Mask(height: rows.count, width: rows[0].count, pixels: rows.flatMap { $0.map { $0 == "#" } })
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

    /// One component spanning a 2000×2000 image: no recursion to overflow the stack.
    @Test func handlesLargeImages() {
        let n = 2000
        var pixels = [Bool](repeating: true, count: n * n)
        pixels[n * (n / 2) + n / 2] = false  // one enclosed hole
        pixels[0] = false                     // one corner pixel of background
        let m = Mask(height: n, width: n, pixels: pixels)
        let filled = m.fillingHoles(smallerThan: 2)
        #expect(filled.count == n * n - 1 && !filled.pixels[0])
        #expect(m.removingSpecks(smallerThan: n * n).count == 0)
        #expect(m.removingSpecks(smallerThan: n * n - 2) == m)
    }
}
