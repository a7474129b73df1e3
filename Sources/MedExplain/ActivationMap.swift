/// A map over a spatial grid (H×W or D×H×W, row-major) for one sample and one target, post-processed as
/// pytorch-grad-cam does: ReLU, then min-max `(x − min) / (1e-7 + max(x − min))`. The 1e-7 acts on the raw scale.
public struct ActivationMap: Sendable, Equatable {
    public var shape: [Int]
    /// In 0...1 (all zero when `isEmpty`).
    public var values: [Float]
    /// Nothing survived the ReLU: the model found no evidence for the target here. Reported, never drawn.
    public var isEmpty: Bool
    /// Positive somewhere, but below 1e-3 of the largest |raw| value: min-max stretches what is nearly noise.
    public var lowSignal: Bool
    /// Of the signed raw map (before any ReLU), on the grid it was computed on.
    public var raw: RawStatistics

    /// Post-processes a raw weighted sum of activations (or an occlusion attribution).
    public init(raw: [Float], shape: [Int]) {
        precondition(raw.count == shape.reduce(1, *), "map of \(raw.count) values does not fill \(shape)")
        self.shape = shape
        self.raw = RawStatistics(raw)
        let largest = max(abs(self.raw.min), abs(self.raw.max))
        isEmpty = !(self.raw.max > 0)
        lowSignal = !isEmpty && self.raw.max < 1e-3 * largest
        values = raw
        Self.reluMinMax(&values)
    }

    /// pytorch-grad-cam's `np.maximum(cam, 0)` then `scale_cam_image`. Sixteen lanes at a time: maps drawn at a
    /// radiograph's own size have millions of values.
    static func reluMinMax(_ v: inout [Float]) {
        v.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress, !p.isEmpty else { return }
            typealias Lanes = SIMD16<Float>
            let n = p.count, width = Lanes.scalarCount
            var lowLanes = Lanes(repeating: .infinity), highLanes = Lanes(repeating: -.infinity)
            var i = 0
            // `replace(with:where:)` compiles to vector selects; `pointwiseMin`/`pointwiseMax` were 50x slower.
            while i + width <= n {
                var x = UnsafeRawPointer(base + i).loadUnaligned(as: Lanes.self)
                x.replace(with: 0, where: x .< 0)
                UnsafeMutableRawPointer(base + i).storeBytes(of: x, as: Lanes.self)
                lowLanes.replace(with: x, where: x .< lowLanes); highLanes.replace(with: x, where: x .> highLanes)
                i += width
            }
            var low = lowLanes.min(), high = highLanes.max()
            for j in i..<n {
                p[j] = max(p[j], 0)
                low = min(low, p[j]); high = max(high, p[j])
            }
            let scale = 1e-7 + (high - low)
            for j in 0..<n { p[j] = (p[j] - low) / scale }
        }
    }

    /// The map on another grid (the input's, or the original scan's): resize, ReLU, min-max, as pytorch-grad-cam
    /// does after its first normalisation. `isEmpty`, `lowSignal` and `raw` stay those of the computed map.
    public func resized(to size: [Int], resampling: MapResampling = .linear) -> ActivationMap {
        precondition(size.count == shape.count, "a \(shape.count)-D map resizes to a \(shape.count)-D size")
        if size == shape { return self }
        var out = self
        out.shape = size
        out.values = MapResize.resize(values, from: shape, to: size, resampling: resampling)
        Self.reluMinMax(&out.values)
        return out
    }

    /// Index of the largest value, in row-major order over `shape` (the first one on ties, as NumPy's argmax).
    public var peakIndex: Int {
        values.withUnsafeBufferPointer { p in
            // The largest value, sixteen lanes at a time, then where it first occurs.
            guard let base = p.baseAddress, !p.isEmpty else { return 0 }
            var lanes = SIMD16<Float>(repeating: -.infinity), i = 0
            while i + 16 <= p.count {
                let x = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
                lanes.replace(with: x, where: x .> lanes)
                i += 16
            }
            var top = lanes.max()
            for j in i..<p.count { top = max(top, p[j]) }
            return p.firstIndex(of: top) ?? 0
        }
    }

    /// Row-major index → coordinates along `shape` (e.g. [row, col] or [slice, row, col]).
    public func coordinates(of index: Int) -> [Int] {
        var rest = index
        var result = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }
}

/// Minimum, maximum and mean of a signed raw map.
public struct RawStatistics: Sendable, Equatable, Codable {
    public var min: Float
    public var max: Float
    public var mean: Float

    public init(min: Float, max: Float, mean: Float) { self.min = min; self.max = max; self.mean = mean }

    init(_ values: [Float]) {
        var low = Float.infinity, high = -Float.infinity, sum = 0.0
        for v in values { low = Swift.min(low, v); high = Swift.max(high, v); sum += Double(v) }
        self.init(min: values.isEmpty ? 0 : low, max: values.isEmpty ? 0 : high,
                  mean: values.isEmpty ? 0 : Float(sum / Double(values.count)))
    }
}
