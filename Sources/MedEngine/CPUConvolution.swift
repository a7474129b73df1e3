import Foundation

/// im2col + sgemm convolution over (D, H, W); 2D convolutions run with depth 1.
struct ConvPlan {
    let n, inC, outC, groups: Int
    let inSize: [Int], outSize: [Int]
    let g: WindowGeometry
    var cg: Int { inC / groups }
    var og: Int { outC / groups }
    var kernelVolume: Int { g.kernel.reduce(1, *) }
    var rows: Int { cg * kernelVolume }
    var inPlane: Int { inSize.reduce(1, *) }
    var outPlane: Int { outSize.reduce(1, *) }
    /// Samples per GEMM: batching small images makes the GEMM wide enough to use both cores well,
    /// capped so the column buffer stays near 16 MB.
    var chunk: Int { max(1, min(n, (4 << 20) / max(1, rows * outPlane))) }

    init(input: [Int], weight: [Int], geometry: WindowGeometry, groups: Int) {
        n = input[0]; inC = input[1]; outC = weight[0]; self.groups = groups
        g = geometry.as3D
        inSize = spatial3D(input)
        outSize = g.outputSize(inSize)
        precondition(weight[1] * groups == inC, "weight \(weight) does not fit \(inC) channels in \(groups) groups")
    }

    /// Writes rows×(nb·outPlane) columns for samples [n0, n0+nb) of group `group`.
    func im2col(_ x: UnsafeMutablePointer<Float>, n0: Int, nb: Int, group: Int, into col: UnsafeMutablePointer<Float>) {
        let ld = nb * outPlane
        let (kH, kW) = (g.kernel[1], g.kernel[2])
        let (oD, oH, oW) = (outSize[0], outSize[1], outSize[2])
        let (iD, iH, iW) = (inSize[0], inSize[1], inSize[2])
        Parallel.forEach(rows * nb, cost: outPlane) { range in
            for job in range {
                let row = job / nb, j = job % nb
                let c = row / kernelVolume, kk = row % kernelVolume
                let kd = kk / (kH * kW), kh = (kk / kW) % kH, kw = kk % kW
                let src = x + ((n0 + j) * inC + group * cg + c) * inPlane
                var dst = col + row * ld + j * outPlane
                for od in 0..<oD {
                    let id = od * g.stride[0] - g.padding[0] + kd * g.dilation[0]
                    for oh in 0..<oH {
                        let ih = oh * g.stride[1] - g.padding[1] + kh * g.dilation[1]
                        if id < 0 || id >= iD || ih < 0 || ih >= iH {
                            dst.initialize(repeating: 0, count: oW)
                        } else {
                            let line = src + (id * iH + ih) * iW
                            let off = kw * g.dilation[2] - g.padding[2], sw = g.stride[2]
                            let (lo, hi) = validRange(offset: off, stride: sw, input: iW, output: oW)
                            dst.initialize(repeating: 0, count: lo)
                            if sw == 1 {
                                (dst + lo).update(from: line + lo + off, count: hi - lo)
                            } else {
                                for ow in lo..<hi { dst[ow] = line[ow * sw + off] }
                            }
                            (dst + hi).initialize(repeating: 0, count: oW - hi)
                        }
                        dst += oW
                    }
                }
            }
        }
    }

    /// Accumulates columns back into the input gradient (the adjoint of im2col).
    func col2im(_ col: UnsafeMutablePointer<Float>, n0: Int, nb: Int, group: Int, into dx: UnsafeMutablePointer<Float>) {
        let ld = nb * outPlane
        let (kH, kW) = (g.kernel[1], g.kernel[2])
        let (oD, oH, oW) = (outSize[0], outSize[1], outSize[2])
        let (iD, iH, iW) = (inSize[0], inSize[1], inSize[2])
        // One job per (sample, channel): jobs write disjoint input planes.
        Parallel.forEach(cg * nb, cost: kernelVolume * outPlane) { range in
            for job in range {
                let c = job / nb, j = job % nb
                let dst = dx + ((n0 + j) * inC + group * cg + c) * inPlane
                for kk in 0..<kernelVolume {
                    let kd = kk / (kH * kW), kh = (kk / kW) % kH, kw = kk % kW
                    var src = col + (c * kernelVolume + kk) * ld + j * outPlane
                    for od in 0..<oD {
                        let id = od * g.stride[0] - g.padding[0] + kd * g.dilation[0]
                        for oh in 0..<oH {
                            let ih = oh * g.stride[1] - g.padding[1] + kh * g.dilation[1]
                            if id >= 0 && id < iD && ih >= 0 && ih < iH {
                                let line = dst + (id * iH + ih) * iW
                                let off = kw * g.dilation[2] - g.padding[2], sw = g.stride[2]
                                let (lo, hi) = validRange(offset: off, stride: sw, input: iW, output: oW)
                                for ow in lo..<hi { line[ow * sw + off] += src[ow] }
                            }
                            src += oW
                        }
                    }
                }
            }
        }
    }

    /// Copies group `group` of samples [n0, n0+nb) of an N×C×plane tensor to/from a C_g×(nb·plane) matrix.
    func pack(_ t: UnsafeMutablePointer<Float>, channels: Int, perGroup: Int, plane: Int, n0: Int, nb: Int, group: Int,
              matrix: UnsafeMutablePointer<Float>, toMatrix: Bool) {
        for c in 0..<perGroup {
            for j in 0..<nb {
                let tp = t + ((n0 + j) * channels + group * perGroup + c) * plane
                let mp = matrix + c * nb * plane + j * plane
                if toMatrix { mp.update(from: tp, count: plane) } else { tp.update(from: mp, count: plane) }
            }
        }
    }
}

/// The output columns [lo, hi) whose input column ow·stride + offset lies inside [0, input): the rest read padding.
@inline(__always)
func validRange(offset: Int, stride: Int, input: Int, output: Int) -> (Int, Int) {
    let lo = offset >= 0 ? 0 : min(output, (-offset + stride - 1) / stride)
    let last = input - 1 - offset
    let hi = last < 0 ? lo : max(lo, min(output, last / stride + 1))
    return (lo, hi)
}

extension CPUBackend {
    public func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry, groups: Int,
                            fuseReLU: Bool) -> Tensor {
        let p = ConvPlan(input: x.shape, weight: weight.shape, geometry: geometry, groups: groups)
        let outShape = [p.n, p.outC] + Array(p.outSize.suffix(geometry.kernel.count))
        return CPUKernels.convolution(x, weight: weight, bias: bias, plan: p, fuseReLU: fuseReLU, outShape: outShape)
            ?? gemmConvolution(x, weight: weight, bias: bias, plan: p, fuseReLU: fuseReLU, outShape: outShape)
    }

    /// im2col + sgemm: the path for CPUs without the SIMD kernels, and their reference in tests.
    func gemmConvolution(_ x: Tensor, weight: Tensor, bias: Tensor?, plan p: ConvPlan, fuseReLU: Bool,
                         outShape: [Int]) -> Tensor {
        let out = Tensor.uninitialized(outShape)
        // 1×1 stride-1 convolutions of one sample read the input directly: no im2col.
        let direct = p.g.isPointwise && p.groups == 1 && p.chunk == 1
        Workspace.with(direct ? 1 : p.rows * p.chunk * p.outPlane) { col in
            Workspace.with(p.chunk > 1 ? p.og * p.chunk * p.outPlane : 1) { tmp in
                var n0 = 0
                while n0 < p.n {
                    let nb = min(p.chunk, p.n - n0)
                    for grp in 0..<p.groups {
                        let w = weight.ptr + grp * p.og * p.rows
                        var b = x.ptr + n0 * p.inC * p.inPlane
                        if !direct {
                            p.im2col(x.ptr, n0: n0, nb: nb, group: grp, into: col)
                            b = col
                        }
                        if nb == 1 {
                            gemm(false, false, p.og, p.outPlane, p.rows, w, p.rows, b, p.outPlane, 0,
                                 out.ptr + (n0 * p.outC + grp * p.og) * p.outPlane, p.outPlane)
                        } else {
                            gemm(false, false, p.og, nb * p.outPlane, p.rows, w, p.rows, b, nb * p.outPlane, 0, tmp, nb * p.outPlane)
                            p.pack(out.ptr, channels: p.outC, perGroup: p.og, plane: p.outPlane, n0: n0, nb: nb, group: grp,
                                   matrix: tmp, toMatrix: false)
                        }
                    }
                    n0 += nb
                }
            }
        }
        if bias != nil || fuseReLU { biasReLU(out, bias: bias, relu: fuseReLU) }
        return out
    }

    /// The conv epilogue: per-channel bias, then ReLU, in one pass.
    func biasReLU(_ t: Tensor, bias: Tensor?, relu: Bool) {
        let channels = t.shape[1], plane = t.count / (t.shape[0] * channels)
        let p = t.ptr, pb = bias?.ptr
        Parallel.forEach(t.shape[0] * channels, cost: plane) { r in
            for job in r {
                let b = pb?[job % channels] ?? 0
                let row = p + job * plane
                if relu { for i in 0..<plane { row[i] = max(row[i] + b, 0) } } else { for i in 0..<plane { row[i] += b } }
            }
        }
    }

    public func convolutionBackward(_ x: Tensor, weight: Tensor, outputGradient gy: Tensor, geometry: WindowGeometry,
                                    groups: Int, needInputGradient: Bool) -> (input: Tensor?, weight: Tensor, bias: Tensor) {
        let p = ConvPlan(input: x.shape, weight: weight.shape, geometry: geometry, groups: groups)
        let gw = Tensor(shape: weight.shape)
        let gb = Tensor(shape: [p.outC])
        // With stride 1 the input gradient is itself a convolution (of the output gradient with the flipped,
        // transposed weights), which the SIMD kernels run; otherwise it is scattered back from columns.
        let direct = needInputGradient ? inputGradientByConvolution(gy, weight: weight, plan: p, geometry: geometry) : nil
        let gx = needInputGradient && direct == nil ? Tensor(shape: x.shape) : nil
        // Bias gradient: sum over batch and space.
        let plane = p.outPlane
        for n in 0..<p.n {
            for c in 0..<p.outC {
                let row = gy.ptr + (n * p.outC + c) * plane
                var s: Float = 0
                for i in 0..<plane { s += row[i] }
                gb.ptr[c] += s
            }
        }
        Workspace.with(p.rows * p.chunk * plane) { col in
            Workspace.with(p.og * p.chunk * plane) { gyMatrix in
                var n0 = 0
                while n0 < p.n {
                    let nb = min(p.chunk, p.n - n0), ld = nb * plane
                    for grp in 0..<p.groups {
                        p.im2col(x.ptr, n0: n0, nb: nb, group: grp, into: col)
                        p.pack(gy.ptr, channels: p.outC, perGroup: p.og, plane: plane, n0: n0, nb: nb, group: grp,
                               matrix: gyMatrix, toMatrix: true)
                        // dW_g += dY_g · colᵀ
                        gemm(false, true, p.og, p.rows, ld, gyMatrix, ld, col, ld, 1, gw.ptr + grp * p.og * p.rows, p.rows)
                        if let gx {
                            // dcol = W_gᵀ · dY_g, then scatter back.
                            gemm(true, false, p.rows, ld, p.og, weight.ptr + grp * p.og * p.rows, p.rows, gyMatrix, ld, 0, col, ld)
                            p.col2im(col, n0: n0, nb: nb, group: grp, into: gx.ptr)
                        }
                    }
                    n0 += nb
                }
            }
        }
        return (direct ?? gx, gw, gb)
    }

    /// dX = conv(dY, W') with W'[c][o] = W[o][c] flipped in every dimension, padding d·(k−1) − p, for stride 1;
    /// nil when the stride is not 1 or the kernels do not run the shape. On the direct kernel only: with Winograd
    /// the step was not measurably faster (ResNet-18 b16, interleaved), and its fresh weights would be
    /// transformed on every call.
    private func inputGradientByConvolution(_ gy: Tensor, weight: Tensor, plan p: ConvPlan,
                                            geometry: WindowGeometry) -> Tensor? {
        let g = geometry
        guard g.stride.allSatisfy({ $0 == 1 }),
              (0..<g.kernel.count).allSatisfy({ g.padding[$0] <= g.dilation[$0] * (g.kernel[$0] - 1) }) else { return nil }
        let cg = p.cg, og = p.og, kv = p.kernelVolume
        let flipped = Tensor.uninitialized([p.inC, og] + g.kernel)
        let src = weight.ptr, dst = flipped.ptr
        for grp in 0..<p.groups {
            for o in 0..<og {
                for c in 0..<cg {
                    let from = src + ((grp * og + o) * cg + c) * kv, to = dst + ((grp * cg + c) * og + o) * kv
                    for t in 0..<kv { to[t] = from[kv - 1 - t] }
                }
            }
        }
        let transposed = WindowGeometry(kernel: g.kernel, stride: g.stride,
                                        padding: (0..<g.kernel.count).map { g.dilation[$0] * (g.kernel[$0] - 1) - g.padding[$0] },
                                        dilation: g.dilation)
        let q = ConvPlan(input: gy.shape, weight: flipped.shape, geometry: transposed, groups: p.groups)
        let shape = [q.n, q.outC] + Array(q.outSize.suffix(g.kernel.count))
        return CPUKernels.convolution(gy, weight: flipped, bias: nil, plan: q, fuseReLU: false, outShape: shape,
                                      winograd: false, transient: true)
    }
}
