extension BinaryOutcomes {
    /// The ROC curve through every distinct threshold, from (0, 0): (false positive rate, true positive rate) with
    /// the threshold of each point; scikit-learn's `roc_curve(drop_intermediate=False)` without its leading
    /// infinite threshold. Empty without both classes.
    public func rocCurve() -> [(fpr: Double, tpr: Double, threshold: Double)] {
        guard hasBothClasses else { return [] }
        let p = Double(positiveCount), n = Double(negativeCount)
        return [(0, 0, .infinity)] + operatingPoints().map { (Double($0.falsePositives) / n, Double($0.truePositives) / p, $0.threshold) }
    }

    /// Precision and recall at every distinct threshold, highest threshold first: scikit-learn's
    /// `precision_recall_curve` in reverse order, without its closing (recall 0, precision 1) point. Empty without
    /// positives.
    public func precisionRecallCurve() -> [(recall: Double, precision: Double, threshold: Double)] {
        let p = Double(positiveCount)
        guard p > 0 else { return [] }
        return operatingPoints().map {
            (Double($0.truePositives) / p, Double($0.truePositives) / Double($0.truePositives + $0.falsePositives), $0.threshold)
        }
    }
}
