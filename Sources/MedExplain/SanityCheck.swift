import MedEngine

/// Adebayo et al.'s cascading model-parameter randomisation (NeurIPS 2018): re-initialise the network's modules
/// from the output down, one more at each stage, and compare each sample's map with the trained model's. A method
/// that explains the model must produce maps that change; Arun et al. (2021) call it degraded once the mean SSIM
/// falls below that of random pairs of the trained model's maps (the baseline).
public enum SanityCheck {
    public struct Stage: Sendable, Codable, Equatable {
        /// The module re-initialised at this stage (all those listed before it stay re-initialised).
        public var randomised: String
        public var meanSSIM: Double
        /// Over the samples whose maps both have a ranking (an empty map has none).
        public var meanSpearman: Double?
        public var samplesWithoutRanking: Int
        /// Maps that became empty.
        public var emptyMaps: Int

        enum CodingKeys: String, CodingKey {
            case randomised, meanSSIM = "mean_ssim", meanSpearman = "mean_spearman"
            case samplesWithoutRanking = "samples_without_ranking", emptyMaps = "empty_maps"
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var method: ExplanationMethod
        public var layer: String
        public var samples: Int
        /// Mean SSIM of random pairs of the trained model's maps (different samples).
        public var baselineSSIM: Double
        public var stages: [Stage]

        /// The last stage's mean SSIM is below the baseline and its mean Spearman below 0.5 (a threshold of the
        /// research note, not a published one).
        public var passes: Bool

        enum CodingKeys: String, CodingKey {
            case method, layer, samples, baselineSSIM = "baseline_ssim", stages, passes
        }

        init(method: ExplanationMethod, layer: String, samples: Int, baselineSSIM: Double, stages: [Stage]) {
            self.method = method; self.layer = layer; self.samples = samples; self.baselineSSIM = baselineSSIM; self.stages = stages
            passes = stages.last.map { $0.meanSSIM < baselineSSIM && ($0.meanSpearman ?? 0) < 0.5 } ?? false
        }
    }

    /// The modules of a model in state_dict order (the first component of each parameter name: `conv1`, `bn1`,
    /// `layer1`, …, `fc`), each with its parameters.
    public static func modules(of model: any Model) -> [(String, [(String, Parameter)])] {
        var result: [(String, [(String, Parameter)])] = []
        for (name, p) in model.namedParameters() {
            let module = String(name.split(separator: ".").first ?? Substring(name))
            if result.last?.0 == module { result[result.count - 1].1.append((name, p)) } else { result.append((module, [(name, p)])) }
        }
        return result
    }

    /// Runs the cascade on `inputs` (each 1×C×…) for one target each. The model is restored afterwards.
    /// - Parameter stages: how many modules to re-initialise, from the output down (nil: all).
    public static func cascadingRandomisation(model: any Model, architecture: String, inputs: [Tensor], targets: [Int],
                                              settings: ExplainSettings = ExplainSettings(), stages: Int? = nil,
                                              seed: UInt64 = 1) throws(ExplainError) -> Report {
        precondition(inputs.count == targets.count && inputs.count >= 2, "at least two samples, one target each")
        func maps() throws(ExplainError) -> [ActivationMap] {
            var result: [ActivationMap] = []
            for (x, t) in zip(inputs, targets) {
                result.append(try Explainer.maps(model: model, architecture: architecture, input: x, targets: [t], settings: settings)[0])
            }
            return result
        }
        let trained = try maps()
        var rng = SeededRandom(seed: seed)
        var pairs = 0.0, pairTotal = 0.0
        for _ in 0..<50 {
            let i = Int(rng.next() % UInt64(trained.count))
            var j = Int(rng.next() % UInt64(trained.count - 1))
            if j >= i { j += 1 }
            pairTotal += MapSimilarity.ssim(trained[i].values, trained[j].values, shape: trained[i].shape)
            pairs += 1
        }
        let modules = Array(Self.modules(of: model).reversed().prefix(stages ?? Int.max))
        let saved = modules.flatMap { $0.1.map { ($0.1, $0.1.value) } }
        defer { for (p, value) in saved { p.value = value } }
        var report: [Stage] = []
        for (module, parameters) in modules {
            reinitialise(parameters, rng: &rng)
            let randomised = try maps()
            var ssim = 0.0, spearman = 0.0, ranked = 0
            for (a, b) in zip(trained, randomised) {
                ssim += MapSimilarity.ssim(a.values, b.values, shape: a.shape)
                if let s = MapSimilarity.spearman(a.values, b.values) { spearman += s; ranked += 1 }
            }
            report.append(Stage(randomised: module, meanSSIM: ssim / Double(trained.count),
                                meanSpearman: ranked > 0 ? spearman / Double(ranked) : nil,
                                samplesWithoutRanking: trained.count - ranked, emptyMaps: randomised.filter(\.isEmpty).count))
        }
        let layer = settings.method.cam == nil ? "input" : settings.layer ?? ClassActivation.defaultLayer(forArchitecture: architecture)
        return Report(method: settings.method, layer: layer, samples: inputs.count, baselineSSIM: pairTotal / pairs, stages: report)
    }

    /// PyTorch's `reset_parameters()`, which is also the engine's initialisation: convolution and linear weights and
    /// biases uniform in ±1/√fan_in; batch-norm γ = 1, β = 0 and its running statistics reset (mean 0, variance 1).
    static func reinitialise(_ parameters: [(String, Parameter)], rng: inout SeededRandom) {
        let names = Set(parameters.map(\.0))
        for (name, p) in parameters {
            let prefix = name.contains(".") ? String(name[..<name.lastIndex(of: ".")!]) : name
            if names.contains(prefix + ".running_mean") {
                let one = name.hasSuffix(".weight") || name.hasSuffix(".running_var")
                if !name.hasSuffix("num_batches_tracked") { p.value = Tensor(shape: p.value.shape, repeating: one ? 1 : 0) }
                continue
            }
            guard !p.isBuffer else { continue }
            let weight = parameters.first { $0.0 == prefix + ".weight" }?.1.value ?? p.value
            let fanIn = weight.rank >= 2 ? weight.count / weight.shape[0] : max(1, weight.count)
            let bound = 1 / Float(fanIn).squareRoot()
            var t = Tensor(shape: p.value.shape)
            for i in 0..<t.count { t[flat: i] = rng.uniform(-bound, bound) }
            p.value = t
        }
    }
}
