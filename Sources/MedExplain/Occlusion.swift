import MedEngine

/// Window, stride and fill of an occlusion sweep, over the input's spatial axes (all channels at once).
public struct OcclusionSettings: Sendable, Equatable, Codable {
    /// Per spatial axis; nil: `defaultWindow(for:)`.
    public var window: [Int]?
    /// Per spatial axis; nil: half the window in 2D, the whole window in 3D.
    public var stride: [Int]?
    /// The value occluded voxels take, in the model's (normalised) input space. Captum's default, 0.
    public var baseline: Float
    /// Occluded copies per forward pass.
    public var batchSize: Int

    public init(window: [Int]? = nil, stride: [Int]? = nil, baseline: Float = 0, batchSize: Int = 8) {
        self.window = window; self.stride = stride; self.baseline = baseline; self.batchSize = batchSize
    }

    /// About a seventh of each axis in 2D (32 for 224: 13×13 = 169 passes at stride 16), a quarter in 3D
    /// (4×4×4 = 64 passes without overlap).
    public static func defaultWindow(for size: [Int]) -> [Int] {
        let parts = size.count == 3 ? 4 : 7
        return size.map { max(1, ($0 + parts - 1) / parts) }
    }

    func resolved(for size: [Int]) throws(ExplainError) -> (window: [Int], stride: [Int]) {
        let window = self.window ?? Self.defaultWindow(for: size)
        let stride = self.stride ?? window.map { size.count == 3 ? $0 : max(1, $0 / 2) }
        guard window.count == size.count, stride.count == size.count else {
            throw .occlusionWindow("window \(window) and stride \(stride) need \(size.count) values for a \(size) input")
        }
        guard zip(window, size).allSatisfy({ $0 >= 1 && $0 <= $1 }), stride.allSatisfy({ $0 >= 1 }) else {
            throw .occlusionWindow("window \(window) must lie within the input \(size), stride \(stride) be positive")
        }
        guard batchSize >= 1 else { throw .occlusionWindow("batch size \(batchSize) must be positive") }
        return (window, stride)
    }
}

/// Zeiler and Fergus's occlusion as Captum's `Occlusion` computes it: windows start at 0 and every stride,
/// ceil((n − w) / s) + 1 per axis (the last one cropped at the edge); each voxel gets the mean over the windows
/// covering it of f(x) − f(x with the window set to the baseline). Every forward pass yields all logits, so one
/// sweep explains every target.
public enum Occlusion {
    public struct Result {
        /// The unoccluded logits.
        public var logits: [Float]
        /// Per requested target, the attribution over the input's spatial grid (signed; positive: occluding
        /// there lowers the logit).
        public var maps: [[Float]]
        public var shape: [Int]
        public var window: [Int]
        public var stride: [Int]
        public var passes: Int
    }

    public static func sweep(model: any Model, input: Tensor, targets: [Int],
                             settings: OcclusionSettings = OcclusionSettings()) throws(ExplainError) -> Result {
        guard input.shape.first == 1 else { throw .batch(input.shape) }
        let channels = input.shape[1], size = Array(input.shape.dropFirst(2))
        let (window, step) = try settings.resolved(for: size)
        let base = model.predict(input)
        let labels = base.shape[1]
        for t in targets where t < 0 || t >= labels { throw .target(t, labels: labels) }
        let counts = zip(zip(size, window), step).map { ($0.0 - $0.1 + $1 - 1) / $1 + 1 }
        let windows = counts.reduce(1, *)
        let area = size.reduce(1, *)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: area), count: targets.count)
        var covered = [Int](repeating: 0, count: area)
        let source = input.scalars, baseLogits = base.scalars

        // Window k's start per axis, with the first axis varying slowest.
        func starts(_ k: Int) -> [Int] {
            var rest = k, result = [Int](repeating: 0, count: size.count)
            for axis in size.indices.reversed() {
                result[axis] = (rest % counts[axis]) * step[axis]
                rest /= counts[axis]
            }
            return result
        }
        // Calls body(flat index) for each spatial position inside window k.
        func forEachPosition(_ k: Int, _ body: (Int) -> Void) {
            let s = starts(k)
            let ends = size.indices.map { min(s[$0] + window[$0], size[$0]) }
            if size.count == 2 {
                for r in s[0]..<ends[0] { for c in s[1]..<ends[1] { body(r * size[1] + c) } }
            } else {
                for d in s[0]..<ends[0] {
                    for r in s[1]..<ends[1] { for c in s[2]..<ends[2] { body((d * size[1] + r) * size[2] + c) } }
                }
            }
        }

        for first in stride(from: 0, to: windows, by: settings.batchSize) {
            let batch = Array(first..<min(first + settings.batchSize, windows))
            var data = [Float](repeating: 0, count: batch.count * source.count)
            data.withUnsafeMutableBufferPointer { out in
                for (b, k) in batch.enumerated() {
                    let offset = b * source.count
                    for i in source.indices { out[offset + i] = source[i] }
                    forEachPosition(k) { u in
                        for c in 0..<channels { out[offset + c * area + u] = settings.baseline }
                    }
                }
            }
            let logits = model.predict(Tensor(shape: [batch.count] + input.shape.dropFirst(), data: data)).scalars
            for (b, k) in batch.enumerated() {
                let deltas = targets.map { Double(baseLogits[$0] - logits[b * labels + $0]) }
                forEachPosition(k) { u in
                    covered[u] += 1
                    for t in targets.indices { sums[t][u] += deltas[t] }
                }
            }
        }
        let maps = sums.map { row in row.indices.map { covered[$0] > 0 ? Float(row[$0] / Double(covered[$0])) : 0 } }
        return Result(logits: baseLogits, maps: maps, shape: size, window: window, stride: step, passes: windows + 1)
    }
}
