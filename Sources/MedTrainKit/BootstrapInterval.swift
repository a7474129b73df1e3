import MedEngine
/// A metric's point estimate with a percentile bootstrap interval.
public struct ConfidenceInterval: Codable, Sendable, Equatable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double
    public var level: Double
    /// Resamples that had both classes (the others have no AUROC and are left out).
    public var resamples: Int
}

extension BinaryOutcomes {
    /// AUROC with a percentile bootstrap interval: samples drawn with replacement, `resamples` times, from a seeded
    /// generator; percentiles interpolated linearly (NumPy's default). nil without both classes.
    public func aurocInterval(resamples: Int = 1000, level: Double = 0.95, seed: UInt64) -> ConfidenceInterval? {
        guard let estimate = auroc() else { return nil }
        var rng = SeededRandom(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        let n = UInt64(scores.count)
        var draw = BinaryOutcomes(scores: scores, positives: positives)
        for _ in 0..<resamples {
            for slot in 0..<scores.count {
                let index = Int(rng.next() % n)
                draw.scores[slot] = scores[index]
                draw.positives[slot] = positives[index]
            }
            if let value = draw.auroc() { values.append(value) }
        }
        guard !values.isEmpty else { return nil }
        values.sort()
        func percentile(_ q: Double) -> Double {
            let position = q * Double(values.count - 1)
            let low = Int(position.rounded(.down)), high = min(low + 1, values.count - 1)
            return values[low] + (values[high] - values[low]) * (position - Double(low))
        }
        let tail = (1 - level) / 2
        return ConfidenceInterval(estimate: estimate, lower: percentile(tail), upper: percentile(1 - tail), level: level,
                                  resamples: values.count)
    }
}
