import Foundation
import MedEngine

/// ROAD (Rong et al., ICML 2022) as pytorch-grad-cam implements it (`metrics/road.py`): pixels are removed by
/// noisy linear imputation (each removed pixel the weighted mean of its 8 neighbours, 1/6 for edge neighbours and
/// 1/12 for corners, solved as one sparse system, plus Gaussian noise), and the change of the target's score is
/// measured. MoRF(p) keeps the pixels below the map's p-th percentile (removes the most relevant); LeRF(p) keeps
/// those below the p-th percentile of 1 − map. Our score is the finding's probability, σ(logit). 2D only.
public enum ROAD {
    public static let percentiles: [Double] = [10, 20, 30, 40, 50, 60, 70, 80, 90]

    public enum Order: String, Sendable, Codable { case mostRelevantFirst = "morf", leastRelevantFirst = "lerf" }

    /// σ(logit after) − σ(logit before), averaged over `percentiles`, for each order.
    public static func scores(model: any Model, input: Tensor, map: [Float], target: Int,
                              percentiles: [Double] = percentiles, noise: Float = 0.01,
                              rng: inout SeededRandom) -> (morf: Double, lerf: Double) {
        let before = sigmoid(model.predict(input).scalars[target])
        var totals = [0.0, 0.0]
        for (k, order) in [Order.mostRelevantFirst, .leastRelevantFirst].enumerated() {
            for p in percentiles {
                let imputed = impute(input, keep: keepMask(map, percentile: p, order: order), noise: noise, rng: &rng)
                totals[k] += Double(sigmoid(model.predict(imputed).scalars[target]) - before)
            }
        }
        return (totals[0] / Double(percentiles.count), totals[1] / Double(percentiles.count))
    }

    static func sigmoid(_ z: Float) -> Float { 1 / (1 + exp(-z)) }

    /// `binary_mask = map < np.percentile(map, p)` (1: kept), on 1 − map for LeRF.
    static func keepMask(_ map: [Float], percentile: Double, order: Order) -> [Bool] {
        let values = order == .mostRelevantFirst ? map : map.map { 1 - $0 }
        let threshold = Self.percentile(values, percentile)
        return values.map { $0 < threshold }
    }

    /// NumPy's default (linear) percentile, computed in Double and rounded to the array's Float.
    static func percentile(_ values: [Float], _ p: Double) -> Float {
        let sorted = values.sorted()
        let position = p / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1), t = position - Double(low)
        let a = Double(sorted[low]), b = Double(sorted[high])
        return Float(t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t))
    }

    static let neighbours: [(Int, Int, Double)] = [(1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
                                                   (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6)]

    /// pytorch-grad-cam's `NoisyLinearImputer` on a 1×C×H×W input: for each removed pixel i,
    /// Σ_j∈valid w_j · x_j = (Σ_j∈valid w_j) · x_i, known neighbours moved to the right-hand side; solved per
    /// channel by conjugate gradients (the system is symmetric positive definite wherever removed pixels touch
    /// a kept one; with none kept the right-hand side is 0 and so is the solution, as with SciPy's `spsolve`).
    static func impute(_ input: Tensor, keep: [Bool], noise: Float, rng: inout SeededRandom) -> Tensor {
        let channels = input.shape[1], rows = input.shape[2], cols = input.shape[3], plane = rows * cols
        precondition(keep.count == plane, "one keep flag per pixel")
        let unknown = (0..<plane).filter { !keep[$0] }
        guard !unknown.isEmpty else { return input }
        var index = [Int](repeating: -1, count: plane)
        for (k, u) in unknown.enumerated() { index[u] = k }
        // M = −A: diagonal Σ valid w, off-diagonal −w between removed neighbours.
        var diagonal = [Double](repeating: 0, count: unknown.count)
        var links: [[(Int, Double)]] = Array(repeating: [], count: unknown.count)
        var known: [[(Int, Double)]] = Array(repeating: [], count: unknown.count)
        for (k, u) in unknown.enumerated() {
            let r = u / cols, c = u % cols
            for (dr, dc, w) in neighbours {
                let rr = r + dr, cc = c + dc
                guard rr >= 0, rr < rows, cc >= 0, cc < cols else { continue }
                diagonal[k] += w
                let v = rr * cols + cc
                if keep[v] { known[k].append((v, w)) } else { links[k].append((index[v], w)) }
            }
        }
        var data = input.scalars
        for channel in 0..<channels {
            let base = channel * plane
            let rhs = known.map { $0.reduce(0.0) { $0 + $1.1 * Double(data[base + $1.0]) } }
            let x = conjugateGradient(diagonal: diagonal, links: links, rhs: rhs)
            for (k, u) in unknown.enumerated() { data[base + u] = Float(x[k]) }
        }
        // Noise is drawn after all channels, channel-major, as torch.randn_like over (C, removed).
        if noise != 0 {
            for channel in 0..<channels { for u in unknown { data[channel * plane + u] += noise * rng.normal() } }
        }
        return Tensor(shape: input.shape, data: data)
    }

    /// Solves M x = b, M = diag(d) − L (L the symmetric links), Jacobi-preconditioned, to 1e-10 relative residual.
    static func conjugateGradient(diagonal d: [Double], links: [[(Int, Double)]], rhs b: [Double]) -> [Double] {
        let n = b.count
        func apply(_ v: [Double]) -> [Double] {
            (0..<n).map { i in links[i].reduce(d[i] * v[i]) { $0 - $1.1 * v[$1.0] } }
        }
        var x = [Double](repeating: 0, count: n)
        var r = b
        let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return x }
        var z = (0..<n).map { r[$0] / d[$0] }
        var p = z
        var rz = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
        for _ in 0..<(10 * n + 100) {
            let q = apply(p)
            let alpha = rz / zip(p, q).reduce(0) { $0 + $1.0 * $1.1 }
            for i in 0..<n { x[i] += alpha * p[i]; r[i] -= alpha * q[i] }
            if r.reduce(0, { $0 + $1 * $1 }).squareRoot() <= 1e-10 * norm { break }
            z = (0..<n).map { r[$0] / d[$0] }
            let next = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
            for i in 0..<n { p[i] = z[i] + next / rz * p[i] }
            rz = next
        }
        return x
    }
}
