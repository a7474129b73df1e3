/// A trainable tensor (or a buffer such as batch-norm running statistics) under its PyTorch name.
public final class Parameter {
    public var value: Tensor { didSet { version &+= 1 } }
    public var grad: Tensor?
    /// Buffers are saved and loaded but never optimised.
    public let isBuffer: Bool
    /// Bumped on every write so cached derived tensors (folded batch-norm) know when to rebuild.
    public private(set) var version = 0

    public init(_ value: Tensor, isBuffer: Bool = false) {
        self.value = value
        self.isBuffer = isBuffer
    }

    func accumulate(_ g: Tensor) {
        grad = grad.map { Engine.backend.axpby($0, alpha: 1, g, beta: 1) } ?? g
    }
}

/// A node of the reverse-mode graph: a value, its gradient after `backward`, and how to push a gradient
/// to its inputs.
public final class Variable {
    public let value: Tensor
    public internal(set) var grad: Tensor?
    let inputs: [Variable]
    let pullback: ((Tensor) -> [Tensor?])?
    let parameter: Parameter?
    let tracksGradient: Bool
    /// Inputs asked for and recorded activations keep their gradient after `backward`; other intermediate
    /// gradients are dropped as soon as they have been pulled back, which halves training memory.
    var retainsGradient: Bool

    /// A constant input, or one whose gradient is wanted (`requiresGradient`).
    public init(_ value: Tensor, requiresGradient: Bool = false) {
        self.value = value
        inputs = []
        pullback = nil
        parameter = nil
        tracksGradient = requiresGradient
        retainsGradient = requiresGradient
    }

    init(parameter: Parameter, track: Bool) {
        value = parameter.value
        inputs = []
        pullback = nil
        self.parameter = parameter
        tracksGradient = track && !parameter.isBuffer
        retainsGradient = false
    }

    init(_ value: Tensor, inputs: [Variable], pullback: @escaping (Tensor) -> [Tensor?]) {
        self.value = value
        let tracked = inputs.contains { $0.tracksGradient }
        self.inputs = tracked ? inputs : []
        self.pullback = tracked ? pullback : nil
        parameter = nil
        tracksGradient = tracked
        retainsGradient = false
    }

    public var shape: [Int] { value.shape }

    /// Back-propagates `seed` (default: ones, for a scalar loss). Afterwards inputs created with
    /// `requiresGradient` and activations recorded by name hold their gradient in `grad`, and parameters have
    /// theirs accumulated into `Parameter.grad`.
    /// With `target`, only the part of the graph between `target` and this node is walked, and no parameter
    /// gradient is accumulated: Grad-CAM needs ∂y/∂A for one activation, not a backward pass through the
    /// whole network.
    public func backward(seed: Tensor? = nil, downTo target: Variable? = nil) {
        var order: [Variable] = []
        var seen = Set<ObjectIdentifier>()
        // Iterative depth-first post-order: deep networks would overflow a recursive walk.
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard node.tracksGradient, seen.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs { stack.append((input, false)) }
        }
        // Post-order puts inputs first, so whether a node depends on `target` is known when it is reached.
        var onPath = Set<ObjectIdentifier>()
        if let target {
            for node in order where node === target || node.inputs.contains(where: { onPath.contains(ObjectIdentifier($0)) }) {
                onPath.insert(ObjectIdentifier(node))
            }
        }
        let wanted = { (node: Variable) in target == nil || onPath.contains(ObjectIdentifier(node)) }
        grad = seed ?? Tensor(shape: value.shape, repeating: 1)
        for node in order.reversed() where wanted(node) {
            guard let g = node.grad else { continue }
            if let p = node.parameter { p.accumulate(g) }
            guard node !== target, let pullback = node.pullback else { continue }
            for (input, ig) in zip(node.inputs, pullback(g)) where input.tracksGradient && wanted(input) {
                guard let ig else { continue }
                input.grad = input.grad.map { Engine.backend.axpby($0, alpha: 1, ig, beta: 1) } ?? ig
            }
            if !node.retainsGradient { node.grad = nil }
        }
    }
}

/// One forward pass: train or eval behaviour, whether to record the graph, and the named activations
/// recorded along the way (Grad-CAM reads `activations[name]?.grad` after `backward`).
public final class ForwardContext {
    public let training: Bool
    /// Without a graph, ops keep no inputs or closures, and convolutions take the folded inference path.
    public let recordsGraph: Bool
    public private(set) var activations: [String: Variable] = [:]
    /// Activation names to record (e.g. ["layer4"]); nil records none.
    let keep: Set<String>?
    var rng: SeededRandom

    public init(training: Bool, recordsGraph: Bool? = nil, keepActivations: Set<String>? = nil, seed: UInt64 = 0) {
        self.training = training
        self.recordsGraph = recordsGraph ?? training
        keep = keepActivations
        rng = SeededRandom(seed: seed)
    }

    public static var inference: ForwardContext { ForwardContext(training: false) }

    /// Wraps a parameter as a graph leaf.
    func leaf(_ p: Parameter) -> Variable { Variable(parameter: p, track: recordsGraph) }

    /// Forgets the gradients of the recorded activations, so that the same graph can be back-propagated again
    /// for another target (one forward pass serves every finding of a scan).
    public func clearActivationGradients() {
        for v in activations.values { v.grad = nil }
    }

    /// Records an intermediate activation under its module name (e.g. "layer4") when asked for.
    @discardableResult
    func record(_ name: String, _ v: Variable) -> Variable {
        if keep?.contains(name) == true {
            v.retainsGradient = true
            activations[name] = v
        }
        return v
    }
}
