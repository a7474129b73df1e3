import MedEngine

/// How the target layer's activations A are weighted by the target logit's gradient G = ∂y/∂A.
public enum CAMMethod: String, Sendable, CaseIterable {
    /// Σ_c mean(G_c) · A_c (Selvaraju et al.): the default.
    case gradCAM = "gradcam"
    /// Σ_c G_c ⊙ A_c (Draelos and Carin): faithful to the model's computation for a GAP→linear head.
    case hiResCAM = "hirescam"
}

public enum ClassActivation {
    /// The last spatial feature map after its ReLU, by architecture name (`ModelZoo.architectures`).
    public static func defaultLayer(forArchitecture arch: String) -> String {
        if arch.hasPrefix("small_cnn") { return "conv3" }
        if arch.hasPrefix("densenet") || arch.hasPrefix("vgg") { return "features" }
        return "layer4"
    }

    /// Maps for several targets of one input (batch of 1): one forward pass, one backward pass per target.
    /// - Parameter layer: a name the model records (ResNet `layer4`, SmallCNN `conv3`, … see docs/engine.md).
    public static func maps(model: any Model, input: Tensor, layer: String, targets: [Int],
                            method: CAMMethod = .gradCAM) -> [ActivationMap] {
        precondition(input.shape.first == 1, "explain one sample at a time")
        let ctx = ForwardContext(training: false, recordsGraph: true, keepActivations: [layer])
        let logits = model.forward(Variable(input), ctx)
        let labels = logits.shape[1]
        return targets.map { target in
            precondition(target >= 0 && target < labels, "target \(target) outside 0..<\(labels)")
            ctx.clearActivationGradients()
            var seed = Tensor(shape: logits.shape)
            seed[flat: target] = 1
            guard let recorded = ctx.activations[layer] else { preconditionFailure("the model records no activation named \(layer)") }
            logits.backward(seed: seed, downTo: recorded)
            guard let g = recorded.grad else { preconditionFailure("\(layer) does not lead to the logits") }
            let a = recorded
            return map(activation: a.value, gradient: g, method: method)
        }
    }

    /// The map from an activation and its gradient, both 1×C×(spatial…).
    public static func map(activation: Tensor, gradient: Tensor, method: CAMMethod) -> ActivationMap {
        precondition(activation.shape == gradient.shape && activation.shape.count >= 3 && activation.shape[0] == 1)
        let channels = activation.shape[1]
        let spatial = Array(activation.shape.dropFirst(2))
        let area = spatial.reduce(1, *)
        var raw = [Float](repeating: 0, count: area)
        activation.withUnsafeBufferPointer { a in
            gradient.withUnsafeBufferPointer { g in
                for c in 0..<channels {
                    let base = c * area
                    switch method {
                    case .gradCAM:
                        var weight: Float = 0
                        for i in 0..<area { weight += g[base + i] }
                        weight /= Float(area)
                        for i in 0..<area { raw[i] += weight * a[base + i] }
                    case .hiResCAM:
                        for i in 0..<area { raw[i] += g[base + i] * a[base + i] }
                    }
                }
            }
        }
        return ActivationMap(raw: raw, shape: spatial)
    }
}
