extension BinaryOutcomes {
    /// Area under the ROC curve as the Mann–Whitney U statistic: tied scores share their mean rank, so a
    /// positive tied with a negative counts one half. nil without both classes.
    public func auroc() -> Double? {
        guard hasBothClasses else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let meanRank = Double(start + end + 2) / 2  // ranks are 1-based
            for k in start...end where positives[order[k]] { positiveRankSum += meanRank }
            start = end + 1
        }
        let p = Double(positiveCount), n = Double(negativeCount)
        return (positiveRankSum - p * (p + 1) / 2) / (p * n)
    }

    /// scikit-learn's `average_precision_score`: sum over distinct thresholds of (recall step) x precision, with
    /// no interpolation. nil without positives.
    public func averagePrecision() -> Double? {
        let p = positiveCount
        guard p > 0 else { return nil }
        var sum = 0.0, previousRecall = 0.0
        for point in operatingPoints() {
            let recall = Double(point.truePositives) / Double(p)
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            sum += (recall - previousRecall) * precision
            previousRecall = recall
        }
        return sum
    }
}
