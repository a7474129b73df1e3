/// Elementwise activations with a closed-form derivative.
public enum Activation: String, Sendable, CaseIterable {
    case relu, sigmoid, gelu, silu
}

/// The compute primitives every layer is built from. The CPU backend implements them with OpenBLAS and
/// Dispatch; a device backend implements the same protocol without the layers changing.
public protocol Backend: Sendable {
    var name: String { get }

    /// C = op(A) · op(B) for row-major 2-D tensors.
    func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor

    /// Grouped N-d convolution (x: N×C×spatial, weight: O×C/g×kernel), optional bias and fused ReLU.
    func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry, groups: Int,
                     fuseReLU: Bool) -> Tensor
    /// Gradients of a convolution; the input gradient only when asked for.
    func convolutionBackward(_ x: Tensor, weight: Tensor, outputGradient: Tensor, geometry: WindowGeometry,
                             groups: Int, needInputGradient: Bool) -> (input: Tensor?, weight: Tensor, bias: Tensor)

    /// Batch statistics per channel: the normalised output, the batch mean and 1/sqrt(var+eps).
    func batchNormTrain(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, invStd: Tensor, variance: Tensor)
    func batchNormBackward(_ x: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor, outputGradient: Tensor)
        -> (input: Tensor, gamma: Tensor, beta: Tensor)
    /// y = x·scale[c] + shift[c], optionally followed by ReLU (batch-norm in eval mode).
    func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor, fuseReLU: Bool) -> Tensor

    func activation(_ kind: Activation, _ x: Tensor) -> Tensor
    func activationBackward(_ kind: Activation, input: Tensor, output: Tensor, outputGradient: Tensor) -> Tensor

    func maxPool(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, argmax: [Int32])
    func maxPoolBackward(outputGradient: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor
    /// Average pooling counting padded positions (PyTorch's default count_include_pad=True).
    func avgPool(_ x: Tensor, geometry: WindowGeometry) -> Tensor
    func avgPoolBackward(outputGradient: Tensor, geometry: WindowGeometry, inputShape: [Int]) -> Tensor
    func adaptiveAvgPool(_ x: Tensor, outputSize: [Int]) -> Tensor
    func adaptiveAvgPoolBackward(outputGradient: Tensor, inputShape: [Int]) -> Tensor

    /// a·alpha + b·beta, same shapes.
    func axpby(_ a: Tensor, alpha: Float, _ b: Tensor, beta: Float) -> Tensor
    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor
    /// Adds bias[j] to every row of a 2-D tensor.
    func addRowBias(_ x: Tensor, bias: Tensor) -> Tensor
    /// Sums a 2-D tensor over its rows.
    func sumRows(_ x: Tensor) -> Tensor
    /// Concatenates along dimension 1 (channels); split is its inverse.
    func concatChannels(_ parts: [Tensor]) -> Tensor
    func splitChannels(_ x: Tensor, sizes: [Int]) -> [Tensor]

    /// Max pooling for the graph: the output and the function that maps its gradient to the input's. A device
    /// backend keeps the indices in device memory (`maxPool` returns them to the host, a copy per pass).
    func maxPoolWithPullback(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, pullback: (Tensor) -> Tensor)
    /// Waits until the work queued so far has finished (device backends run asynchronously); timing needs it.
    func synchronize()
}

extension Backend {
    public func maxPoolWithPullback(_ x: Tensor, geometry: WindowGeometry) -> (output: Tensor, pullback: (Tensor) -> Tensor) {
        let (y, argmax) = maxPool(x, geometry: geometry)
        let shape = x.shape
        return (y, { self.maxPoolBackward(outputGradient: $0, argmax: argmax, inputShape: shape) })
    }

    public func synchronize() {}
}

/// The backend used by layers and ops.
public enum Engine {
    nonisolated(unsafe) private static var processBackend: any Backend = CPUBackend()
    @TaskLocal private static var scopedBackend: (any Backend)?

    /// The backend set by `withBackend` for the current task, else the process-wide one (set here).
    public static var backend: any Backend {
        get { scopedBackend ?? processBackend }
        set { processBackend = newValue }
    }

    /// Runs `body` with `backend` for this task and the tasks it starts, leaving other threads' backend alone:
    /// concurrent jobs (or tests) can use different backends.
    public static func withBackend<R>(_ backend: any Backend, _ body: () throws -> R) rethrows -> R {
        try $scopedBackend.withValue(backend) { try body() }
    }
}
