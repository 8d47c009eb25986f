import Foundation

/// A mask threshold as the tool prints it: two decimals (0.35), or two significant digits below
/// 0.05 (0.0021), as `--threshold auto` chooses them; a threshold those would round (a given
/// 0.9999, 0.01306) in full, so that what is printed is what was applied.
public func thresholdText(_ t: Float) -> String {
    let short = t >= 0.05 || t == 0 ? String(format: "%.2f", t) : String(format: "%.2g", t)
    return Float(short) == t ? short : "\(t)"
}
