import Testing
@testable import MedEngine

/// Every op's backward pass against finite differences.
@Suite struct GradientTests {
    let checker = GradientChecker()

    @Test(arguments: [
        // (in, out, kernel, stride, padding, dilation, groups, bias)
        (3, 4, 3, 1, 1, 1, 1, true), (4, 6, 3, 2, 1, 1, 2, false), (2, 3, 3, 1, 2, 2, 1, true),
        (3, 2, 1, 1, 0, 1, 1, false), (4, 4, 3, 2, 0, 1, 4, true),
    ])
    func conv2d(_ c: (Int, Int, Int, Int, Int, Int, Int, Bool)) {
        let x = randomTensor([2, c.0, 7, 6], seed: 1)
        let w = randomTensor([c.1, c.0 / c.6, c.2, c.2], seed: 2, scale: 0.5)
        let b = randomTensor([c.1], seed: 3)
        let g = WindowGeometry(kernel: [c.2, c.2], stride: [c.3, c.3], padding: [c.4, c.4], dilation: [c.5, c.5])
        let ratio = checker.worstRatio(c.7 ? [x, w, b] : [x, w]) { v in
            Functional.conv(v[0], weight: v[1], bias: c.7 ? v[2] : nil, geometry: g, groups: c.6)
        }
        #expect(ratio <= 1)
    }

    @Test func conv3dWithStrideDilationGroupsAndBias() {
        let x = randomTensor([2, 4, 5, 6, 5], seed: 4)
        let w = randomTensor([6, 2, 3, 3, 2], seed: 5, scale: 0.5)
        let b = randomTensor([6], seed: 6)
        let g = WindowGeometry(kernel: [3, 3, 2], stride: [1, 2, 1], padding: [1, 1, 0], dilation: [1, 1, 2])
        #expect(checker.worstRatio([x, w, b]) { v in Functional.conv(v[0], weight: v[1], bias: v[2], geometry: g, groups: 2) } <= 1)
    }

    @Test(arguments: [[2, 3, 4, 5], [2, 3, 3, 2, 4]])
    func batchNormTraining(_ shape: [Int]) {
        let x = randomTensor(shape, seed: 8, scale: 2)
        let gamma = randomTensor([3], seed: 9), beta = randomTensor([3], seed: 10)
        #expect(checker.worstRatio([x, gamma, beta]) { v in
            Functional.batchNormTraining(v[0], gamma: v[1], beta: v[2], eps: 1e-5).output
        } <= 1)
    }

    @Test func batchNormEvalGraph() {
        var bn = BatchNorm(3)
        bn.runningMean.value = randomTensor([3], seed: 11)
        bn.runningVar.value = Tensor(shape: [3], data: [0.5, 1.5, 2])
        bn.weight.value = randomTensor([3], seed: 12)
        let ctx = ForwardContext(training: false, recordsGraph: true)
        let x = randomTensor([2, 3, 4, 4], seed: 13)
        #expect(checker.worstRatio([x]) { v in bn.forward(v[0], ctx) } <= 1)
        _ = bn
    }

    @Test(arguments: Activation.allCases)
    func activation(_ kind: Activation) {
        let x = randomTensor([2, 3, 5], seed: 14, scale: 2)
        #expect(checker.worstRatio([x]) { v in Functional.activation(kind, v[0]) } <= 1)
    }

    @Test(arguments: [[2, 2, 7, 6], [1, 2, 5, 6, 5]])
    func maxPool(_ shape: [Int]) {
        let x = randomTensor(shape, seed: 15)
        let g = WindowGeometry.pool(dims: shape.count - 2, kernel: 3, stride: 2, padding: 1)
        #expect(checker.worstRatio([x]) { v in Functional.maxPool(v[0], geometry: g) } <= 1)
    }

    @Test(arguments: [[2, 2, 7, 6], [1, 2, 5, 6, 5]])
    func avgPool(_ shape: [Int]) {
        let x = randomTensor(shape, seed: 16)
        let g = WindowGeometry.pool(dims: shape.count - 2, kernel: 3, stride: 2, padding: 1)
        #expect(checker.worstRatio([x]) { v in Functional.avgPool(v[0], geometry: g) } <= 1)
    }

    @Test(arguments: [([2, 3, 7, 5], [3, 2]), ([1, 2, 5, 4, 6], [2, 3, 4]), ([2, 2, 6, 6], [1, 1])])
    func adaptiveAvgPool(_ c: ([Int], [Int])) {
        let x = randomTensor(c.0, seed: 17)
        #expect(checker.worstRatio([x]) { v in Functional.adaptiveAvgPool(v[0], outputSize: c.1) } <= 1)
    }

    @Test func linear() {
        let x = randomTensor([3, 5], seed: 18), w = randomTensor([4, 5], seed: 19), b = randomTensor([4], seed: 20)
        #expect(checker.worstRatio([x, w, b]) { v in Functional.linear(v[0], weight: v[1], bias: v[2]) } <= 1)
    }

    @Test func addConcatFlatten() {
        let a = randomTensor([2, 2, 3, 3], seed: 21), b = randomTensor([2, 2, 3, 3], seed: 22), c = randomTensor([2, 1, 3, 3], seed: 23)
        #expect(checker.worstRatio([a, b, c]) { v in
            Functional.flatten(Functional.concat([Functional.add(v[0], v[1]), v[2], v[0]]))
        } <= 1)
    }

    @Test func dropoutUsesTheSameMaskForwardAndBackward() {
        let x = randomTensor([4, 8], seed: 24)
        let ratio = checker.worstRatio([x]) { v in Functional.dropout(v[0], p: 0.3, ForwardContext(training: true, seed: 5)) }
        #expect(ratio <= 1)
        let y = Functional.dropout(Variable(x), p: 0.3, ForwardContext(training: true, seed: 5)).value
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(zeros > 0 && zeros < x.count)
        #expect(Functional.dropout(Variable(x), p: 0.3, ForwardContext(training: false)).value.scalars == x.scalars)
    }

    @Test func bceWithLogitsMaskAndPosWeight() {
        let x = randomTensor([3, 4], seed: 25, scale: 2)
        let y = Tensor(shape: [3, 4], data: [1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0])
        let mask = Tensor(shape: [3, 4], data: [1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1])
        let pw = Tensor(shape: [4], data: [1, 3, 0.5, 2])
        #expect(checker.worstRatio([x]) { v in Functional.bceWithLogits(v[0], targets: y, mask: mask, posWeight: pw) } <= 1)
        // A masked entry cannot change the loss.
        var moved = x
        moved[flat: 2] += 5
        let a = Functional.bceWithLogits(Variable(x), targets: y, mask: mask, posWeight: pw).value[flat: 0]
        let b = Functional.bceWithLogits(Variable(moved), targets: y, mask: mask, posWeight: pw).value[flat: 0]
        #expect(a == b)
    }

    @Test func crossEntropy() {
        let x = randomTensor([4, 5], seed: 26, scale: 2)
        #expect(checker.worstRatio([x]) { v in Functional.crossEntropy(v[0], targets: [0, 3, 4, 1]) } <= 1)
    }

    @Test func namedActivationGradientEqualsHeadWeightsOverPooledArea() {
        // logit_k = Σ_c W[k,c]·mean(h_c) + b_k, so d logit_k / d h_c(i,j) = W[k,c] / (H·W) exactly.
        let model = SmallCNN(inChannels: 1, labels: 2, width: 2, seed: 3)
        let x = randomTensor([1, 1, 12, 12], seed: 27)
        let ctx = ForwardContext(training: false, recordsGraph: true, keepActivations: ["conv3"])
        let logits = model.forward(Variable(x), ctx)
        logits.backward(seed: Tensor(shape: [1, 2], data: [0, 1]))
        let grad = ctx.activations["conv3"]?.grad ?? Tensor(shape: [0])
        #expect(grad.shape == [1, 8, 3, 3])
        let w = model.fc.weight.value
        var worst: Float = 0
        for c in 0..<8 { for i in 0..<9 { worst = max(worst, abs(grad[flat: c * 9 + i] - w[flat: 8 + c] / 9)) } }
        #expect(worst < 1e-7)
    }
}

@Test func gradientCheckerRejectsAWrongBackward() {
    // The checker itself must fail a pullback that is off by a factor.
    let x = randomTensor([2, 3], seed: 28)
    let ratio = GradientChecker().worstRatio([x]) { v in
        let y = Engine.backend.activation(.sigmoid, v[0].value)
        return Variable(y, inputs: [v[0]]) { g in [Engine.backend.axpby(g, alpha: 0.9, g, beta: 0)] }
    }
    #expect(ratio > 1)
}
