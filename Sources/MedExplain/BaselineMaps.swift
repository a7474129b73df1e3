import MedEngine

/// Maps that carry no knowledge of the target, against which faithfulness is judged (Adebayo et al. 2018;
/// the pytorch-grad-cam metrics tutorial).
public enum BaselineMaps {
    /// pytorch-grad-cam's RandomCAM: channel weights drawn from U(−1, 1) instead of gradients, then Grad-CAM's
    /// post-processing, on the input's grid.
    public static func randomCAM(model: any Model, input: Tensor, layer: String, resampling: MapResampling = .linear,
                                 rng: inout SeededRandom) throws(ExplainError) -> ActivationMap {
        let ctx = ForwardContext(training: false, recordsGraph: false, keepActivations: [layer])
        _ = model.forward(Variable(input), ctx)
        guard let a = ctx.activations[layer]?.value else { throw .unknownLayer(layer) }
        let channels = a.shape[1], spatial = Array(a.shape.dropFirst(2)), area = spatial.reduce(1, *)
        var raw = [Float](repeating: 0, count: area)
        a.withUnsafeBufferPointer { v in
            for c in 0..<channels {
                let w = rng.uniform(-1, 1)
                for i in 0..<area { raw[i] += w * v[c * area + i] }
            }
        }
        return ActivationMap(raw: raw, shape: spatial).resized(to: Array(input.shape.dropFirst(2)), resampling: resampling)
    }

    /// An edge detector (pytorch-grad-cam's `sobel_cam`): 0.5·|∂x| + 0.5·|∂y| of the channel mean with 3×3 Sobel
    /// kernels and mirrored borders (OpenCV's BORDER_REFLECT_101), min-max normalised. On the model's input in
    /// float rather than an 8-bit picture of it. 2D only.
    public static func sobel(_ input: Tensor) -> ActivationMap {
        precondition(input.rank == 4 && input.shape[0] == 1, "Sobel needs one 2D image")
        let channels = input.shape[1], rows = input.shape[2], cols = input.shape[3], plane = rows * cols
        var grey = [Float](repeating: 0, count: plane)
        input.withUnsafeBufferPointer { v in
            for c in 0..<channels { for i in 0..<plane { grey[i] += v[c * plane + i] / Float(channels) } }
        }
        func at(_ r: Int, _ c: Int) -> Float {
            func reflect(_ i: Int, _ n: Int) -> Int { n == 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i }
            return grey[reflect(r, rows) * cols + reflect(c, cols)]
        }
        var edges = [Float](repeating: 0, count: plane)
        for r in 0..<rows {
            for c in 0..<cols {
                let gx = (at(r - 1, c + 1) + 2 * at(r, c + 1) + at(r + 1, c + 1)) - (at(r - 1, c - 1) + 2 * at(r, c - 1) + at(r + 1, c - 1))
                let gy = (at(r + 1, c - 1) + 2 * at(r + 1, c) + at(r + 1, c + 1)) - (at(r - 1, c - 1) + 2 * at(r - 1, c) + at(r - 1, c + 1))
                edges[r * cols + c] = 0.5 * abs(gx) + 0.5 * abs(gy)
            }
        }
        return ActivationMap(raw: edges, shape: [rows, cols])
    }
}
