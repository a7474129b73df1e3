import Foundation

/// SplitMix64: small, fast and reproducible across platforms, so seeded runs repeat exactly.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one stream derived from a seed and a few counters (epoch, sample index), so that work
    /// done in any order or on any thread draws the same numbers.
    public init(seed: UInt64, stream: UInt64...) {
        var mixed = seed
        for value in stream {
            var g = SeededRandom(seed: mixed ^ (value &* 0x9E37_79B9_7F4A_7C15))
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

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }

    public mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        var t = Tensor.uninitialized(shape)
        t.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = normal() * scale } }
        return t
    }
}
