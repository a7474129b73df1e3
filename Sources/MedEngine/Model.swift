import Foundation

/// A network: a forward pass over graph variables and its tensors under PyTorch state_dict names.
public protocol Model {
    /// 2 for N×C×H×W inputs, 3 for N×C×D×H×W.
    var spatialDims: Int { get }
    func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable
    /// Parameters and buffers in state_dict order, under torchvision's names.
    func namedParameters() -> [(String, Parameter)]
}

public enum ModelError: Error, Equatable {
    case missingTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case unknownArchitecture(String)
}

extension Model {
    /// Logits for a batch with the inference path (folded batch-norm, no graph).
    public func predict(_ x: Tensor) -> Tensor { forward(Variable(x), .inference).value }

    public var trainableParameters: [Parameter] { namedParameters().filter { !$0.1.isBuffer }.map(\.1) }

    public func zeroGradients() { for (_, p) in namedParameters() { p.grad = nil } }

    /// Name → tensor, as torch's state_dict().
    public func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.0, $0.1.value) })
    }

    /// Loads every tensor by name; shapes must match. `num_batches_tracked` may be absent.
    public func load(_ state: [String: Tensor]) throws(ModelError) {
        for (name, p) in namedParameters() {
            guard let t = state[name] else {
                if name.hasSuffix("num_batches_tracked") { continue }
                throw .missingTensor(name)
            }
            let expected = p.value.shape, found = t.shape
            guard expected.reduce(1, *) == found.reduce(1, *), expected.filter({ $0 != 1 }) == found.filter({ $0 != 1 }) else {
                throw .shapeMismatch(name: name, expected: expected, found: found)
            }
            p.value = t.reshaped(expected)
        }
    }
}

/// A convolution followed by batch-norm (and optionally ReLU). In inference the batch-norm is folded into
/// the convolution's weights and bias, and the ReLU runs in the convolution's epilogue.
public struct ConvBN {
    public let conv: Conv
    public let bn: BatchNorm
    private let cache = FoldCache()

    public init(_ conv: Conv, _ bn: BatchNorm) {
        self.conv = conv
        self.bn = bn
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext, relu: Bool) -> Variable {
        if !ctx.training && !ctx.recordsGraph {
            let (w, b) = cache.folded(conv, bn)
            return Variable(Engine.backend.convolution(x.value, weight: w, bias: b, geometry: conv.geometry,
                                                       groups: conv.groups, fuseReLU: relu))
        }
        let y = bn.forward(conv.forward(x, ctx), ctx)
        return relu ? Functional.relu(y) : y
    }

    public func parameters(convPrefix: String, bnPrefix: String) -> [(String, Parameter)] {
        conv.parameters(prefix: convPrefix) + bn.parameters(prefix: bnPrefix)
    }
}

/// Folded weights, rebuilt when any source tensor changes (training, loading).
final class FoldCache: @unchecked Sendable {
    private let lock = NSLock()
    private var key: [Int] = []
    private var folded: (Tensor, Tensor)?

    func folded(_ conv: Conv, _ bn: BatchNorm) -> (Tensor, Tensor) {
        lock.lock(); defer { lock.unlock() }
        let sources = [conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar] + (conv.bias.map { [$0] } ?? [])
        let now = sources.map { ObjectIdentifier($0).hashValue ^ $0.version }
        if let folded, now == key { return folded }
        let (scale, shift) = bn.evalScaleShift
        let out = conv.weight.value.shape[0], per = conv.weight.value.count / out
        let w = conv.weight.value.copy(), b = shift.copy()
        for o in 0..<out {
            for i in 0..<per { w.ptr[o * per + i] *= scale.ptr[o] }
            if let cb = conv.bias { b.ptr[o] += cb.value.ptr[o] * scale.ptr[o] }
        }
        key = now
        folded = (w, b)
        return (w, b)
    }
}

/// Batch-norm then ReLU; fused into one pass in inference (DenseNet's pre-activation order).
func bnReLU(_ bn: BatchNorm, _ x: Variable, _ ctx: ForwardContext) -> Variable {
    if !ctx.training && !ctx.recordsGraph {
        let s = bn.evalScaleShift
        return Variable(Engine.backend.channelAffine(x.value, scale: s.scale, shift: s.shift, fuseReLU: true))
    }
    return Functional.relu(bn.forward(x, ctx))
}

/// Square kernels/strides/paddings for `dims` spatial dimensions.
func cube(_ v: Int, _ dims: Int) -> [Int] { Array(repeating: v, count: dims) }
