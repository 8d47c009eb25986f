/// Clean-up of tissue masks. Foreground (true) pixels connect to their 8 neighbours, background
/// (false) pixels to their 4 edge neighbours — dual connectivities, so a diagonal chain of tissue
/// pixels is one region and closes off the background it encloses. Both run in O(H·W) time,
/// without recursion.
extension Mask {
    /// The mask with every 8-connected foreground component of fewer than `pixels` pixels set to
    /// background (nothing changes for `pixels` ≤ 1).
    public func removingSpecks(smallerThan pixels: Int) -> Mask {
        var out = self
        guard pixels > 1 else { return out }
        forEachComponent(of: true, eightConnected: true) { members, _ in
            if members.count < pixels { for p in members { out.pixels[p] = false } }
        }
        return out
    }

    /// The mask with every 4-connected background component that does not touch the image border
    /// and has fewer than `pixels` pixels set to foreground (nothing changes for `pixels` ≤ 1).
    public func fillingHoles(smallerThan pixels: Int) -> Mask {
        var out = self
        guard pixels > 1 else { return out }
        forEachComponent(of: false, eightConnected: false) { members, touchesBorder in
            if !touchesBorder, members.count < pixels { for p in members { out.pixels[p] = true } }
        }
        return out
    }

    /// Calls `body` once per connected component of the pixels equal to `value`, with the
    /// component's pixel indices (row-major) and whether any of them lies on the image border.
    /// An explicit stack, not recursion, so a component may span the whole image.
    private func forEachComponent(of value: Bool, eightConnected: Bool, _ body: ([Int], Bool) -> Void) {
        let (h, w) = (height, width)
        var seen = [Bool](repeating: false, count: pixels.count)
        var stack: [Int] = [], members: [Int] = []
        for start in pixels.indices where pixels[start] == value && !seen[start] {
            seen[start] = true
            stack.append(start)
            members.removeAll(keepingCapacity: true)
            var touchesBorder = false
            while let p = stack.popLast() {
                members.append(p)
                let (r, c) = (p / w, p % w)
                if r == 0 || r == h - 1 || c == 0 || c == w - 1 { touchesBorder = true }
                for dr in -1...1 {
                    for dc in -1...1 where (dr != 0 || dc != 0) && (eightConnected || dr == 0 || dc == 0) {
                        let (nr, nc) = (r + dr, c + dc)
                        guard nr >= 0, nr < h, nc >= 0, nc < w else { continue }
                        let q = nr * w + nc
                        if pixels[q] == value && !seen[q] { seen[q] = true; stack.append(q) }
                    }
                }
            }
            body(members, touchesBorder)
        }
    }
}
