import Foundation

extension Functional {
    /// Binary cross-entropy on logits, averaged over the entries whose mask is 1 (missing labels get mask 0),
    /// with an optional per-label weight on positives (PyTorch's pos_weight). Without a mask it equals
    /// torch.nn.BCEWithLogitsLoss(pos_weight=…) with mean reduction.
    public static func bceWithLogits(_ logits: Variable, targets: Tensor, mask: Tensor? = nil, posWeight: Tensor? = nil)
        -> Variable {
        let n = logits.shape[0], labels = logits.value.count / n
        let x = logits.value.ptr, y = targets.ptr
        let grad = Tensor.uninitialized(logits.shape)
        var total = 0.0, weightSum = 0.0
        for i in 0..<logits.value.count {
            let m = mask?.ptr[i] ?? 1
            weightSum += Double(m)
            let pw = posWeight?.ptr[i % labels] ?? 1
            let lw = (pw - 1) * y[i] + 1
            // Stable form: (1−y)·x + lw·(log(1+e^−|x|) + max(−x, 0)).
            let loss = (1 - y[i]) * x[i] + lw * (log1pf(expf(-abs(x[i]))) + max(-x[i], 0))
            total += Double(m * loss)
            let sigNeg = 1 / (1 + expf(x[i]))
            grad.ptr[i] = m * ((1 - y[i]) - lw * sigNeg)
        }
        let scale = Float(1 / max(weightSum, 1))
        let value = Tensor(shape: [], data: [Float(total) * scale])
        return Variable(value, inputs: [logits]) { g in
            [Engine.backend.axpby(grad, alpha: scale * g.ptr[0], grad, beta: 0)]
        }
    }

    /// Softmax cross-entropy over N×K logits with integer class targets, mean over the batch.
    public static func crossEntropy(_ logits: Variable, targets: [Int]) -> Variable {
        let n = logits.shape[0], k = logits.shape[1]
        let grad = Tensor.uninitialized(logits.shape)
        var total = 0.0
        for b in 0..<n {
            let row = logits.value.ptr + b * k, g = grad.ptr + b * k
            var top = -Float.infinity
            for j in 0..<k { top = max(top, row[j]) }
            var s: Float = 0
            for j in 0..<k { g[j] = expf(row[j] - top); s += g[j] }
            total += Double(logf(s) + top - row[targets[b]])
            for j in 0..<k { g[j] /= s }
            g[targets[b]] -= 1
        }
        let value = Tensor(shape: [], data: [Float(total / Double(n))])
        return Variable(value, inputs: [logits]) { g in
            [Engine.backend.axpby(grad, alpha: g.ptr[0] / Float(n), grad, beta: 0)]
        }
    }
}
