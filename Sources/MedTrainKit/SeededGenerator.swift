/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so that splits, shuffles and
/// augmentations repeat exactly across runs and platforms (the system generator is not seedable).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one stream derived from a seed and a few counters (epoch, sample index), so that work done
    /// in any order or on any thread draws the same numbers.
    public init(seed: UInt64, stream: UInt64...) {
        var mixed = seed
        for value in stream {
            var g = SeededGenerator(seed: mixed ^ (value &* 0x9E37_79B9_7F4A_7C15))
            mixed = g.next()
        }
        state = mixed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
}
