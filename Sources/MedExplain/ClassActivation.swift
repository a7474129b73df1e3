import MedEngine

/// How the target layer's activations A are weighted by the target logit's gradient G = ∂y/∂A.
public enum CAMMethod: String, Sendable, CaseIterable, Codable {
    /// Σ_c mean(G_c) · A_c (Selvaraju et al.): the default.
    case gradCAM = "gradcam"
    /// Σ_c G_c ⊙ A_c (Draelos and Carin): faithful to the model's computation for a GAP→linear head.
    case hiResCAM = "hirescam"
    /// Σ_c w_c · A_c with w_c = Σ_u α_u · ReLU(G_u) and α_u = G_u² / (2·G_u² + (Σ_v A_v)·G_u³ + 1e-6), α = 0
    /// where G = 0 (Chattopadhyay et al., Eq. 19 with exp(y) dropped): pytorch-grad-cam's denominator, which sums
    /// the activations before multiplying by G³ (M3d-CAM and MONAI sum the product instead).
    case gradCAMPlusPlus = "gradcampp"
}

public enum ClassActivation {
    /// The last spatial feature map after its ReLU, by architecture name (`ModelZoo.architectures`).
    public static func defaultLayer(forArchitecture arch: String) -> String {
        if arch.hasPrefix("small_cnn") { return "conv3" }
        if arch.hasPrefix("densenet") || arch.hasPrefix("vgg") { return "features" }
        return "layer4"
    }

    /// Low-resolution maps (on the layer's grid) for several targets of one input (batch of 1): one forward pass,
    /// then one backward pass per target down to the layer only.
    public static func maps(model: any Model, input: Tensor, layer: String, targets: [Int],
                            method: CAMMethod = .gradCAM) throws(ExplainError) -> [ActivationMap] {
        let pass = try GradientPass(model: model, input: input, layer: layer)
        var maps: [ActivationMap] = []
        for target in targets { maps.append(try pass.map(target: target, method: method)) }
        return maps
    }

    /// The map from an activation and its gradient, both 1×C×(spatial…).
    public static func map(activation: Tensor, gradient: Tensor, method: CAMMethod) -> ActivationMap {
        ActivationMap(raw: raw(activation: activation, gradient: gradient, method: method), shape: Array(activation.shape.dropFirst(2)))
    }

    /// The signed weighted sum over channels, before any ReLU, on the layer's grid (row-major).
    public static func raw(activation: Tensor, gradient: Tensor, method: CAMMethod) -> [Float] {
        precondition(activation.shape == gradient.shape && activation.shape.count >= 3 && activation.shape[0] == 1)
        let channels = activation.shape[1]
        let spatial = Array(activation.shape.dropFirst(2))
        let area = spatial.reduce(1, *)
        var raw = [Float](repeating: 0, count: area)
        activation.withUnsafeBufferPointer { a in
            gradient.withUnsafeBufferPointer { g in
                raw.withUnsafeMutableBufferPointer { out in
                    for c in 0..<channels {
                        let base = c * area
                        switch method {
                        case .gradCAM:
                            // Accumulated in Double: a mean over thousands of positions, as exact as NumPy's pairwise sum.
                            var sum = 0.0
                            for i in 0..<area { sum += Double(g[base + i]) }
                            let weight = Float(sum / Double(area))
                            for i in 0..<area { out[i] += weight * a[base + i] }
                        case .hiResCAM:
                            for i in 0..<area { out[i] += g[base + i] * a[base + i] }
                        case .gradCAMPlusPlus:
                            var total = 0.0
                            for i in 0..<area { total += Double(a[base + i]) }
                            let sumA = Float(total)
                            var weight: Float = 0
                            for i in 0..<area {
                                let gi = g[base + i]
                                guard gi > 0 else { continue }  // ReLU(G) · α, and α = 0 where G = 0
                                let g2 = gi * gi
                                weight += gi * g2 / (2 * g2 + sumA * g2 * gi + 1e-6)
                            }
                            for i in 0..<area { out[i] += weight * a[base + i] }
                        }
                    }
                }
            }
        }
        return raw
    }
}

/// One forward pass with the graph, recording one named activation; backward passes for any number of targets.
struct GradientPass {
    let logits: Variable
    let context: ForwardContext
    let layer: String

    init(model: any Model, input: Tensor, layer: String) throws(ExplainError) {
        guard input.shape.first == 1 else { throw .batch(input.shape) }
        context = ForwardContext(training: false, recordsGraph: true, keepActivations: [layer])
        logits = model.forward(Variable(input), context)
        self.layer = layer
        guard context.activations[layer] != nil else { throw .unknownLayer(layer) }
    }

    var labelCount: Int { logits.shape[1] }

    func map(target: Int, method: CAMMethod) throws(ExplainError) -> ActivationMap {
        let (a, g) = try activationAndGradient(target: target)
        return ClassActivation.map(activation: a, gradient: g, method: method)
    }

    /// The recorded activation and ∂logit[target]/∂activation.
    func activationAndGradient(target: Int) throws(ExplainError) -> (Tensor, Tensor) {
        guard target >= 0 && target < labelCount else { throw .target(target, labels: labelCount) }
        guard let recorded = context.activations[layer] else { throw .unknownLayer(layer) }
        context.clearActivationGradients()
        var seed = Tensor(shape: logits.shape)
        seed[flat: target] = 1
        logits.backward(seed: seed, downTo: recorded)
        guard let gradient = recorded.grad else { throw .layerNotOnPath(layer) }
        return (recorded.value, gradient)
    }
}
