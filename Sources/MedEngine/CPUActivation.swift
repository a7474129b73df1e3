import Foundation

extension CPUBackend {
    public func activation(_ kind: Activation, _ x: Tensor) -> Tensor {
        let out = Tensor.uninitialized(x.shape)
        let px = x.ptr, po = out.ptr
        Parallel.forEach(x.count, cost: 8) { r in
            switch kind {
            case .relu:
                let (src, dst) = (px + r.lowerBound, po + r.lowerBound)
                for i in 0..<r.count { dst[i] = max(src[i], 0) }
            case .sigmoid: for i in r { po[i] = 1 / (1 + expf(-px[i])) }
            case .gelu: for i in r { po[i] = 0.5 * px[i] * (1 + erff(px[i] * Float(0.5).squareRoot())) }
            case .silu: for i in r { po[i] = px[i] / (1 + expf(-px[i])) }
            }
        }
        return out
    }

    public func activationBackward(_ kind: Activation, input: Tensor, output: Tensor, outputGradient: Tensor) -> Tensor {
        let gx = Tensor.uninitialized(input.shape)
        let px = input.ptr, py = output.ptr, pg = outputGradient.ptr, po = gx.ptr
        Parallel.forEach(input.count, cost: 8) { r in
            switch kind {
            case .relu:
                // SIMD8 selects: as a scalar ternary the gradient load was conditional and the loop stayed scalar.
                let (x, g, dst) = (px + r.lowerBound, pg + r.lowerBound, po + r.lowerBound)
                var i = 0
                while i + 8 <= r.count {
                    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                    let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float>.zero.replacing(with: gv, where: xv .> 0),
                                                                as: SIMD8<Float>.self)
                    i += 8
                }
                while i < r.count { dst[i] = x[i] > 0 ? g[i] : 0; i += 1 }
            case .sigmoid: for i in r { po[i] = pg[i] * py[i] * (1 - py[i]) }
            case .gelu:
                let c = 1 / Float(2 * Double.pi).squareRoot()
                for i in r {
                    let v = px[i]
                    let cdf = 0.5 * (1 + erff(v * Float(0.5).squareRoot()))
                    po[i] = pg[i] * (cdf + v * c * expf(-0.5 * v * v))
                }
            case .silu:
                for i in r {
                    let s = 1 / (1 + expf(-px[i]))
                    po[i] = pg[i] * s * (1 + px[i] * (1 - s))
                }
            }
        }
        return gx
    }
}
