import Foundation

extension SpectralNormalization {
    /// Every pixel of a band-major cube normalized at once: the per-pixel sums run band by band
    /// over contiguous planes (so the loops vectorize), in the same order and in Double as the
    /// per-spectrum forms, so both give the same Float values.
    public func apply(cube: UnsafeBufferPointer<Float>, pixels p: Int, wavenumbers: [Double],
                      into o: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        let b = wavenumbers.count
        guard b > 0, cube.count == b * p, o.count == b * p else {
            throw SpectralError("\(cube.count) values are not \(p) spectra of \(b) bands, or \(o.count) not as many")
        }
        func plane(_ k: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: cube[(k * p)..<((k + 1) * p)]) }
        var offset = [Double](repeating: 0, count: p), divisor = [Double](repeating: 0, count: p)
        switch method {
        case .vector:
            for k in 0..<b { let x = plane(k); for i in 0..<p { divisor[i] += Double(x[i]) * Double(x[i]) } }
            for i in 0..<p { divisor[i] = divisor[i].squareRoot() }
        case .snv:
            for k in 0..<b { let x = plane(k); for i in 0..<p { offset[i] += Double(x[i]) } }
            for i in 0..<p { offset[i] /= Double(b) }
            if b > 1 {
                for k in 0..<b { let x = plane(k); for i in 0..<p { let d = Double(x[i]) - offset[i]; divisor[i] += d * d } }
                for i in 0..<p { divisor[i] = (divisor[i] / Double(b - 1)).squareRoot() }
            }
        case .minmax:
            var highest = [Double](repeating: -.infinity, count: p)
            offset = Array(repeating: .infinity, count: p)
            for k in 0..<b {
                let x = plane(k)
                for i in 0..<p { offset[i] = min(offset[i], Double(x[i])); highest[i] = max(highest[i], Double(x[i])) }
            }
            for i in 0..<p { divisor[i] = highest[i] - offset[i] }
        case .area:
            if b == 1 {
                let x = plane(0); for i in 0..<p { divisor[i] = Double(x[i]) }
            } else {
                for k in 1..<b {
                    let (x, previous, step) = (plane(k), plane(k - 1), Swift.abs(wavenumbers[k] - wavenumbers[k - 1]))
                    for i in 0..<p { divisor[i] += (Double(x[i]) + Double(previous[i])) / 2 * step }
                }
            }
        case .band:
            let x = plane(try BandNormalization(wavenumber: wavenumber!).index(wavenumbers))
            for i in 0..<p { divisor[i] = Double(x[i]) }
        }
        // A zero or non-finite divisor gives a zero spectrum (as `scaled` does): divide by 1, then clear.
        let unusable = (0..<p).filter { divisor[$0] == 0 || !divisor[$0].isFinite }
        for i in unusable { divisor[i] = 1; offset[i] = 0 }
        for k in 0..<b {
            let x = plane(k)
            for i in 0..<p { o[k * p + i] = Float((Double(x[i]) - offset[i]) / divisor[i]) }
            for i in unusable { o[k * p + i] = 0 }
        }
        return true
    }
}
