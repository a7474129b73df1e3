extension Functional {
    public static func activation(_ kind: Activation, _ x: Variable) -> Variable {
        let be = Engine.backend
        let y = be.activation(kind, x.value)
        return Variable(y, inputs: [x]) { g in
            [be.activationBackward(kind, input: x.value, output: y, outputGradient: g)]
        }
    }

    public static func relu(_ x: Variable) -> Variable { activation(.relu, x) }
    public static func sigmoid(_ x: Variable) -> Variable { activation(.sigmoid, x) }
    public static func gelu(_ x: Variable) -> Variable { activation(.gelu, x) }
    public static func silu(_ x: Variable) -> Variable { activation(.silu, x) }
}
