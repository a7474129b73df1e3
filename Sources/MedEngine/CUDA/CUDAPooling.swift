import CCUDA

/// Pooling: one thread per output forward; backward gathers per input (average) or scatters with atomics
/// into a zeroed gradient (max, whose windows may overlap).
extension CUDABackend {
    private func poolWindow(_ shape: [Int], _ geometry: WindowGeometry) -> (CUDAWindow, [Int]) {
        let inSize = spatial3D(shape), outSize = geometry.as3D.outputSize(inSize)
        let outShape = Array(shape.prefix(2)) + Array(outSize.suffix(geometry.kernel.count))
        return (CUDAWindow(geometry: geometry, input: inSize, output: outSize), outShape)
    }

    public func maxPool(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, argmax: [Int32]) {
        guarded("maxPool", { () throws(CUDAError) in
            let (y, indices) = try maxPoolOnDevice(x, geometry)
            return (y, try indices.int32s(count: y.count))
        }, cpu: { cpu.maxPool(x, geometry: geometry) })
    }

    /// The indices stay on the device for the pullback (no copy to the host and back per training step).
    public func maxPoolWithPullback(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, pullback: (Tensor) -> Tensor) {
        guarded("maxPool", { () throws(CUDAError) in
            let (y, indices) = try maxPoolOnDevice(x, geometry)
            let inputShape = x.shape, count = y.count
            return (y, { gy in
                self.guarded("maxPoolBackward", { () throws(CUDAError) in
                    try self.maxPoolBackwardOnDevice(gy, indices: indices.address, inputShape: inputShape)
                }, cpu: {
                    // The indices are still on the device: bring them over for the CPU.
                    let argmax = (try? indices.int32s(count: count)) ?? []
                    return self.cpu.maxPoolBackward(outputGradient: gy, argmax: argmax, inputShape: inputShape)
                })
            })
        }, cpu: {
            let (y, argmax) = cpu.maxPool(x, geometry: geometry)
            let inputShape = x.shape
            return (y, { self.maxPoolBackward(outputGradient: $0, argmax: argmax, inputShape: inputShape) })
        })
    }

    private func maxPoolOnDevice(_ x: Tensor, _ geometry: WindowGeometry) throws(CUDAError) -> (Tensor, CUDABuffer) {
        let (w, shape) = poolWindow(x.shape, geometry)
        let px = try address(x)
        let (y, py) = try output(shape)
        let indices = try scratch(y.count)
        let planes = x.shape[0] * x.shape[1]
        try device.planar(.pool, columns: y.count / planes, rows: planes,
                          [.pointer(px), .pointer(py), .pointer(indices.address), .window(w), .float(1), .int(planes)])
        return (y, indices)
    }

    public func maxPoolBackward(outputGradient gy: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
        guarded("maxPoolBackward", { () throws(CUDAError) in
            let indices = try scratch(argmax.count)
            let failure = argmax.withUnsafeBytes { raw -> CUDAError? in
                do throws(CUDAError) { try device.upload(raw.baseAddress!, to: indices.address, bytes: raw.count) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            return try maxPoolBackwardOnDevice(gy, indices: indices.address, inputShape: inputShape)
        }, cpu: { cpu.maxPoolBackward(outputGradient: gy, argmax: argmax, inputShape: inputShape) })
    }

    private func maxPoolBackwardOnDevice(_ gy: Tensor, indices: CUdeviceptr, inputShape: [Int]) throws(CUDAError) -> Tensor {
        let planes = inputShape[0] * inputShape[1]
        let pg = try address(gy)
        let (gx, pgx) = try zeros(inputShape)
        try device.planar(.maxPoolBackward, columns: gy.count / planes, rows: planes, [
            .pointer(pg), .pointer(indices), .pointer(pgx), .int(gx.count / planes), .int(gy.count / planes), .int(planes)])
        return gx
    }

    public func avgPool(_ x: Tensor, geometry: WindowGeometry) -> Tensor {
        guarded("avgPool", { () throws(CUDAError) in
            let (w, shape) = poolWindow(x.shape, geometry)
            let px = try address(x)
            let (y, py) = try output(shape)
            let scale = 1 / Float(geometry.kernel.reduce(1, *)), planes = x.shape[0] * x.shape[1]
            try device.planar(.pool, columns: y.count / planes, rows: planes,
                              [.pointer(px), .pointer(py), .pointer(nil), .window(w), .float(scale), .int(planes)])
            return y
        }, cpu: { cpu.avgPool(x, geometry: geometry) })
    }

    public func avgPoolBackward(outputGradient gy: Tensor, geometry: WindowGeometry, inputShape: [Int]) -> Tensor {
        guarded("avgPoolBackward", { () throws(CUDAError) in
            let (w, _) = poolWindow(inputShape, geometry)
            let pg = try address(gy)
            let (gx, pgx) = try output(inputShape)
            let scale = 1 / Float(geometry.kernel.reduce(1, *)), planes = inputShape[0] * inputShape[1]
            try device.planar(.avgPoolBackward, columns: gx.count / planes, rows: planes, [.pointer(pg), .pointer(pgx), .window(w), .float(scale), .int(planes)])
            return gx
        }, cpu: { cpu.avgPoolBackward(outputGradient: gy, geometry: geometry, inputShape: inputShape) })
    }

    public func adaptiveAvgPool(_ x: Tensor, outputSize: [Int]) -> Tensor {
        guarded("adaptiveAvgPool", { () throws(CUDAError) in
            let inSize = spatial3D(x.shape), out3 = Array(repeating: 1, count: 3 - outputSize.count) + outputSize
            let px = try address(x)
            let (y, py) = try output(Array(x.shape.prefix(2)) + outputSize)
            let planes = x.shape[0] * x.shape[1]
            try device.planar(.adaptiveAvgPool, columns: y.count / planes, rows: planes,
                              [.pointer(px), .pointer(py)] + (inSize + out3).map { .int($0) } + [.int(planes)])
            return y
        }, cpu: { cpu.adaptiveAvgPool(x, outputSize: outputSize) })
    }

    public func adaptiveAvgPoolBackward(outputGradient gy: Tensor, inputShape: [Int]) -> Tensor {
        guarded("adaptiveAvgPoolBackward", { () throws(CUDAError) in
            let inSize = spatial3D(inputShape), out3 = spatial3D(gy.shape)
            let pg = try address(gy)
            let (gx, pgx) = try output(inputShape)
            let planes = inputShape[0] * inputShape[1]
            try device.planar(.adaptiveAvgPoolBackward, columns: gx.count / planes, rows: planes,
                              [.pointer(pg), .pointer(pgx)] + (inSize + out3).map { .int($0) } + [.int(planes)])
            return gx
        }, cpu: { cpu.adaptiveAvgPoolBackward(outputGradient: gy, inputShape: inputShape) })
    }
}
