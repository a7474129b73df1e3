import CCUDA

extension CUDABackend {
    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        guarded("matmul", { () throws(CUDAError) in
            let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
            let n = transposeB ? b.shape[0] : b.shape[1]
            precondition((transposeB ? b.shape[1] : b.shape[0]) == k, "matmul shapes \(a.shape) \(b.shape)")
            let pa = try address(a), pb = try address(b)
            let (c, pc) = try output([m, n])
            if k == 0 { try device.zero(pc, words: m * n) }
            try device.gemm(transposeA, transposeB, m, n, k, pa, a.shape[1], pb, b.shape[1], beta: 0, pc, n)
            return c
        }, cpu: { cpu.matmul(a, b, transposeA: transposeA, transposeB: transposeB) })
    }

    public func axpby(_ a: Tensor, alpha: Float, _ b: Tensor, beta: Float) -> Tensor {
        guarded("axpby", { () throws(CUDAError) in
            precondition(a.count == b.count, "shapes \(a.shape) and \(b.shape) differ")
            let pa = try address(a), pb = try address(b)
            let (y, py) = try output(a.shape)
            try device.elementwise(.axpby, count: a.count, [.pointer(pa), .pointer(pb), .pointer(py), .float(alpha), .float(beta), .int(a.count)])
            return y
        }, cpu: { cpu.axpby(a, alpha: alpha, b, beta: beta) })
    }

    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        guarded("multiply", { () throws(CUDAError) in
            precondition(a.count == b.count)
            let pa = try address(a), pb = try address(b)
            let (y, py) = try output(a.shape)
            try device.elementwise(.multiply, count: a.count, [.pointer(pa), .pointer(pb), .pointer(py), .int(a.count)])
            return y
        }, cpu: { cpu.multiply(a, b) })
    }

    public func addRowBias(_ x: Tensor, bias: Tensor) -> Tensor {
        guarded("addRowBias", { () throws(CUDAError) in
            let rows = x.shape[0], cols = x.count / max(rows, 1)
            let px = try address(x), pb = try address(bias)
            let (y, py) = try output(x.shape)
            try device.planar(.rowBias, columns: cols, rows: rows, [.pointer(px), .pointer(pb), .pointer(py), .int(cols), .int(rows)])
            return y
        }, cpu: { cpu.addRowBias(x, bias: bias) })
    }

    public func sumRows(_ x: Tensor) -> Tensor {
        guarded("sumRows", { () throws(CUDAError) in
            let rows = x.shape[0], cols = x.count / max(rows, 1)
            let px = try address(x)
            let (y, py) = try output([cols])
            try device.elementwise(.sumRows, count: cols, [.pointer(px), .pointer(py), .int(rows), .int(cols)])
            return y
        }, cpu: { cpu.sumRows(x) })
    }

    public func concatChannels(_ parts: [Tensor]) -> Tensor {
        guarded("concatChannels", { () throws(CUDAError) in
            let n = parts[0].shape[0], inner = parts[0].count / (n * parts[0].shape[1])
            var shape = parts[0].shape
            shape[1] = parts.reduce(0) { $0 + $1.shape[1] }
            let (out, po) = try output(shape)
            var offset = 0
            for part in parts {
                let c = part.shape[1]
                try copyChannels(from: try address(part), channels: c, offset: 0, to: po, channels: shape[1], offset: offset,
                                 count: c, samples: n, inner: inner)
                offset += c
            }
            return out
        }, cpu: { cpu.concatChannels(parts) })
    }

    public func splitChannels(_ x: Tensor, sizes: [Int]) -> [Tensor] {
        guarded("splitChannels", { () throws(CUDAError) in
            let n = x.shape[0], total = x.shape[1], inner = x.count / (n * total)
            let px = try address(x)
            var start = 0, parts: [Tensor] = []
            for c in sizes {
                var shape = x.shape
                shape[1] = c
                let (part, pp) = try output(shape)
                try copyChannels(from: px, channels: total, offset: start, to: pp, channels: c, offset: 0, count: c,
                                 samples: n, inner: inner)
                parts.append(part)
                start += c
            }
            return parts
        }, cpu: { cpu.splitChannels(x, sizes: sizes) })
    }

    private func copyChannels(from src: CUdeviceptr, channels srcChannels: Int, offset srcOffset: Int, to dst: CUdeviceptr,
                              channels dstChannels: Int, offset dstOffset: Int, count: Int, samples: Int, inner: Int) throws(CUDAError) {
        try device.planar(.copyChannels, columns: count * inner, rows: samples, [
            .pointer(src), .pointer(dst), .int(srcChannels), .int(srcOffset), .int(dstChannels), .int(dstOffset), .int(count),
            .int(inner), .int(samples)])
    }

    public func activation(_ kind: Activation, _ x: Tensor) -> Tensor {
        guarded("activation", { () throws(CUDAError) in
            let px = try address(x)
            let (y, py) = try output(x.shape)
            try device.elementwise(.activation, count: x.count, [.pointer(px), .pointer(py), .int(kind.kernelCode), .int(x.count)])
            return y
        }, cpu: { cpu.activation(kind, x) })
    }

    public func activationBackward(_ kind: Activation, input: Tensor, output y: Tensor, outputGradient: Tensor) -> Tensor {
        guarded("activationBackward", { () throws(CUDAError) in
            let px = try address(input), py = try address(y), pg = try address(outputGradient)
            let (gx, pgx) = try output(input.shape)
            try device.elementwise(.activationBackward, count: input.count,
                                   [.pointer(px), .pointer(py), .pointer(pg), .pointer(pgx), .int(kind.kernelCode), .int(input.count)])
            return gx
        }, cpu: { cpu.activationBackward(kind, input: input, output: y, outputGradient: outputGradient) })
    }

    public func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor, fuseReLU: Bool) -> Tensor {
        guarded("channelAffine", { () throws(CUDAError) in
            let px = try address(x), ps = try address(scale), pb = try address(shift)
            let (y, py) = try output(x.shape)
            try affine(px, scale: ps, shift: pb, into: py, shape: x.shape, relu: fuseReLU)
            return y
        }, cpu: { cpu.channelAffine(x, scale: scale, shift: shift, fuseReLU: fuseReLU) })
    }

    /// y = x·scale[c] + shift[c] (nil: 1 and 0), then ReLU; `y` may be `x`.
    func affine(_ x: CUdeviceptr, scale: CUdeviceptr?, shift: CUdeviceptr?, into y: CUdeviceptr, shape: [Int], relu: Bool) throws(CUDAError) {
        let rows = shape[0] * shape[1], plane = shape.reduce(1, *) / max(1, rows)
        try device.planar(.channelAffine, columns: plane, rows: rows, [.pointer(x), .pointer(scale), .pointer(shift), .pointer(y),
                                                                       .int(shape[1]), .int(plane), .int(relu ? 1 : 0), .int(rows)])
    }
}

extension Activation {
    /// The `kind` argument of ml_activation.
    var kernelCode: Int {
        switch self {
        case .relu: return 0
        case .sigmoid: return 1
        case .gelu: return 2
        case .silu: return 3
        }
    }
}
