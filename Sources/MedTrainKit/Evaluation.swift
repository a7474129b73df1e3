/// Everything reported for one label.
public struct LabelEvaluation: Codable, Sendable, Equatable {
    public var name: String
    public var count: Int
    public var positives: Int
    public var auroc: Double?
    public var aurocInterval: ConfidenceInterval?
    public var averagePrecision: Double?
    public var brier: Double
    public var expectedCalibrationError: Double
    /// nil: no threshold makes any prediction positive (`.infinity`), which JSON cannot hold.
    public var threshold: Double?
    public var thresholdRule: ThresholdRule
    public var f1: Double
    public var sensitivity: Double
    public var specificity: Double
}

/// Per-label metrics and their means over the labels where they are defined.
public struct Evaluation: Codable, Sendable, Equatable {
    public var labels: [LabelEvaluation]
    public var meanAveragePrecision: Double?
    public var meanAUROC: Double?

    /// `thresholds` (one per label, chosen on validation data) are applied as given; without them each label's
    /// threshold is chosen on these very scores by `rule`, and where the rule finds none (a label without both
    /// classes, or no threshold better than never predicting positive) `fallback` is used, if given, as a fixed one.
    public init(_ scored: ScoredLabels, labelNames: [String], rule: ThresholdRule, thresholds: [Double]? = nil,
                fallback: Double? = nil, bootstrapResamples: Int = 1000, seed: UInt64 = 0) {
        precondition(labelNames.count == scored.labelCount && (thresholds?.count ?? scored.labelCount) == scored.labelCount,
                     "one name and one threshold per label")
        labels = labelNames.enumerated().map { label, name in
            let outcomes = scored.outcomes(label: label)
            var threshold = thresholds?[label] ?? outcomes.threshold(by: rule)
            var chosenBy = thresholds == nil ? rule : .fixed(value: threshold)
            if !threshold.isFinite, let fallback {
                threshold = fallback
                chosenBy = .fixed(value: fallback)
            }
            let confusion = outcomes.confusion(at: threshold)
            return LabelEvaluation(
                name: name, count: outcomes.scores.count, positives: outcomes.positiveCount, auroc: outcomes.auroc(),
                aurocInterval: bootstrapResamples > 0 ? outcomes.aurocInterval(resamples: bootstrapResamples, seed: seed &+ UInt64(label)) : nil,
                averagePrecision: outcomes.averagePrecision(), brier: outcomes.brierScore(),
                expectedCalibrationError: outcomes.expectedCalibrationError(), threshold: threshold.isFinite ? threshold : nil,
                thresholdRule: chosenBy, f1: confusion.f1,
                sensitivity: confusion.sensitivity, specificity: confusion.specificity)
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        meanAveragePrecision = mean(labels.compactMap(\.averagePrecision))
        meanAUROC = mean(labels.compactMap(\.auroc))
    }
}
