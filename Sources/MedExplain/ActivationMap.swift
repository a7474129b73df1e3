/// A class-activation map over the target layer's spatial grid (H×W or D×H×W), for one sample and one target,
/// post-processed as pytorch-grad-cam does: ReLU, then `(x − min) / (max + 1e-7)`.
public struct ActivationMap: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]
    /// Nothing survived the ReLU: the model found no evidence for the target here. Reported, never drawn.
    public var isEmpty: Bool

    /// Post-processes a raw weighted sum of activations.
    public init(raw: [Float], shape: [Int]) {
        self.shape = shape
        var v = raw.map { max($0, 0) }
        let low = v.min() ?? 0, high = v.max() ?? 0
        isEmpty = high <= 0
        for i in v.indices { v[i] = (v[i] - low) / (1e-7 + (high - low)) }
        values = v
    }

    /// Index of the largest value, in row-major order over `shape`.
    public var peakIndex: Int { values.indices.max { values[$0] < values[$1] } ?? 0 }
}
