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
                // Two passes (mean, then centred squares) in Double keep the variance accurate.
                var s = 0.0
                for b in 0..<n { let row = px + (b * c + ch) * plane; for i in 0..<plane { s += Double(row[i]) } }
                let mu = s / Double(m)
                var v = 0.0
                for b in 0..<n {
                    let row = px + (b * c + ch) * plane
                    for i in 0..<plane { let d = Double(row[i]) - mu; v += d * d }
                }
                v /= Double(m)
                let is_ = Float(1 / (v + Double(eps)).squareRoot())
                mean.ptr[ch] = Float(mu); inv.ptr[ch] = is_; variance.ptr[ch] = Float(v)
                let scale = gamma.ptr[ch] * is_, shift = beta.ptr[ch] - Float(mu) * scale
                for b in 0..<n {
                    let off = (b * c + ch) * plane
                    for i in 0..<plane { po[off + i] = px[off + i] * scale + shift }
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
                // Blocks of 256 summed in Float, the blocks in Double, rather than one Float running sum over the
                // n·plane terms of a channel.
                var sumG = 0.0, sumGX = 0.0
                for b in 0..<n {
                    let g = pg + (b * c + ch) * plane, xs = px + (b * c + ch) * plane
                    var i = 0
                    while i < plane {
                        let end = min(plane, i + 256)
                        var sg: Float = 0, sgx: Float = 0
                        for j in i..<end { sg += g[j]; sgx += g[j] * (xs[j] - mu) }
                        sumG += Double(sg)
                        sumGX += Double(sgx)
                        i = end
                    }
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
