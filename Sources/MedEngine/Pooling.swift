extension Functional {
    public static func maxPool(_ x: Variable, geometry: WindowGeometry) -> Variable {
        let (y, pullback) = Engine.backend.maxPoolWithPullback(x.value, geometry: geometry)
        return Variable(y, inputs: [x]) { g in [pullback(g)] }
    }

    public static func avgPool(_ x: Variable, geometry: WindowGeometry) -> Variable {
        let be = Engine.backend
        return Variable(be.avgPool(x.value, geometry: geometry), inputs: [x]) { g in
            [be.avgPoolBackward(outputGradient: g, geometry: geometry, inputShape: x.shape)]
        }
    }

    /// Adaptive average pooling to `outputSize` (one entry per spatial dimension).
    public static func adaptiveAvgPool(_ x: Variable, outputSize: [Int]) -> Variable {
        let be = Engine.backend
        return Variable(be.adaptiveAvgPool(x.value, outputSize: outputSize), inputs: [x]) { g in
            [be.adaptiveAvgPoolBackward(outputGradient: g, inputShape: x.shape)]
        }
    }
}

extension WindowGeometry {
    /// A pooling window: kernel k, stride s (default k), padding p in every spatial dimension.
    public static func pool(dims: Int, kernel: Int, stride: Int? = nil, padding: Int = 0) -> WindowGeometry {
        WindowGeometry(kernel: Array(repeating: kernel, count: dims), stride: Array(repeating: stride ?? kernel, count: dims),
                       padding: Array(repeating: padding, count: dims), dilation: Array(repeating: 1, count: dims))
    }
}
