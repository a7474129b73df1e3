/// Scores for N samples x L labels with their targets and mask, row-major, as a model and a data set give them.
public struct ScoredLabels: Sendable {
    public var count: Int
    public var labelCount: Int
    public var scores: [Float]
    public var labels: [Float]
    public var mask: [Float]

    public init(count: Int, labelCount: Int, scores: [Float], labels: [Float], mask: [Float]? = nil) {
        precondition(scores.count == count * labelCount && labels.count == scores.count, "scores and labels must be N x L")
        self.count = count
        self.labelCount = labelCount
        self.scores = scores
        self.labels = labels
        self.mask = mask ?? [Float](repeating: 1, count: scores.count)
        precondition(self.mask.count == scores.count, "mask must be N x L")
    }

    /// One label's unmasked samples.
    public func outcomes(label: Int) -> BinaryOutcomes {
        var scores: [Double] = [], positives: [Bool] = []
        for row in 0..<count where mask[row * labelCount + label] > 0 {
            scores.append(Double(self.scores[row * labelCount + label]))
            positives.append(labels[row * labelCount + label] > 0)
        }
        return BinaryOutcomes(scores: scores, positives: positives)
    }
}

/// One label's scores and truths (masked samples already left out): what every metric here is a function of.
public struct BinaryOutcomes: Sendable, Equatable {
    public var scores: [Double]
    public var positives: [Bool]

    public init(scores: [Double], positives: [Bool]) {
        precondition(scores.count == positives.count, "one truth per score")
        self.scores = scores
        self.positives = positives
    }

    public var positiveCount: Int { positives.lazy.filter { $0 }.count }
    public var negativeCount: Int { positives.count - positiveCount }
    /// Ranking metrics need both classes.
    public var hasBothClasses: Bool { positiveCount > 0 && negativeCount > 0 }

    /// Predicting positive at `score >= threshold` for each distinct score, highest first: cumulative true and
    /// false positives (scikit-learn's `_binary_clf_curve`).
    public func operatingPoints() -> [OperatingPoint] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [OperatingPoint] = []
        var tp = 0, fp = 0
        for (rank, index) in order.enumerated() {
            if positives[index] { tp += 1 } else { fp += 1 }
            if rank == order.count - 1 || scores[order[rank + 1]] != scores[index] {
                points.append(OperatingPoint(threshold: scores[index], truePositives: tp, falsePositives: fp))
            }
        }
        return points
    }

    /// Counts when predicting positive at `score >= threshold`.
    public func confusion(at threshold: Double) -> Confusion {
        var c = Confusion()
        for (score, positive) in zip(scores, positives) {
            switch (score >= threshold, positive) {
            case (true, true): c.truePositives += 1
            case (true, false): c.falsePositives += 1
            case (false, true): c.falseNegatives += 1
            case (false, false): c.trueNegatives += 1
            }
        }
        return c
    }
}

public struct OperatingPoint: Sendable, Equatable {
    public var threshold: Double
    public var truePositives: Int
    public var falsePositives: Int
}

public struct Confusion: Sendable, Equatable {
    public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

    /// Recall of positives; 0 when there are none (scikit-learn's `zero_division=0`).
    public var sensitivity: Double { ratio(truePositives, truePositives + falseNegatives) }
    public var specificity: Double { ratio(trueNegatives, trueNegatives + falsePositives) }
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    public var f1: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
}
