import CCUDA

/// Sizes of one convolution, as the CUDA kernels see it (2D as 3D with depth 1).
struct CUDAConvShape {
    let n, inC, outC, groups: Int
    let inSize: [Int], outSize: [Int]
    let geometry: WindowGeometry
    var cg: Int { inC / groups }
    var og: Int { outC / groups }
    var kernelVolume: Int { geometry.as3D.kernel.reduce(1, *) }
    var rows: Int { cg * kernelVolume }
    var inPlane: Int { inSize.reduce(1, *) }
    var outPlane: Int { outSize.reduce(1, *) }

    init(input: [Int], weight: [Int], geometry: WindowGeometry, groups: Int) {
        n = input[0]; inC = input[1]; outC = weight[0]; self.groups = groups
        self.geometry = geometry
        inSize = spatial3D(input)
        outSize = geometry.as3D.outputSize(inSize)
        precondition(weight[1] * groups == inC, "weight \(weight) does not fit \(inC) channels in \(groups) groups")
    }

    var outputShape: [Int] { [n, outC] + Array(outSize.suffix(geometry.kernel.count)) }

    /// Samples per column buffer: as many as fit `workspaceBytes` (whole batch where it can, for wide GEMMs).
    func chunk(workspaceBytes: Int) -> Int { max(1, min(n, workspaceBytes / max(1, 4 * rows * outPlane))) }

    func window(n0: Int, nb: Int, group: Int) -> CUDAWindow {
        var w = CUDAWindow(geometry: geometry, input: inSize, output: outSize)
        w.n0 = n0; w.nb = nb; w.channels = inC; w.groupChannels = cg; w.group = group
        return w
    }
}

/// Convolutions as im2col/vol2col + one cuBLAS GEMM per chunk of samples and group (columns of all samples of a
/// chunk side by side), then a pass that scatters the product into NCHW with bias and ReLU. Pointwise convolutions
/// skip the columns: one strided-batched GEMM over the samples, written in place.
extension CUDABackend {
    public func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry, groups: Int,
                            fuseReLU: Bool) -> Tensor {
        guarded("convolution", { () throws(CUDAError) in
            let s = CUDAConvShape(input: x.shape, weight: weight.shape, geometry: geometry, groups: groups)
            let px = try address(x), pw = try address(weight), pb = try address(bias)
            let (y, py) = try output(s.outputShape)
            let plane = s.outPlane
            if s.geometry.isPointwise && groups == 1 {
                // Y_n[O×P] = W[O×C] · X_n[C×P] for every sample n.
                try device.gemm(false, false, s.outC, plane, s.inC, pw, s.inC, px, plane, beta: 0, py, plane,
                                batch: s.n, strideA: 0, strideB: s.inC * plane, strideC: s.outC * plane)
                if pb != nil || fuseReLU { try affine(py, scale: nil, shift: pb, into: py, shape: y.shape, relu: fuseReLU) }
                return y
            }
            let chunk = s.chunk(workspaceBytes: configuration.workspaceBytes)
            try Self.checkSize(s.rows * chunk * plane)
            let col = try scratch(s.rows * chunk * plane)
            // One sample at a time the product already has the NCHW layout: write it in place.
            let direct = chunk == 1
            let product = direct ? nil : try scratch(s.og * chunk * plane)
            for n0 in stride(from: 0, to: s.n, by: chunk) {
                let nb = min(chunk, s.n - n0), width = nb * plane
                for g in 0..<groups {
                    try im2col(px, into: col.address, s.window(n0: n0, nb: nb, group: g), s)
                    let weights = pw.advanced(floats: g * s.og * s.rows)
                    if let product {
                        try device.gemm(false, false, s.og, width, s.rows, weights, s.rows, col.address, width, beta: 0, product.address, width)
                        try device.planar(.chunkToNCHW, columns: plane, rows: s.og, depth: nb, [
                            .pointer(product.address), .pointer(pb), .pointer(py), .int(n0), .int(nb), .int(s.og), .int(s.outC),
                            .int(g), .int(plane), .int(fuseReLU ? 1 : 0)])
                    } else {
                        let out = py.advanced(floats: (n0 * s.outC + g * s.og) * plane)
                        try device.gemm(false, false, s.og, plane, s.rows, weights, s.rows, col.address, plane, beta: 0, out, plane)
                    }
                }
            }
            if direct && (pb != nil || fuseReLU) { try affine(py, scale: nil, shift: pb, into: py, shape: y.shape, relu: fuseReLU) }
            return y
        }, cpu: { cpu.convolution(x, weight: weight, bias: bias, geometry: geometry, groups: groups, fuseReLU: fuseReLU) })
    }

    public func convolutionBackward(_ x: Tensor, weight: Tensor, outputGradient gy: Tensor, geometry: WindowGeometry,
                                    groups: Int, needInputGradient: Bool) -> (input: Tensor?, weight: Tensor, bias: Tensor) {
        guarded("convolutionBackward", { () throws(CUDAError) in
            let s = CUDAConvShape(input: x.shape, weight: weight.shape, geometry: geometry, groups: groups)
            let px = try address(x), pw = try address(weight), pg = try address(gy)
            let (gw, pgw) = try zeros(weight.shape)
            let gb = try channelSums(pg, shape: gy.shape)
            let gx = needInputGradient ? try output(x.shape) : nil
            let plane = s.outPlane
            let chunk = s.chunk(workspaceBytes: configuration.workspaceBytes)
            try Self.checkSize(s.rows * chunk * plane)
            let col = try scratch(s.rows * chunk * plane), gyMatrix = try scratch(s.og * chunk * plane)
            for n0 in stride(from: 0, to: s.n, by: chunk) {
                let nb = min(chunk, s.n - n0), width = nb * plane
                for g in 0..<groups {
                    let w = s.window(n0: n0, nb: nb, group: g)
                    let weights = pw.advanced(floats: g * s.og * s.rows)
                    try im2col(px, into: col.address, w, s)
                    try device.planar(.nchwToChunk, columns: plane, rows: s.og, depth: nb, [
                        .pointer(pg), .pointer(gyMatrix.address), .int(n0), .int(nb), .int(s.og), .int(s.outC), .int(g), .int(plane)])
                    // dW_g += dY_g · colᵀ
                    try device.gemm(false, true, s.og, s.rows, width, gyMatrix.address, width, col.address, width, beta: 1,
                                    pgw.advanced(floats: g * s.og * s.rows), s.rows)
                    if let (_, pgx) = gx {
                        // dcol = W_gᵀ · dY_g, gathered back into the input gradient.
                        try device.gemm(true, false, s.rows, width, s.og, weights, s.rows, gyMatrix.address, width, beta: 0, col.address, width)
                        try device.planar(.col2im, columns: s.inSize[1] * s.inSize[2], rows: s.cg, depth: nb * s.inSize[0],
                                          [.pointer(col.address), .pointer(pgx), .window(w)])
                    }
                }
            }
            return (gx?.0, gw, gb)
        }, cpu: {
            cpu.convolutionBackward(x, weight: weight, outputGradient: gy, geometry: geometry, groups: groups,
                                    needInputGradient: needInputGradient)
        })
    }

    private func im2col(_ x: CUdeviceptr, into col: CUdeviceptr, _ w: CUDAWindow, _ s: CUDAConvShape) throws(CUDAError) {
        try device.planar(.im2col, columns: s.outSize[1] * s.outSize[2], rows: s.rows, depth: w.nb * s.outSize[0],
                          [.pointer(x), .pointer(col), .window(w)])
    }

    /// Σ over batch and space per channel of an N×C×… tensor (the bias gradient).
    func channelSums(_ t: CUdeviceptr, shape: [Int]) throws(CUDAError) -> Tensor {
        let c = shape[1]
        let sums = try reduceChannels(.sum, a: t, shape: shape)
        let (out, po) = try output([c])
        try device.elementwise(.sumsToFloat, count: c, [.pointer(sums.address), .pointer(po), .pointer(nil), .int(c)])
        return out
    }

    /// ml_channel_reduce into 2·C zeroed doubles.
    func reduceChannels(_ mode: CUDAKernel.ReduceMode, a: CUdeviceptr, b: CUdeviceptr? = nil, center: CUdeviceptr? = nil,
                        scale: CUdeviceptr? = nil, shape: [Int]) throws(CUDAError) -> CUDABuffer {
        let n = shape[0], c = shape[1], plane = shape.reduce(1, *) / max(1, n * c)
        let sums = try scratch(2 * c, doubles: true)
        try device.zero(sums.address, words: 4 * c)
        guard n * plane > 0 else { return sums }
        // Enough blocks to fill the device: channels × a share of the samples each.
        let samples = max(1, min(n, device.multiprocessors * 8 / max(1, c)))
        try device.launch(.channelReduce, grid: (c, samples, 1), [
            .pointer(a), .pointer(b), .pointer(center), .pointer(scale), .pointer(sums.address), .int(n), .int(c),
            .int(plane), .int(mode.rawValue)])
        return sums
    }
}
