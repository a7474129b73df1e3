/// Window geometry shared by convolution and pooling. 2D ops use depth 1 with kernel, stride and
/// padding 1/1/0 in depth, so one kernel serves both NCHW and NCDHW.
public struct WindowGeometry: Sendable, Equatable {
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]

    public init(kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]) {
        precondition([stride.count, padding.count, dilation.count].allSatisfy { $0 == kernel.count })
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The same geometry widened to three spatial dimensions.
    var as3D: WindowGeometry {
        guard kernel.count < 3 else { return self }
        let fill = 3 - kernel.count
        return WindowGeometry(kernel: Array(repeating: 1, count: fill) + kernel,
                              stride: Array(repeating: 1, count: fill) + stride,
                              padding: Array(repeating: 0, count: fill) + padding,
                              dilation: Array(repeating: 1, count: fill) + dilation)
    }

    public func outputSize(_ input: [Int]) -> [Int] {
        (0..<kernel.count).map { i in
            (input[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1
        }
    }

    var isPointwise: Bool {
        kernel.allSatisfy { $0 == 1 } && stride.allSatisfy { $0 == 1 } && padding.allSatisfy { $0 == 0 }
    }
}

/// Spatial sizes of a tensor widened to (D, H, W).
func spatial3D(_ shape: [Int]) -> [Int] {
    let s = Array(shape.dropFirst(2))
    return Array(repeating: 1, count: 3 - s.count) + s
}
