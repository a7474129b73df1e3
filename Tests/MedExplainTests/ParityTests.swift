import Foundation
import MedEngine
import NumPyFormat
import Testing
@testable import MedExplain

/// Our maps against pytorch-grad-cam 1.5.7 and Captum 0.9.0 on the same weights and input
/// (fixtures/explain, made by tools/explain/make_parity_fixtures.py). Gate on the final map: max abs ≤ 1e-3,
/// mean abs ≤ 1e-4, Pearson ≥ 0.9999, same argmax; raw maps within 1e-4 of their largest magnitude.
struct ParityTests {
    static let methods: [CAMMethod] = [.gradCAM, .hiResCAM, .gradCAMPlusPlus]

    @Test(arguments: ExplainFixtures.cases.map(\.name))
    func camMapsMatchPytorchGradCAM(name: String) throws {
        let c = ExplainFixtures.cases.first { $0.name == name }!
        let (model, x) = try ExplainFixtures.model(c)
        let logits = try ExplainFixtures.npy("\(name).logits.npy")
        let ours = model.predict(x).scalars
        for (a, b) in zip(ours, logits.data) { #expect(abs(a - b) <= 1e-4 + 1e-4 * abs(b), "\(name) logits \(ours) vs \(logits.data)") }

        let pass = try GradientPass(model: model, input: x, layer: c.layer)
        for method in Self.methods {
            let rawReference = try ExplainFixtures.npy("\(name).\(method.rawValue).raw.npy")
            let finalReference = try ExplainFixtures.npy("\(name).\(method.rawValue).final.npy")
            let finals = try Explainer.maps(model: model, architecture: c.architecture, input: x, targets: Array(0..<c.labels),
                                            settings: .compat(method: ExplanationMethod(rawValue: method.rawValue)!, layer: c.layer))
            var worst: MapComparison?
            for target in 0..<c.labels {
                let (a, g) = try pass.activationAndGradient(target: target)
                let raw = ClassActivation.raw(activation: a, gradient: g, method: method)
                let reference = ExplainFixtures.row(rawReference, target)
                let scale = reference.map(abs).max() ?? 0
                let rawError = zip(raw, reference).map { abs($0 - $1) }.max()!
                #expect(rawError <= 1e-4 * scale, "\(name) \(method) target \(target): raw error \(rawError) of \(scale)")
                let empty = (reference.max() ?? 0) <= 0
                #expect(finals[target].isEmpty == empty, "\(name) \(method) target \(target): empty flag")
                if method == .gradCAM { #expect(empty == c.gradCAMEmpty[target]) }
                let finalReferenceRow = ExplainFixtures.row(finalReference, target)
                if empty {
                    #expect(finals[target].values.allSatisfy { $0 == 0 } && finalReferenceRow.allSatisfy { $0 == 0 })
                    continue
                }
                // The gate does not apply where min-max stretches near-noise (research note §11.2).
                guard !finals[target].lowSignal else { continue }
                let comparison = MapComparison(finals[target].values, finalReferenceRow, shape: finals[target].shape,
                                               cell: zip(finals[target].shape, a.shape.dropFirst(2)).map { Double($0) / Double($1) })
                #expect(comparison.passesGate, "\(name) \(method) target \(target): \(comparison)")
                if worst == nil || comparison.maxAbs > worst!.maxAbs { worst = comparison }
            }
            print("parity \(name) \(method.rawValue): worst target \(worst.map(String.init(describing:)) ?? "none (all empty)")")
        }
    }

    /// 3D product mode: trilinear (half-pixel centres) from the same low-res map as torch's `F.interpolate`.
    @Test(arguments: ExplainFixtures.cases.filter { $0.input.count == 5 }.map(\.name))
    func trilinearProductModeMatchesTorchInterpolate(name: String) throws {
        let c = ExplainFixtures.cases.first { $0.name == name }!
        let (model, x) = try ExplainFixtures.model(c)
        let reference = try ExplainFixtures.npy("\(name).gradcam.trilinear.npy")
        let finals = try Explainer.maps(model: model, architecture: c.architecture, input: x, targets: Array(0..<c.labels),
                                        settings: ExplainSettings(layer: c.layer))
        let grid = try ClassActivation.maps(model: model, input: x, layer: c.layer, targets: [0])[0].shape
        for target in 0..<c.labels where !c.gradCAMEmpty[target] {
            let comparison = MapComparison(finals[target].values, ExplainFixtures.row(reference, target), shape: finals[target].shape,
                                           cell: zip(finals[target].shape, grid).map { Double($0) / Double($1) })
            #expect(comparison.passesGate, "\(name) target \(target): \(comparison)")
            print("parity \(name) gradcam trilinear target \(target): \(comparison)")
        }
    }

    /// Occlusion against Captum's `Occlusion` (same window, stride, baseline 0): max |Δ| ≤ 1e-4 · max |attr|.
    @Test(arguments: ExplainFixtures.cases.map(\.name))
    func occlusionMatchesCaptum(name: String) throws {
        let c = ExplainFixtures.cases.first { $0.name == name }!
        let (model, x) = try ExplainFixtures.model(c)
        let reference = try ExplainFixtures.npy("\(name).occlusion.npy")
        let settings = OcclusionSettings(window: c.occlusionWindow, stride: c.occlusionStride, baseline: 0, batchSize: 5)
        let result = try Occlusion.sweep(model: model, input: x, targets: Array(0..<c.labels), settings: settings)
        #expect(result.shape == Array(c.input.dropFirst(2)))
        var worstRelative: Float = 0
        for target in 0..<c.labels {
            let expected = ExplainFixtures.row(reference, target)
            let scale = expected.map(abs).max()!
            let error = zip(result.maps[target], expected).map { abs($0 - $1) }.max()!
            #expect(error <= 1e-4 * scale, "\(name) target \(target): occlusion error \(error) of \(scale)")
            worstRelative = max(worstRelative, error / scale)
        }
        print("parity \(name) occlusion vs Captum: worst max|Δ|/max|attr| \(worstRelative), \(result.passes) passes")
    }
}
