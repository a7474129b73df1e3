/// How alike two maps of one shape are: the measures of the model-randomisation sanity check.
public enum MapSimilarity {
    /// scikit-image's `structural_similarity(a, b, data_range:)` with its defaults: a 7-wide uniform window in every
    /// dimension, sample covariance, K1 = 0.01, K2 = 0.03, the mean over positions at least 3 from every edge.
    /// Each axis needs at least 7 values.
    public static func ssim(_ a: [Float], _ b: [Float], shape: [Int], dataRange: Double = 1) -> Double {
        precondition(a.count == b.count && a.count == shape.reduce(1, *), "maps of one shape")
        precondition(shape.allSatisfy { $0 >= 7 }, "SSIM's 7-wide window needs every axis ≥ 7, not \(shape)")
        let x = a.map(Double.init), y = b.map(Double.init)
        let ux = boxMean(x, shape), uy = boxMean(y, shape)
        let uxx = boxMean(zip(x, x).map(*), shape), uyy = boxMean(zip(y, y).map(*), shape)
        let uxy = boxMean(zip(x, y).map(*), shape)
        let np = pow7(shape.count), covNorm = np / (np - 1)
        let c1 = (0.01 * dataRange) * (0.01 * dataRange), c2 = (0.03 * dataRange) * (0.03 * dataRange)
        var total = 0.0, count = 0
        forEachInterior(shape, margin: 3) { i in
            let vx = covNorm * (uxx[i] - ux[i] * ux[i]), vy = covNorm * (uyy[i] - uy[i] * uy[i])
            let vxy = covNorm * (uxy[i] - ux[i] * uy[i])
            total += ((2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)) / ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2))
            count += 1
        }
        return total / Double(count)
    }

    static func pow7(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 7 } }

    /// The mean over a 7-wide window along every axis; only interior positions (3 from each edge) are used, so
    /// the border mode does not matter and is left as clamping.
    static func boxMean(_ v: [Double], _ shape: [Int]) -> [Double] {
        var current = v
        for axis in shape.indices {
            let stride = shape[(axis + 1)...].reduce(1, *), n = shape[axis]
            var next = current
            for i in current.indices {
                let position = (i / stride) % n
                var sum = 0.0
                for k in -3...3 { sum += current[i + (min(max(position + k, 0), n - 1) - position) * stride] }
                next[i] = sum / 7
            }
            current = next
        }
        return current
    }

    static func forEachInterior(_ shape: [Int], margin: Int, _ body: (Int) -> Void) {
        let count = shape.reduce(1, *)
        outer: for i in 0..<count {
            var rest = i
            for axis in shape.indices.reversed() {
                let p = rest % shape[axis]
                if p < margin || p >= shape[axis] - margin { continue outer }
                rest /= shape[axis]
            }
            body(i)
        }
    }

    /// Spearman's rank correlation (ties get their average rank), as `scipy.stats.spearmanr`; nil when either map
    /// is constant (an empty map has no ranking).
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double? {
        pearson(ranks(a), ranks(b))
    }

    public static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        precondition(a.count == b.count && !a.isEmpty)
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb)
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    /// 1-based ranks, ties averaged.
    static func ranks(_ v: [Float]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && v[order[end + 1]] == v[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start...end { ranks[order[k]] = rank }
            start = end + 1
        }
        return ranks
    }
}
