import Foundation
import NumPyFormat
import Testing
@testable import MedTrainKit

/// Every expected value here was computed by scikit-learn (tools/train/make_metric_refs.py).
@Suite struct MetricsTests {
    struct Reference: Decodable {
        struct Label: Decodable {
            var count: Int
            var positives: Int
            var auroc: Double?
            var average_precision: Double?
            var f1: Double?
            var sensitivity: Double?
            var specificity: Double?
            var brier: Double?
            var ece: Double?
            var youden_threshold: Double?
            var max_f1_threshold: Double?
            var max_f1: Double?
            var sensitivity_threshold: Double?
            var roc_fpr: [Double]?
            var roc_tpr: [Double]?
            var roc_thresholds: [Double]?
            var pr_precision: [Double]?
            var pr_recall: [Double]?
            var pr_thresholds: [Double]?
        }
        var threshold: Double
        var target_sensitivity: Double
        var labels: [Label]
        var mean_average_precision: Double
    }

    static func load(_ name: String) throws -> (ScoredLabels, Reference) {
        func array(_ suffix: String) throws -> NPYArray { try NPYArray.read(from: TrainFixtures.url("metrics/\(name)_\(suffix).npy")) }
        let scores = try array("scores"), labels = try array("labels"), mask = try array("mask")
        let scored = ScoredLabels(count: scores.shape[0], labelCount: scores.shape[1], scores: scores.data, labels: labels.data, mask: mask.data)
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TrainFixtures.url("metrics/\(name).json")))
        return (scored, reference)
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= 1e-9
    }

    @Test(arguments: ["ties", "continuous"])
    func perLabelMetricsMatchScikitLearn(case name: String) throws {
        let (scored, reference) = try Self.load(name)
        for (label, expected) in reference.labels.enumerated() {
            let outcomes = scored.outcomes(label: label)
            #expect(outcomes.scores.count == expected.count && outcomes.positiveCount == expected.positives)
            #expect(Self.close(outcomes.auroc(), expected.auroc), "AUROC, label \(label)")
            #expect(Self.close(outcomes.averagePrecision(), expected.average_precision), "AP, label \(label)")
            guard expected.auroc != nil else { continue }
            let confusion = outcomes.confusion(at: reference.threshold)
            #expect(Self.close(confusion.f1, expected.f1), "F1, label \(label)")
            #expect(Self.close(confusion.sensitivity, expected.sensitivity), "sensitivity, label \(label)")
            #expect(Self.close(confusion.specificity, expected.specificity), "specificity, label \(label)")
            #expect(Self.close(outcomes.brierScore(), expected.brier), "Brier, label \(label)")
            #expect(Self.close(outcomes.expectedCalibrationError(bins: 15), expected.ece), "ECE, label \(label)")
            #expect(outcomes.threshold(by: .youden) == expected.youden_threshold, "Youden threshold, label \(label)")
            #expect(outcomes.threshold(by: .maxF1) == expected.max_f1_threshold, "max-F1 threshold, label \(label)")
            #expect(Self.close(outcomes.confusion(at: outcomes.threshold(by: .maxF1)).f1, expected.max_f1), "max F1, label \(label)")
            #expect(outcomes.threshold(by: .targetSensitivity(minimum: reference.target_sensitivity)) == expected.sensitivity_threshold,
                    "sensitivity threshold, label \(label)")
        }
    }

    @Test(arguments: ["ties", "continuous"])
    func evaluationReportsMeanAveragePrecision(case name: String) throws {
        let (scored, reference) = try Self.load(name)
        let evaluation = Evaluation(scored, labelNames: reference.labels.indices.map { "L\($0)" }, rule: .youden, bootstrapResamples: 0)
        #expect(Self.close(evaluation.meanAveragePrecision, reference.mean_average_precision))
        #expect(zip(evaluation.labels, reference.labels).allSatisfy { $0.threshold == $1.youden_threshold })
        // A label without positives has no AUROC, AP or threshold, and the report still encodes as JSON.
        let json = try JSONEncoder().encode(evaluation)
        #expect(try JSONDecoder().decode(Evaluation.self, from: json) == evaluation)
    }

    /// The curves the plots draw: every point of scikit-learn's `roc_curve(drop_intermediate=False)` and
    /// `precision_recall_curve`.
    @Test(arguments: ["ties", "continuous"])
    func curvesMatchScikitLearn(case name: String) throws {
        let (scored, reference) = try Self.load(name)
        for (label, expected) in reference.labels.enumerated() {
            let outcomes = scored.outcomes(label: label)
            guard let fpr = expected.roc_fpr, let tpr = expected.roc_tpr, let precision = expected.pr_precision, let recall = expected.pr_recall
            else {
                #expect(outcomes.rocCurve().isEmpty)
                continue
            }
            let roc = outcomes.rocCurve()
            #expect(roc.count == fpr.count, "ROC points, label \(label)")
            #expect(zip(roc, zip(fpr, tpr)).allSatisfy { Self.close($0.fpr, $1.0) && Self.close($0.tpr, $1.1) }, "ROC, label \(label)")
            #expect(roc.dropFirst().map(\.threshold) == expected.roc_thresholds, "ROC thresholds, label \(label)")
            let pr = outcomes.precisionRecallCurve()
            #expect(pr.count == precision.count, "PR points, label \(label)")
            #expect(zip(pr, zip(recall, precision)).allSatisfy { Self.close($0.recall, $1.0) && Self.close($0.precision, $1.1) }, "PR, label \(label)")
            #expect(pr.map(\.threshold) == expected.pr_thresholds, "PR thresholds, label \(label)")
        }
    }

    @Test func aThresholdTheRuleCannotChooseFallsBack() {
        // Label 0 has no positives: no threshold by Youden J; the fallback is applied and reported as fixed.
        let scored = ScoredLabels(count: 4, labelCount: 1, scores: [0.2, 0.4, 0.6, 0.8], labels: [0, 0, 0, 0])
        let evaluation = Evaluation(scored, labelNames: ["none"], rule: .youden, fallback: 0.5, bootstrapResamples: 0)
        #expect(evaluation.labels[0].threshold == 0.5 && evaluation.labels[0].thresholdRule == .fixed(value: 0.5))
        #expect(evaluation.labels[0].specificity == 0.5)
        #expect(Evaluation(scored, labelNames: ["none"], rule: .youden, bootstrapResamples: 0).labels[0].threshold == nil)
    }

    @Test func bootstrapIntervalIsSeededAndBracketsTheEstimate() throws {
        let (scored, reference) = try Self.load("continuous")
        let outcomes = scored.outcomes(label: 0)  // 5% positives: a wide interval
        let interval = try #require(outcomes.aurocInterval(resamples: 500, seed: 7))
        #expect(Self.close(interval.estimate, reference.labels[0].auroc))
        #expect(interval.lower < interval.estimate && interval.estimate < interval.upper)
        #expect(interval.resamples == 500 && interval.level == 0.95)
        #expect(outcomes.aurocInterval(resamples: 500, seed: 7) == interval)
        #expect(outcomes.aurocInterval(resamples: 500, seed: 8) != interval)
        // The common label (60% positives) is estimated more tightly than the rare one.
        let common = try #require(scored.outcomes(label: 1).aurocInterval(resamples: 500, seed: 7))
        #expect(common.upper - common.lower < interval.upper - interval.lower)
    }

    @Test func thresholdRulesReadFromAConfig() throws {
        let json = #"[{"youden": {}}, {"maxF1": {}}, {"targetSensitivity": {"minimum": 0.9}}, {"fixed": {"value": 0.3}}]"#
        let rules = try JSONDecoder().decode([ThresholdRule].self, from: Data(json.utf8))
        #expect(rules == [.youden, .maxF1, .targetSensitivity(minimum: 0.9), .fixed(value: 0.3)])
    }

    @Test func aurocCountsTiesAsOneHalf() {
        // One positive tied with one negative, one positive above all: U = (1 + 0.5 + 1 + 1) / 4.
        let outcomes = BinaryOutcomes(scores: [0.9, 0.5, 0.5, 0.1], positives: [true, true, false, false])
        #expect(outcomes.auroc() == 0.875)
        #expect(BinaryOutcomes(scores: [0.3, 0.3], positives: [true, true]).auroc() == nil)
    }
}
