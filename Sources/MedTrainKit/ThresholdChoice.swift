/// How a label's decision threshold is chosen on validation data. Part of the model: its users need to know
/// what a threshold means.
public enum ThresholdRule: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Maximises sensitivity + specificity - 1.
    case youden
    /// Maximises F1.
    case maxF1
    /// The highest threshold whose sensitivity reaches the target (a screening operating point).
    case targetSensitivity(minimum: Double)
    /// A fixed threshold.
    case fixed(value: Double)

    public var description: String {
        switch self {
        case .youden: return "Youden J"
        case .maxF1: return "max F1"
        case let .targetSensitivity(target): return "sensitivity ≥ \(target)"
        case let .fixed(value): return String(format: "fixed %.3f", value)
        }
    }
}

extension BinaryOutcomes {
    /// A score from the data (predict positive at `score >= threshold`); ties between thresholds go to the highest.
    /// `.infinity` (never positive) when no threshold does better than that, or without both classes.
    public func threshold(by rule: ThresholdRule) -> Double {
        if case let .fixed(value) = rule { return value }
        guard hasBothClasses else { return .infinity }
        let p = Double(positiveCount), n = Double(negativeCount)
        var best = (threshold: Double.infinity, value: 0.0)
        for point in operatingPoints() {
            let tp = Double(point.truePositives), fp = Double(point.falsePositives)
            switch rule {
            case .youden:
                let j = tp / p - fp / n
                if j > best.value { best = (point.threshold, j) }
            case .maxF1:
                let f1 = 2 * tp / (tp + fp + p)
                if f1 > best.value { best = (point.threshold, f1) }
            case let .targetSensitivity(target):
                if tp / p >= target { return point.threshold }
            case .fixed:
                break
            }
        }
        return best.threshold
    }
}
