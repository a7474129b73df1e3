/// Differentiable operations on graph variables, one family per file (like torch.nn.functional).
public enum Functional {}

extension Functional {
    /// N-d grouped convolution; the spatial rank comes from the geometry (2 → NCHW, 3 → NCDHW).
    public static func conv(_ x: Variable, weight: Variable, bias: Variable?, geometry: WindowGeometry,
                            groups: Int = 1) -> Variable {
        let be = Engine.backend
        let y = be.convolution(x.value, weight: weight.value, bias: bias?.value, geometry: geometry, groups: groups,
                               fuseReLU: false)
        return Variable(y, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { g in
            let r = be.convolutionBackward(x.value, weight: weight.value, outputGradient: g, geometry: geometry,
                                           groups: groups, needInputGradient: x.tracksGradient)
            return [r.input, r.weight, r.bias]
        }
    }
}

/// torch.nn.Conv2d / Conv3d: `weight` (O×C/g×k…) and optional `bias`.
public struct Conv {
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: WindowGeometry
    public let groups: Int

    /// Kaiming-uniform-like initialisation (PyTorch's default bound 1/sqrt(fan_in)·sqrt(3)·sqrt(1/3)).
    public init(_ inChannels: Int, _ outChannels: Int, kernel: [Int], stride: [Int]? = nil, padding: [Int]? = nil,
                dilation: [Int]? = nil, groups: Int = 1, bias: Bool = true, rng: inout SeededRandom) {
        let dims = kernel.count
        geometry = WindowGeometry(kernel: kernel, stride: stride ?? Array(repeating: 1, count: dims),
                                  padding: padding ?? Array(repeating: 0, count: dims),
                                  dilation: dilation ?? Array(repeating: 1, count: dims))
        self.groups = groups
        let fanIn = inChannels / groups * kernel.reduce(1, *)
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Parameter(uniformTensor([outChannels, inChannels / groups] + kernel, bound: bound, rng: &rng))
        self.bias = bias ? Parameter(uniformTensor([outChannels], bound: bound, rng: &rng)) : nil
    }

    public func forward(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        Functional.conv(x, weight: ctx.leaf(weight), bias: bias.map(ctx.leaf), geometry: geometry, groups: groups)
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        [(join(prefix, "weight"), weight)] + (bias.map { [(join(prefix, "bias"), $0)] } ?? [])
    }
}

func uniformTensor(_ shape: [Int], bound: Float, rng: inout SeededRandom) -> Tensor {
    var t = Tensor.uninitialized(shape)
    t.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = (rng.uniform() * 2 - 1) * bound } }
    return t
}

/// Joins PyTorch module paths ("layer1.0" + "conv1" → "layer1.0.conv1").
func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
