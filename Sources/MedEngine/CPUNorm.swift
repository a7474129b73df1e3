import Foundation

extension CPUBackend {
    public func batchNormTrain(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, invStd: Tensor, variance: Tensor) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / (n * c), m = Float(n * plane)
        let mean = Tensor.uninitialized([c]), inv = Tensor.uninitialized([c]), variance = Tensor.uninitialized([c])
        let out = Tensor.uninitialized(x.shape)
        let px = x.ptr, po = out.ptr
        Parallel.forEach(c, cost: n * plane) { r in
            for ch in r {
                // Two passes (mean, then centred squares) keep the variance accurate.
                var s = 0.0
                for b in 0..<n {
                    let row = px + (b * c + ch) * plane
                    s += blockedSum(plane, { load8(row + $0) }, { row[$0] })
                }
                let mu = s / Double(m), muF = Float(mu)
                var v = 0.0
                for b in 0..<n {
                    let row = px + (b * c + ch) * plane
                    v += blockedSum(plane, { let d = load8(row + $0) - muF; return d * d }, { let d = row[$0] - muF; return d * d })
                }
                v /= Double(m)
                let is_ = Float(1 / (v + Double(eps)).squareRoot())
                mean.ptr[ch] = Float(mu); inv.ptr[ch] = is_; variance.ptr[ch] = Float(v)
                let scale = gamma.ptr[ch] * is_, shift = beta.ptr[ch] - Float(mu) * scale
                for b in 0..<n {
                    let src = px + (b * c + ch) * plane, dst = po + (b * c + ch) * plane
                    for i in 0..<plane { dst[i] = src[i] * scale + shift }
                }
            }
        }
        return (out, mean, inv, variance)
    }

    public func batchNormBackward(_ x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor, outputGradient gy: Tensor)
        -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / (n * c), m = Float(n * plane)
        let gx = Tensor.uninitialized(x.shape), gg = Tensor.uninitialized([c]), gbeta = Tensor.uninitialized([c])
        let px = x.ptr, pg = gy.ptr, po = gx.ptr
        Parallel.forEach(c, cost: n * plane) { r in
            for ch in r {
                let mu = mean.ptr[ch], is_ = invStd.ptr[ch]
                var sumG = 0.0, sumGX = 0.0
                for b in 0..<n {
                    let g = pg + (b * c + ch) * plane, xs = px + (b * c + ch) * plane
                    sumG += blockedSum(plane, { load8(g + $0) }, { g[$0] })
                    sumGX += blockedSum(plane, { load8(g + $0) * (load8(xs + $0) - mu) }, { g[$0] * (xs[$0] - mu) })
                }
                let sG = Float(sumG), sGX = Float(sumGX) * is_
                gg.ptr[ch] = sGX; gbeta.ptr[ch] = sG
                let k = gamma.ptr[ch] * is_ / m
                for b in 0..<n {
                    let g = pg + (b * c + ch) * plane, xs = px + (b * c + ch) * plane, out = po + (b * c + ch) * plane
                    for i in 0..<plane { out[i] = k * (m * g[i] - sG - (xs[i] - mu) * is_ * sGX) }
                }
            }
        }
        return (gx, gg, gbeta)
    }

    public func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor, fuseReLU: Bool) -> Tensor {
        let c = x.shape[1], plane = x.count / (x.shape[0] * c)
        let out = Tensor.uninitialized(x.shape)
        let px = x.ptr, po = out.ptr
        Parallel.forEach(x.shape[0] * c, cost: plane) { r in
            for job in r {
                // Offset pointers and a plain 0..<plane loop: indexing with `off + i` keeps Swift's overflow
                // check in the loop, which stops the vectoriser (measured 4x slower).
                let a = scale.ptr[job % c], b = shift.ptr[job % c], src = px + job * plane, dst = po + job * plane
                if fuseReLU {
                    for i in 0..<plane { dst[i] = max(src[i] * a + b, 0) }
                } else {
                    for i in 0..<plane { dst[i] = src[i] * a + b }
                }
            }
        }
        return out
    }
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Σ term(i) over 0..<count: SIMD8 Float partial sums per block of 256 values, the blocks added in Double.
/// SSE at the baseline ISA (a scalar Float running sum was one dependent add per value), rounding close to a
/// Double sum. `vector(i)` gives terms i..<i+8, `scalar(i)` term i for the tail.
@inline(__always) private func blockedSum(_ count: Int, _ vector: (Int) -> SIMD8<Float>, _ scalar: (Int) -> Float) -> Double {
    var total = 0.0, i = 0
    while i + 8 <= count {
        let end = min(count - 7, i + 256)
        var acc = SIMD8<Float>.zero
        while i < end { acc += vector(i); i += 8 }
        total += Double(acc.sum())
    }
    var tail: Float = 0
    while i < count { tail += scalar(i); i += 1 }
    return total + Double(tail)
}
