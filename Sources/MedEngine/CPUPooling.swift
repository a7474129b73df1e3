import CKernels
import Foundation

/// Visits every pooling window: for each output position of one (sample, channel) plane, the flat input
/// offsets it covers (padding positions are reported as -1).
private func forEachWindow(inSize: [Int], outSize: [Int], g: WindowGeometry,
                           _ body: (_ out: Int, _ inputs: UnsafeMutableBufferPointer<Int>) -> Void) {
    let kv = g.kernel.reduce(1, *)
    let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: kv)
    defer { buffer.deallocate() }
    var o = 0
    for od in 0..<outSize[0] { for oh in 0..<outSize[1] { for ow in 0..<outSize[2] {
        var k = 0
        for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
            let id = od * g.stride[0] - g.padding[0] + kd * g.dilation[0]
            let ih = oh * g.stride[1] - g.padding[1] + kh * g.dilation[1]
            let iw = ow * g.stride[2] - g.padding[2] + kw * g.dilation[2]
            let inside = id >= 0 && id < inSize[0] && ih >= 0 && ih < inSize[1] && iw >= 0 && iw < inSize[2]
            buffer[k] = inside ? (id * inSize[1] + ih) * inSize[2] + iw : -1
            k += 1
        }}}
        body(o, buffer)
        o += 1
    }}}
}

/// Adaptive pooling bins as PyTorch computes them: [floor(i·in/out), ceil((i+1)·in/out)).
private func adaptiveBins(_ input: Int, _ output: Int) -> [Range<Int>] {
    (0..<output).map { i in (i * input / output)..<(((i + 1) * input + output - 1) / output) }
}

extension CPUBackend {
    private func pooledShape(_ shape: [Int], _ g: WindowGeometry) -> (WindowGeometry, [Int], [Int], [Int]) {
        let g3 = g.as3D, inSize = spatial3D(shape), outSize = g3.outputSize(inSize)
        return (g3, inSize, outSize, Array(shape.prefix(2)) + Array(outSize.suffix(g.kernel.count)))
    }

    public func maxPool(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, argmax: [Int32]) {
        maxPool(x, geometry: geometry, isa: CPUKernels.isa)
    }

    func maxPool(_ x: Tensor, geometry: WindowGeometry, isa: ck_isa) -> (output: Tensor, argmax: [Int32]) {
        let (g, inSize, outSize, shape) = pooledShape(x.shape, geometry)
        let planes = x.shape[0] * x.shape[1], outPlane = outSize.reduce(1, *)
        let out = Tensor.uninitialized(shape)
        var argmax = [Int32](repeating: 0, count: out.count)
        var window = CPUKernels.window(g, input: inSize, output: outSize)
        argmax.withUnsafeMutableBufferPointer { am in
            let amp = am.baseAddress!
            withUnsafePointer(to: &window) { window in
                Parallel.forEach(planes, cost: outPlane * g.kernel.reduce(1, *)) { r in
                    precondition(ck_max_pool(window, isa, x.ptr, out.ptr, amp, r.lowerBound, r.upperBound) != 0,
                                 "out of memory")
                }
            }
        }
        return (out, argmax)
    }

    public func maxPoolBackward(outputGradient gy: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
        let gx = Tensor(shape: inputShape)
        let planes = inputShape[0] * inputShape[1], inPlane = gx.count / planes, outPlane = gy.count / planes
        Parallel.forEach(planes, cost: outPlane) { r in
            for plane in r {
                for o in 0..<outPlane {
                    gx.ptr[plane * inPlane + Int(argmax[plane * outPlane + o])] += gy.ptr[plane * outPlane + o]
                }
            }
        }
        return gx
    }

    public func avgPool(_ x: Tensor, geometry: WindowGeometry) -> Tensor {
        let (g, inSize, outSize, shape) = pooledShape(x.shape, geometry)
        let planes = x.shape[0] * x.shape[1], outPlane = outSize.reduce(1, *)
        let out = Tensor.uninitialized(shape)
        var window = CPUKernels.window(g, input: inSize, output: outSize)
        withUnsafePointer(to: &window) { window in
            Parallel.forEach(planes, cost: outPlane * g.kernel.reduce(1, *)) { r in
                ck_avg_pool(window, x.ptr, out.ptr, r.lowerBound, r.upperBound)
            }
        }
        return out
    }

    public func avgPoolBackward(outputGradient gy: Tensor, geometry: WindowGeometry, inputShape: [Int]) -> Tensor {
        let (g, inSize, outSize, _) = pooledShape(inputShape, geometry)
        let gx = Tensor(shape: inputShape)
        let planes = inputShape[0] * inputShape[1], inPlane = inSize.reduce(1, *), outPlane = outSize.reduce(1, *)
        let scale = 1 / Float(g.kernel.reduce(1, *))
        Parallel.forEach(planes, cost: outPlane * g.kernel.reduce(1, *)) { r in
            for plane in r {
                let dst = gx.ptr + plane * inPlane, src = gy.ptr + plane * outPlane
                forEachWindow(inSize: inSize, outSize: outSize, g: g) { o, idx in
                    for i in idx where i >= 0 { dst[i] += src[o] * scale }
                }
            }
        }
        return gx
    }

    public func adaptiveAvgPool(_ x: Tensor, outputSize: [Int]) -> Tensor {
        adaptive(x.shape, outputSize: outputSize) { planeIn, _, inputs, _ in
            var s: Float = 0
            for i in inputs { s += x.ptr[planeIn + i] }
            return s / Float(inputs.count)
        }
    }

    public func adaptiveAvgPoolBackward(outputGradient gy: Tensor, inputShape: [Int]) -> Tensor {
        let gx = Tensor(shape: inputShape)
        let outSize = Array(gy.shape.dropFirst(2))
        _ = adaptive(inputShape, outputSize: outSize) { planeIn, planeOut, inputs, o in
            let v = gy.ptr[planeOut + o] / Float(inputs.count)
            for i in inputs { gx.ptr[planeIn + i] += v }
            return 0
        }
        return gx
    }

    /// Shared walk over adaptive bins; `body` gets the plane offsets, the bin's input offsets and the output
    /// index, and returns the output value. Bins of one plane never overlap other planes, so planes run in parallel.
    private func adaptive(_ inShape: [Int], outputSize: [Int],
                          _ body: (_ planeIn: Int, _ planeOut: Int, _ inputs: [Int], _ o: Int) -> Float) -> Tensor {
        let inSize = spatial3D(inShape)
        let out3 = Array(repeating: 1, count: 3 - outputSize.count) + outputSize
        let bins = (0..<3).map { adaptiveBins(inSize[$0], out3[$0]) }
        let out = Tensor.uninitialized(Array(inShape.prefix(2)) + outputSize)
        let planes = inShape[0] * inShape[1], inPlane = inSize.reduce(1, *), outPlane = out3.reduce(1, *)
        var offsets: [[Int]] = []
        for bd in bins[0] { for bh in bins[1] { for bw in bins[2] {
            var list: [Int] = []
            for d in bd { for h in bh { for w in bw { list.append((d * inSize[1] + h) * inSize[2] + w) } } }
            offsets.append(list)
        }}}
        Parallel.forEach(planes, cost: inPlane) { r in
            for plane in r {
                for o in 0..<outPlane {
                    out.ptr[plane * outPlane + o] = body(plane * inPlane, plane * outPlane, offsets[o], o)
                }
            }
        }
        return out
    }
}
