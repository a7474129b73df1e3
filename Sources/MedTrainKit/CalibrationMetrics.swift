extension BinaryOutcomes {
    /// Mean squared difference between score and truth (scores are probabilities).
    public func brierScore() -> Double {
        guard !scores.isEmpty else { return 0 }
        var sum = 0.0
        for (score, positive) in zip(scores, positives) {
            let d = score - (positive ? 1 : 0)
            sum += d * d
        }
        return sum / Double(scores.count)
    }

    /// Expected calibration error over `bins` equal-width bins of [0, 1]: the sample-weighted mean of
    /// |fraction positive - mean score| per non-empty bin. Bins are (lo, hi], the first [0, hi], with edges
    /// i x (1 / bins), as scikit-learn's `calibration_curve(strategy="uniform")` bins them.
    public func expectedCalibrationError(bins: Int = 15) -> Double {
        guard !scores.isEmpty else { return 0 }
        let step = 1.0 / Double(bins)
        var count = [Int](repeating: 0, count: bins), scoreSum = [Double](repeating: 0, count: bins)
        var positiveSum = [Double](repeating: 0, count: bins)
        for (score, positive) in zip(scores, positives) {
            // The number of inner edges below the score (np.searchsorted, side left).
            var bin = 0
            while bin < bins - 1 && Double(bin + 1) * step < score { bin += 1 }
            count[bin] += 1
            scoreSum[bin] += score
            if positive { positiveSum[bin] += 1 }
        }
        var error = 0.0
        for bin in 0..<bins where count[bin] > 0 {
            let n = Double(count[bin])
            error += n / Double(scores.count) * abs(positiveSum[bin] / n - scoreSum[bin] / n)
        }
        return error
    }
}
