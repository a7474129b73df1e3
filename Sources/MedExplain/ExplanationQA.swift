import MedEngine

/// The offline checks of a model's explanations (`medlens explain-qa`): the cascading randomisation sanity check,
/// ROAD faithfulness next to RandomCAM and Sobel baselines, and the pointing game where masks exist.
public enum ExplanationQA {
    /// A mean over samples with a seeded percentile-bootstrap 95 % interval (1000 resamples).
    public struct Interval: Sendable, Codable, Equatable {
        public var mean: Double
        public var low: Double
        public var high: Double

        init(_ values: [Double], rng: inout SeededRandom) {
            mean = values.reduce(0, +) / Double(values.count)
            var means: [Double] = []
            for _ in 0..<1000 {
                var total = 0.0
                for _ in values.indices { total += values[Int(rng.next() % UInt64(values.count))] }
                means.append(total / Double(values.count))
            }
            means.sort()
            low = means[25]; high = means[974]
        }
    }

    public struct Faithfulness: Sendable, Codable, Equatable {
        /// The method under test, `random_cam` or `sobel`.
        public var map: String
        /// Mean change of the probability over ROAD's percentiles; lower is better for MoRF, higher for LeRF.
        public var morf: Interval
        public var lerf: Interval
        /// (LeRF − MoRF) / 2 per sample: higher is more faithful.
        public var combined: Interval
    }

    public struct PointingGame: Sendable, Codable, Equatable {
        public var hits: Int
        public var samples: Int
        public var hitRate: Interval

        enum CodingKeys: String, CodingKey { case hits, samples, hitRate = "hit_rate" }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var sanity: SanityCheck.Report
        public var faithfulness: [Faithfulness]
        public var pointingGame: PointingGame?

        enum CodingKeys: String, CodingKey { case sanity, faithfulness, pointingGame = "pointing_game" }
    }

    /// - Parameters:
    ///   - inputs: preprocessed samples, each 1×C×… .
    ///   - targets: the output explained for each sample.
    ///   - masks: per sample, a mask on the input's grid (nonzero: the finding), for the pointing game.
    ///   - roadSamples: ROAD runs 18 imputations and forward passes per sample and map; at most this many samples.
    public static func run(model: any Model, architecture: String, inputs: [Tensor], targets: [Int], masks: [[Float]]? = nil,
                           settings: ExplainSettings = ExplainSettings(), roadSamples: Int = 50, seed: UInt64 = 1,
                           progress: (String) -> Void = { _ in }) throws(ExplainError) -> Report {
        progress("cascading randomisation over \(inputs.count) samples")
        let sanity = try SanityCheck.cascadingRandomisation(model: model, architecture: architecture, inputs: inputs,
                                                            targets: targets, settings: settings, seed: seed)
        var rng = SeededRandom(seed: seed &+ 1)
        var faithfulness: [Faithfulness] = []
        let is2D = inputs[0].rank == 4
        if is2D {
            let count = min(roadSamples, inputs.count)
            let layer = settings.layer ?? ClassActivation.defaultLayer(forArchitecture: architecture)
            var scores: [String: [(Double, Double)]] = [:]
            for k in 0..<count {
                progress("ROAD sample \(k + 1) of \(count)")
                let x = inputs[k], t = targets[k]
                let ours = try Explainer.maps(model: model, architecture: architecture, input: x, targets: [t], settings: settings)[0]
                let random = try BaselineMaps.randomCAM(model: model, input: x, layer: layer, rng: &rng)
                for (name, map) in [(settings.method.rawValue, ours), ("random_cam", random), ("sobel", BaselineMaps.sobel(x))] {
                    let s = ROAD.scores(model: model, input: x, map: map.values, target: t, rng: &rng)
                    scores[name, default: []].append((s.morf, s.lerf))
                }
            }
            for name in [settings.method.rawValue, "random_cam", "sobel"] {
                let s = scores[name]!
                faithfulness.append(Faithfulness(map: name, morf: Interval(s.map(\.0), rng: &rng), lerf: Interval(s.map(\.1), rng: &rng),
                                                 combined: Interval(s.map { ($0.1 - $0.0) / 2 }, rng: &rng)))
            }
        }
        var pointing: PointingGame?
        if let masks {
            precondition(masks.count == inputs.count, "one mask per sample")
            var hits: [Double] = []
            for (k, mask) in masks.enumerated() where mask.contains(where: { $0 != 0 }) {
                let map = try Explainer.maps(model: model, architecture: architecture, input: inputs[k], targets: [targets[k]], settings: settings)[0]
                precondition(mask.count == map.values.count, "a mask on the input's grid")
                hits.append(!map.isEmpty && mask[map.peakIndex] != 0 ? 1 : 0)
            }
            if !hits.isEmpty {
                pointing = PointingGame(hits: Int(hits.reduce(0, +)), samples: hits.count, hitRate: Interval(hits, rng: &rng))
            }
        }
        return Report(sanity: sanity, faithfulness: faithfulness, pointingGame: pointing)
    }
}
