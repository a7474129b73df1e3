import CKernels
import Testing
@testable import MedEngine

/// The CKernels SIMD kernels against the engine's reference paths, on every instruction set this CPU runs.
@Suite struct KernelTests {
    /// (batch, in, out, groups, input size, kernel, stride, padding, dilation, bias, ReLU): ResNet / DenseNet /
    /// r3d_18 layer kinds at reduced size (stride 1 "same" convolutions read the input in place, the rest a
    /// phase image), plus tails (output channels not a multiple of the tile rows, widths not a multiple of the
    /// tile), grouped, dilated and strided-and-dilated cases.
    static let convolutions: [(Int, Int, Int, Int, [Int], [Int], [Int], [Int], [Int], Bool, Bool)] = [
        (1, 3, 16, 1, [37, 41], [7, 7], [2, 2], [3, 3], [1, 1], true, true),      // ImageNet stem
        (2, 16, 16, 1, [14, 14], [3, 3], [1, 1], [1, 1], [1, 1], true, true),     // BasicBlock 3×3
        (1, 16, 24, 1, [15, 13], [3, 3], [2, 2], [1, 1], [1, 1], false, false),   // strided 3×3
        (3, 24, 40, 1, [9, 9], [1, 1], [1, 1], [0, 0], [1, 1], true, false),      // pointwise, read in place
        (1, 24, 48, 1, [13, 13], [1, 1], [2, 2], [0, 0], [1, 1], false, false),   // projection shortcut
        (1, 20, 7, 1, [5, 5], [3, 3], [1, 1], [1, 1], [1, 1], true, true),        // 7 output channels, 5×5
        (1, 5, 9, 1, [10, 12], [3, 3], [1, 1], [0, 0], [1, 1], true, false),      // stride 1, narrower output
        (2, 4, 6, 1, [9, 7], [2, 2], [1, 1], [1, 1], [1, 1], false, true),        // stride 1, wider output
        (2, 12, 18, 3, [8, 11], [3, 3], [1, 1], [1, 1], [1, 1], true, false),     // groups
        (1, 6, 9, 1, [12, 12], [3, 3], [1, 1], [2, 2], [2, 2], false, true),      // dilation
        (1, 6, 5, 1, [17, 16], [3, 2], [3, 2], [2, 1], [2, 3], true, false),      // stride and dilation
        (1, 3, 16, 1, [6, 20, 22], [3, 7, 7], [1, 2, 2], [1, 3, 3], [1, 1, 1], false, true), // r3d_18 stem
        (2, 8, 12, 1, [4, 7, 6], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], true, true),    // 3×3×3
        (1, 8, 16, 1, [5, 8, 8], [1, 1, 1], [2, 2, 2], [0, 0, 0], [1, 1, 1], false, false),  // 3D shortcut
        (1, 4, 6, 2, [5, 6, 7], [2, 3, 2], [2, 1, 3], [1, 0, 1], [1, 2, 1], true, false),    // 3D mixed
        // Reductions long enough to run in chunks with running sums: in place, strided, 3D.
        (1, 300, 10, 1, [6, 6], [3, 3], [1, 1], [1, 1], [1, 1], true, false),
        (2, 128, 20, 1, [9, 11], [3, 3], [2, 2], [1, 1], [1, 1], true, true),
        (1, 64, 17, 1, [4, 6, 5], [3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], false, true),
    ]

    @Test(arguments: convolutions.indices)
    func directConvolutionMatchesIm2col(_ i: Int) throws {
        let c = Self.convolutions[i]
        let x = randomTensor([c.0, c.1] + c.4, seed: UInt64(40 + i))
        let w = randomTensor([c.2, c.1 / c.3] + c.5, seed: UInt64(80 + i), scale: 0.3)
        let b = c.9 ? randomTensor([c.2], seed: UInt64(120 + i)) : nil
        let g = WindowGeometry(kernel: c.5, stride: c.6, padding: c.7, dilation: c.8)
        let p = ConvPlan(input: x.shape, weight: w.shape, geometry: g, groups: c.3)
        let shape = [p.n, p.outC] + Array(p.outSize.suffix(c.5.count))
        let reference = CPUBackend().gemmConvolution(x, weight: w, bias: b, plan: p, fuseReLU: c.10, outShape: shape)
        var largest: Float = 0
        for j in 0..<reference.count { largest = max(largest, abs(reference[flat: j])) }
        for isa in CPUKernels.available where isa != CK_ISA_NONE {
            let y = try #require(CPUKernels.convolution(x, weight: w, bias: b, plan: p, fuseReLU: c.10, outShape: shape, isa: isa,
                                                        winograd: false))
            #expect(y.shape == reference.shape)
            // Only the summation order differs from sgemm's.
            #expect(y.maxAbsDifference(reference) <= 1e-5 * (1 + largest), "ISA \(isa.rawValue)")
        }
    }

    /// (batch, in, out, input size, kernel): Winograd F(2x2, 3x3) shapes, with odd sizes (partial tiles) and a
    /// last block of tiles that is not full.
    static let winogradCases: [(Int, Int, Int, [Int], [Int])] = [
        (1, 16, 24, [28, 28], [3, 3]),
        (2, 7, 13, [11, 37], [3, 3]),
        (1, 70, 9, [9, 30], [3, 3]),
        (1, 6, 10, [5, 7, 29], [3, 3, 3]),
        (2, 5, 8, [3, 6, 31], [1, 3, 3]),
    ]

    @Test(arguments: winogradCases.indices)
    func winogradMatchesIm2col(_ i: Int) throws {
        let c = Self.winogradCases[i]
        let x = randomTensor([c.0, c.1] + c.3, seed: UInt64(400 + i))
        var w = randomTensor([c.2, c.1] + c.4, seed: UInt64(440 + i), scale: 0.3)
        let b = randomTensor([c.2], seed: UInt64(480 + i))
        let g = WindowGeometry(kernel: c.4, stride: c.4.map { _ in 1 }, padding: c.4.map { $0 / 2 }, dilation: c.4.map { _ in 1 })
        let p = ConvPlan(input: x.shape, weight: w.shape, geometry: g, groups: 1)
        let shape = [p.n, p.outC] + Array(p.outSize.suffix(c.4.count))
        for isa in CPUKernels.available where isa != CK_ISA_NONE {
            var wino = ck_winograd_plan()
            var s = ck_conv_shape(batch: Int32(p.n), in_channels: Int32(p.inC), out_channels: Int32(p.outC), groups: 1,
                                  input: CPUKernels.triple(p.inSize), output: CPUKernels.triple(p.outSize),
                                  kernel: CPUKernels.triple(p.g.kernel), stride: CPUKernels.triple(p.g.stride),
                                  padding: CPUKernels.triple(p.g.padding), dilation: CPUKernels.triple(p.g.dilation))
            #expect(ck_winograd_plan_init(&wino, &s, isa, 2) != 0, "the case is one Winograd covers")
            // Twice with the same weights (the second from the transformed-weight cache), then with changed ones.
            for round in 0..<3 {
                if round == 2 { w[flat: 5] += 1 }
                let reference = CPUBackend().gemmConvolution(x, weight: w, bias: b, plan: p, fuseReLU: true, outShape: shape)
                var largest: Float = 0
                for j in 0..<reference.count { largest = max(largest, abs(reference[flat: j])) }
                let y = try #require(CPUKernels.convolution(x, weight: w, bias: b, plan: p, fuseReLU: true, outShape: shape, isa: isa))
                #expect(y.maxAbsDifference(reference) <= 1e-5 * (1 + largest), "ISA \(isa.rawValue), round \(round)")
            }
        }
    }

    @Test func kernelsDeclineWhatTheyDoNotCover() {
        let x = randomTensor([1, 2, 20, 20], seed: 1)
        let w = randomTensor([3, 2, 1, 1], seed: 2)
        let g = WindowGeometry(kernel: [1, 1], stride: [9, 9], padding: [0, 0], dilation: [1, 1])
        let p = ConvPlan(input: x.shape, weight: w.shape, geometry: g, groups: 1)
        for isa in CPUKernels.available {
            #expect(CPUKernels.convolution(x, weight: w, bias: nil, plan: p, fuseReLU: false, outShape: [1, 3, 3, 3], isa: isa) == nil)
        }
        // The backend falls back to im2col + sgemm.
        #expect(CPUBackend().convolution(x, weight: w, bias: nil, geometry: g, groups: 1, fuseReLU: false).shape == [1, 3, 3, 3])
    }

    /// (input shape, kernel, stride, padding, dilation)
    static let pools: [([Int], [Int], [Int], [Int], [Int])] = [
        ([2, 3, 29, 30], [3, 3], [2, 2], [1, 1], [1, 1]),   // ResNet stem pool
        ([1, 2, 19, 21], [2, 2], [1, 1], [0, 0], [1, 1]),   // stride 1
        ([1, 2, 20, 40], [3, 3], [3, 3], [1, 1], [1, 1]),   // stride 3 (gathers)
        ([1, 2, 17, 18], [3, 3], [2, 2], [1, 1], [2, 2]),   // dilation
        ([1, 2, 7, 9, 11], [3, 3, 3], [2, 2, 2], [1, 1, 1], [1, 1, 1]),
        ([2, 64, 40, 40], [3, 3], [2, 2], [1, 1], [1, 1]),  // enough planes to run on every worker
    ]

    @Test(arguments: pools.indices)
    func maxPoolMatchesNaiveLoop(_ i: Int) {
        let c = Self.pools[i]
        var x = randomTensor(c.0, seed: UInt64(200 + i))
        // Ties, NaNs and -inf exercise the selection rules.
        x.withUnsafeMutableBufferPointer { v in
            for j in v.indices {
                if j % 7 == 0 { v[j] = v[j].rounded() }
                if j % 53 == 0 { v[j] = .nan }
                if j % 61 == 0 { v[j] = -.infinity }
            }
        }
        let g = WindowGeometry(kernel: c.1, stride: c.2, padding: c.3, dilation: c.4)
        let (values, indices) = naiveMaxPool(x, g)
        for isa in CPUKernels.available {
            let (y, argmax) = CPUBackend().maxPool(x, geometry: g, isa: isa)
            #expect(y.shape == values.shape)
            #expect(argmax == indices, "ISA \(isa.rawValue)")
            #expect((0..<y.count).allSatisfy { y[flat: $0] == values[flat: $0] || (y[flat: $0].isNaN && values[flat: $0].isNaN) })
        }
    }

    @Test(arguments: pools.indices)
    func avgPoolMatchesNaiveLoop(_ i: Int) {
        let c = Self.pools[i]
        let x = randomTensor(c.0, seed: UInt64(300 + i))
        let g = WindowGeometry(kernel: c.1, stride: c.2, padding: c.3, dilation: c.4).as3D
        let y = CPUBackend().avgPool(x, geometry: WindowGeometry(kernel: c.1, stride: c.2, padding: c.3, dilation: c.4))
        let inSize = spatial3D(x.shape), outSize = g.outputSize(inSize), inPlane = inSize.reduce(1, *)
        var o = 0, worst: Float = 0
        for plane in 0..<(x.shape[0] * x.shape[1]) {
            for od in 0..<outSize[0] { for oh in 0..<outSize[1] { for ow in 0..<outSize[2] {
                // Padding counts in the divisor (count_include_pad=True).
                var sum: Float = 0
                for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
                    let p = [od * g.stride[0] - g.padding[0] + kd * g.dilation[0],
                             oh * g.stride[1] - g.padding[1] + kh * g.dilation[1],
                             ow * g.stride[2] - g.padding[2] + kw * g.dilation[2]]
                    guard (0..<3).allSatisfy({ p[$0] >= 0 && p[$0] < inSize[$0] }) else { continue }
                    sum += x[flat: plane * inPlane + (p[0] * inSize[1] + p[1]) * inSize[2] + p[2]]
                }}}
                worst = max(worst, abs(y[flat: o] - sum / Float(g.kernel.reduce(1, *))))
                o += 1
            }}}
        }
        #expect(o == y.count)
        #expect(worst <= 1e-6)
    }

    /// Every window position visited in (d, h, w) order; the first maximum wins, a NaN beats any number.
    private func naiveMaxPool(_ x: Tensor, _ geometry: WindowGeometry) -> (Tensor, [Int32]) {
        let g = geometry.as3D, inSize = spatial3D(x.shape), outSize = g.outputSize(inSize)
        var y = Tensor(shape: Array(x.shape.prefix(2)) + Array(outSize.suffix(geometry.kernel.count)))
        var argmax: [Int32] = []
        let inPlane = inSize.reduce(1, *)
        var o = 0
        for plane in 0..<(x.shape[0] * x.shape[1]) {
            for od in 0..<outSize[0] { for oh in 0..<outSize[1] { for ow in 0..<outSize[2] {
                var best = -Float.infinity, at = -1
                for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
                    let p = [od * g.stride[0] - g.padding[0] + kd * g.dilation[0],
                             oh * g.stride[1] - g.padding[1] + kh * g.dilation[1],
                             ow * g.stride[2] - g.padding[2] + kw * g.dilation[2]]
                    guard (0..<3).allSatisfy({ p[$0] >= 0 && p[$0] < inSize[$0] }) else { continue }
                    let index = (p[0] * inSize[1] + p[1]) * inSize[2] + p[2]
                    let v = x[flat: plane * inPlane + index]
                    if at < 0 || v > best || v.isNaN { best = v; at = index }
                }}}
                y[flat: o] = best
                argmax.append(Int32(max(at, 0)))
                o += 1
            }}}
        }
        return (y, argmax)
    }
}
