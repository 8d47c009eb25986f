/// Area under the ROC curve of `scores` for `positives` (Mann–Whitney U / (n₊·n₋); a tie between
/// a positive and a negative counts ½). nil when either class is absent.
public func rocAUC(scores: [Float], positives: [Bool]) -> Double? {
    precondition(scores.count == positives.count, "rocAUC: \(scores.count) scores for \(positives.count) labels")
    let nPos = positives.filter { $0 }.count, nNeg = positives.count - nPos
    guard nPos > 0, nNeg > 0 else { return nil }
    // Rank sum of the positives with average ranks over ties.
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let averageRank = Double(i + j) / 2 + 1
        for k in i...j where positives[order[k]] { rankSum += averageRank }
        i = j + 1
    }
    let u = rankSum - Double(nPos * (nPos + 1)) / 2
    return u / Double(nPos * nNeg)
}

/// Dice coefficient 2|A∩B| / (|A| + |B|) of a predicted and a true mask; 1 when both are empty.
public func dice(_ predicted: [Bool], _ truth: [Bool]) -> Double {
    precondition(predicted.count == truth.count, "dice: masks of \(predicted.count) and \(truth.count) pixels")
    var both = 0, p = 0, t = 0
    for i in predicted.indices {
        if predicted[i] { p += 1 }
        if truth[i] { t += 1 }
        if predicted[i] && truth[i] { both += 1 }
    }
    return p + t == 0 ? 1 : 2 * Double(both) / Double(p + t)
}
