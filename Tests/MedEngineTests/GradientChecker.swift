import Foundation
@testable import MedEngine

/// Central finite differences against reverse-mode gradients for a function of several tensors.
/// The scalar checked is Σ seed⊙f(x) with a random seed, so every output element contributes.
struct GradientChecker {
    var epsilon: Float = 1e-3
    var absoluteTolerance: Float = 5e-3
    var relativeTolerance: Float = 1e-2

    /// Returns the worst violation ratio (error / allowed) over every input element; ≤ 1 passes.
    func worstRatio(_ inputs: [Tensor], seed: UInt64 = 7, _ f: ([Variable]) -> Variable) -> Float {
        let variables = inputs.map { Variable($0, requiresGradient: true) }
        let out = f(variables)
        var rng = SeededRandom(seed: seed)
        let weights = rng.tensor(out.shape)
        out.backward(seed: weights)
        var worst: Float = 0
        for (index, input) in inputs.enumerated() {
            let analytic = variables[index].grad ?? Tensor(shape: input.shape)
            for i in 0..<input.count {
                var plus = inputs, minus = inputs
                plus[index][flat: i] += epsilon
                minus[index][flat: i] -= epsilon
                let numeric = Float((weighted(f(plus.map { Variable($0) }), weights)
                                     - weighted(f(minus.map { Variable($0) }), weights)) / Double(2 * epsilon))
                let allowed = absoluteTolerance + relativeTolerance * abs(numeric)
                worst = max(worst, abs(numeric - analytic[flat: i]) / allowed)
            }
        }
        return worst
    }

    private func weighted(_ v: Variable, _ w: Tensor) -> Double {
        var s = 0.0
        for i in 0..<w.count { s += Double(v.value[flat: i]) * Double(w[flat: i]) }
        return s
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return rng.tensor(shape, scale: scale)
}
