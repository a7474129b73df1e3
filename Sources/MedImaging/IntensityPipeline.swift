import Foundation

/// The intensity steps a model expects, in order. A model package states it in JSON, for example
/// `{"steps": [{"op": "percentile_clip", "lower": 0.5, "upper": 99.5}, {"op": "min_max"},
///  {"op": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}]}`.
public struct IntensityPipeline: Sendable, Equatable, Codable {
    public var steps: [IntensityStep]

    public init(_ steps: [IntensityStep]) { self.steps = steps }

    public func apply(to volume: inout Volume) throws(IntakeError) {
        for step in steps { try step.apply(to: &volume) }
    }

    public func applied(to volume: Volume) throws(IntakeError) -> Volume {
        var copy = volume
        try apply(to: &copy)
        return copy
    }
}

public enum IntensityStep: Sendable, Equatable {
    /// DICOM linear VOI window (PS3.3 C.11.2.1.2.1) onto 0...1; without centre/width, the image's own VOI:
    /// its VOI LUT Sequence if it has one (scaled by the LUT's bit depth), else its first window.
    case window(center: Double?, width: Double?)
    /// (x - min) / (max - min) over the whole volume; a constant volume becomes 0.
    case minMax
    /// (x - mean) / std with the volume's own statistics (population std), per channel or over all.
    case zScore(perChannel: Bool)
    /// (x - mean[c]) / std[c] with fixed per-channel values (ImageNet style); one value applies to all channels.
    case normalize(mean: [Float], std: [Float])
    /// Clips to the given percentiles (0...100, NumPy's linear interpolation) of the whole volume.
    case percentileClip(lower: Double, upper: Double)
    /// x * factor + offset, e.g. 1/255 for 8-bit photographs.
    case scale(factor: Float, offset: Float)
    /// sign(x) * |x|^exponent: OCT reflectivity is shown and often modelled as its 4th root (exponent 0.25).
    case power(exponent: Float)

    func apply(to volume: inout Volume) throws(IntakeError) {
        switch self {
        case let .window(center, width):
            if center == nil, width == nil, let lut = volume.metadata.voiLUT {
                let top = Float((1 << min(lut.bits, 16)) - 1)
                volume.transformVoxels { lut.lookup($0) / top }
                return
            }
            guard let window = center.flatMap({ c in width.map { Window(center: c, width: $0) } }) ?? volume.metadata.windows.first else {
                throw IntakeError(.invalidAttribute, "window step without centre/width, and the image states no window")
            }
            guard window.width >= 1 else { throw IntakeError(.invalidAttribute, "window width \(window.width) is below 1") }
            let low = Float(window.center - 0.5 - (window.width - 1) / 2), high = Float(window.center - 0.5 + (window.width - 1) / 2)
            let centre = Float(window.center - 0.5), span = Float(window.width - 1)
            volume.transformVoxels { $0 <= low ? 0 : $0 > high ? 1 : ($0 - centre) / span + 0.5 }
        case .minMax:
            let (low, high) = volume.voxels.withUnsafeBufferPointer(Self.extrema)
            let range = high - low
            volume.transformVoxels { range > 0 ? ($0 - low) / range : 0 }
        case let .zScore(perChannel):
            let groups = perChannel ? volume.shape.channels : 1
            let stride = volume.voxels.count / groups
            for group in 0..<groups {
                let range = (group * stride)..<((group + 1) * stride)
                let (mean, std) = volume.voxels.withUnsafeBufferPointer { Self.meanAndStd(UnsafeBufferPointer(rebasing: $0[range])) }
                volume.transformVoxels(in: range) { std > 0 ? ($0 - mean) / std : $0 - mean }
            }
        case let .normalize(mean, std):
            let channels = volume.shape.channels
            guard !mean.isEmpty, mean.count == std.count, mean.count == 1 || mean.count == channels, std.allSatisfy({ $0 != 0 }) else {
                throw IntakeError(.invalidAttribute, "normalize needs 1 or \(channels) non-zero std values and as many means")
            }
            let stride = volume.voxels.count / channels
            for channel in 0..<channels {
                let m = mean[mean.count == 1 ? 0 : channel], s = std[std.count == 1 ? 0 : channel]
                volume.transformVoxels(in: (channel * stride)..<((channel + 1) * stride)) { ($0 - m) / s }
            }
        case let .percentileClip(lower, upper):
            guard 0 <= lower, lower <= upper, upper <= 100 else {
                throw IntakeError(.invalidAttribute, "percentiles \(lower), \(upper) are not 0 <= lower <= upper <= 100")
            }
            var scratch = volume.voxels
            let (low, high) = scratch.withUnsafeMutableBufferPointer { (Self.percentile($0, lower), Self.percentile($0, upper)) }
            volume.transformVoxels { min(max($0, low), high) }
        case let .scale(factor, offset):
            volume.transformVoxels { $0 * factor + offset }
        case let .power(exponent):
            guard exponent.isFinite, exponent > 0 else { throw IntakeError(.invalidAttribute, "power exponent \(exponent) is not positive") }
            volume.transformVoxels { $0 < 0 ? -Foundation.pow(-$0, exponent) : Foundation.pow($0, exponent) }
        }
    }

    static func extrema(_ values: UnsafeBufferPointer<Float>) -> (Float, Float) {
        var low = Float.infinity, high = -Float.infinity
        for v in values { low = min(low, v); high = max(high, v) }
        return values.isEmpty ? (0, 0) : (low, high)
    }

    /// Accumulates in Double: a 10^8-voxel volume would lose digits in Float.
    static func meanAndStd(_ values: UnsafeBufferPointer<Float>) -> (Float, Float) {
        guard !values.isEmpty else { return (0, 0) }
        var sum = 0.0
        for v in values { sum += Double(v) }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for v in values { let d = Double(v) - mean; squares += d * d }
        return (Float(mean), Float((squares / Double(values.count)).squareRoot()))
    }

    /// NumPy's default ("linear") percentile. Selects the two order statistics it needs in linear time instead of
    /// sorting (a 16M-voxel volume took 1.3 s to sort); reorders `values`.
    static func percentile(_ values: UnsafeMutableBufferPointer<Float>, _ p: Double) -> Float {
        guard !values.isEmpty else { return 0 }
        let position = p / 100 * Double(values.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, values.count - 1)
        let low = select(values, below)
        // After selecting `below`, everything after it is >= it, so the next order statistic is their minimum.
        let high = above == below ? low : UnsafeMutableBufferPointer(rebasing: values[above...]).min()!
        return low + (high - low) * Float(position - Double(below))
    }

    /// The k-th smallest value (Hoare's quickselect, median-of-three pivots); partially reorders `values`.
    static func select(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
        var left = 0, right = values.count - 1
        while left < right {
            let middle = left + (right - left) / 2
            let pivot = max(min(values[left], values[middle]), min(max(values[left], values[middle]), values[right]))
            var i = left, j = right
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { right = j } else if k >= i { left = i } else { break }
        }
        return values[k]
    }
}

extension Volume {
    /// Applies `transform` to every voxel (or those in `range`) in place, without per-element allocation.
    mutating func transformVoxels(in range: Range<Int>? = nil, _ transform: (Float) -> Float) {
        let bounds = range ?? voxels.indices
        voxels.withUnsafeMutableBufferPointer { buffer in
            for i in bounds { buffer[i] = transform(buffer[i]) }
        }
    }
}

/// JSON form: an object with "op" naming the step and its parameters beside it.
extension IntensityStep: Codable {
    private enum Key: String, CodingKey { case op, center, width, perChannel = "per_channel", mean, std, lower, upper, factor, offset, exponent }
    private enum Op: String, Codable {
        case window, minMax = "min_max", zScore = "z_score", normalize, percentileClip = "percentile_clip", scale, power
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(Op.self, forKey: .op) {
        case .window: self = .window(center: try c.decodeIfPresent(Double.self, forKey: .center), width: try c.decodeIfPresent(Double.self, forKey: .width))
        case .minMax: self = .minMax
        case .zScore: self = .zScore(perChannel: try c.decodeIfPresent(Bool.self, forKey: .perChannel) ?? false)
        case .normalize: self = .normalize(mean: try c.decode([Float].self, forKey: .mean), std: try c.decode([Float].self, forKey: .std))
        case .percentileClip: self = .percentileClip(lower: try c.decode(Double.self, forKey: .lower), upper: try c.decode(Double.self, forKey: .upper))
        case .scale: self = .scale(factor: try c.decode(Float.self, forKey: .factor), offset: try c.decodeIfPresent(Float.self, forKey: .offset) ?? 0)
        case .power: self = .power(exponent: try c.decode(Float.self, forKey: .exponent))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .window(center, width):
            try c.encode(Op.window, forKey: .op); try c.encodeIfPresent(center, forKey: .center); try c.encodeIfPresent(width, forKey: .width)
        case .minMax: try c.encode(Op.minMax, forKey: .op)
        case let .zScore(perChannel): try c.encode(Op.zScore, forKey: .op); try c.encode(perChannel, forKey: .perChannel)
        case let .normalize(mean, std): try c.encode(Op.normalize, forKey: .op); try c.encode(mean, forKey: .mean); try c.encode(std, forKey: .std)
        case let .percentileClip(lower, upper):
            try c.encode(Op.percentileClip, forKey: .op); try c.encode(lower, forKey: .lower); try c.encode(upper, forKey: .upper)
        case let .scale(factor, offset): try c.encode(Op.scale, forKey: .op); try c.encode(factor, forKey: .factor); try c.encode(offset, forKey: .offset)
        case let .power(exponent): try c.encode(Op.power, forKey: .op); try c.encode(exponent, forKey: .exponent)
        }
    }
}
