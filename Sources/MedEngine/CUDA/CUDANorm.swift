import CCUDA

/// Batch-norm as a per-channel reduction (double accumulators, shifted by each channel's first value) and one
/// elementwise pass, in the CPU backend's formulas.
extension CUDABackend {
    public func batchNormTrain(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, invStd: Tensor, variance: Tensor) {
        guarded("batchNormTrain", { () throws(CUDAError) in
            let c = x.shape[1], plane = x.count / (x.shape[0] * c)
            let px = try address(x), pgamma = try address(gamma), pbeta = try address(beta)
            let sums = try reduceChannels(.statistics, a: px, shape: x.shape)
            let (mean, pm) = try output([c]), (inv, pi) = try output([c]), (variance, pv) = try output([c])
            let scale = try scratch(c), shift = try scratch(c)
            try device.elementwise(.batchNormStatistics, count: c, [
                .pointer(sums.address), .pointer(px), .pointer(pgamma), .pointer(pbeta), .pointer(pm), .pointer(pi), .pointer(pv),
                .pointer(scale.address), .pointer(shift.address), .int(c), .int(plane), .double(Double(x.count / c)), .float(eps)])
            let (y, py) = try output(x.shape)
            try affine(px, scale: scale.address, shift: shift.address, into: py, shape: x.shape, relu: false)
            return (y, mean, inv, variance)
        }, cpu: { cpu.batchNormTrain(x, gamma: gamma, beta: beta, eps: eps) })
    }

    public func batchNormBackward(_ x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor, outputGradient gy: Tensor)
        -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        guarded("batchNormBackward", { () throws(CUDAError) in
            let c = x.shape[1], plane = x.count / (x.shape[0] * c)
            let px = try address(x), pg = try address(gy), pgamma = try address(gamma)
            let pm = try address(mean), pi = try address(invStd)
            let sums = try reduceChannels(.batchNormGradient, a: px, b: pg, center: pm, scale: pi, shape: x.shape)
            let (gGamma, pgg) = try output([c]), (gBeta, pgb) = try output([c])
            try device.elementwise(.sumsToFloat, count: c, [.pointer(sums.address), .pointer(pgb), .pointer(pgg), .int(c)])
            let (gx, pgx) = try output(x.shape)
            try device.planar(.batchNormBackward, columns: plane, rows: x.shape[0] * c, [
                .pointer(px), .pointer(pg), .pointer(pm), .pointer(pi), .pointer(pgamma), .pointer(sums.address), .pointer(pgx),
                .int(c), .int(plane), .float(Float(x.count / c)), .int(x.shape[0] * c)])
            return (gx, gGamma, gBeta)
        }, cpu: { cpu.batchNormBackward(x, gamma: gamma, mean: mean, invStd: invStd, outputGradient: gy) })
    }
}
