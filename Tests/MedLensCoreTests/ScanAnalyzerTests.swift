import DaemonTestSupport
import Foundation
import MedEngine
import MedImaging
import Testing
@testable import MedLensCore

/// The pipeline against the model run by hand on the same preprocessed slices: routing, sampling of volumes
/// for 2D models, aggregation, thresholds, and what is reported when a model cannot run.
struct ScanAnalyzerTests {
    static func model(_ spec: TestModels.Spec, seed: UInt64) throws -> LoadedModel {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("analyzer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TestModels.writePackage(spec, version: "3", seed: seed, to: folder)
        return try LoadedModel.load(directory: folder, backend: "cpu")
    }

    static func volume(_ path: String) throws -> Volume {
        try #require(ScanReader.read(DaemonHarness.fixture(path)).volumes.first)
    }

    static let context = AnalysisContext(jobID: "run-1", files: 1, completeness: .single)

    @Test(arguments: [SliceAggregation.mean, .max])
    func twoDimensionalModelOnAVolumeUsesTheCentralSlices(_ aggregation: SliceAggregation) throws {
        let oct = try Self.model(TestModels.oct, seed: 11)
        let volume = try Self.volume("oct/test_volume.vol")
        #expect(volume.shape.depth == 10)
        let analyzer = ScanAnalyzer(settings: PipelineSettings(slices2D: 3, aggregation: aggregation), inference: DirectInference())
        guard case let .findings(document, _) = analyzer.analyse(volume, decision: .run(models: ["oct-test"], rule: "oct"),
                                                                 models: { $0 == "oct-test" ? oct : nil }, context: Self.context) else {
            Issue.record("no findings"); return
        }
        #expect(document.models.first?.sampling == .init(slices: [3, 4, 5], of: 10, aggregation: aggregation))
        #expect(document.models.first?.version == "3" && document.models.first?.sha256 == oct.sha256)
        // By hand: each slice preprocessed alone, one logit row per slice.
        let rows = oct.logits(try [3, 4, 5].map { try oct.manifest.input.tensor(from: volume.slice($0), name: "oct") })
        for (index, finding) in document.findings.enumerated() {
            let p = rows.map { 1 / (1 + exp(-Double($0[index]))) }
            let expected = aggregation == .mean ? p.reduce(0, +) / 3 : p.max()!
            #expect(abs(finding.probability - expected) < 1e-6)
            #expect(finding.slice == [3, 4, 5][p.firstIndex(of: p.max()!)!])
            #expect(finding.threshold == Double(oct.manifest.thresholds[index]))
            #expect(finding.positive == (finding.probability >= finding.threshold))
        }
    }

    @Test func wholeImageModelsGetTheLogitsOfOneSample() throws {
        let chest = try Self.model(TestModels.chest, seed: 12)
        let image = try Self.volume("dicom/fo-dicom/CR-MONO1-10-chest")
        let analyzer = ScanAnalyzer(settings: PipelineSettings(), inference: DirectInference())
        guard case let .findings(document, _) = analyzer.analyse(image, decision: .run(models: ["chest-test"], rule: "chest"),
                                                                 models: { _ in chest }, context: Self.context) else {
            Issue.record("no findings"); return
        }
        let row = chest.logits([try chest.manifest.input.tensor(from: image, name: "chest")])[0]
        #expect(document.findings.map(\.logit) == row.map(Double.init))
        #expect(document.findings.map(\.label) == ["pneumonia", "effusion"])
        #expect(document.models.first?.sampling == nil && document.findings.allSatisfy { $0.slice == nil })
        #expect(document.study.modality == "CR" && document.input.kind == "dicom" && document.route == "chest")
    }

    @Test func heldUnavailableAndUnsuitableAreReported() throws {
        let volumeModel = try Self.model(TestModels.volume, seed: 13)
        let photo = try Self.volume("photo/1410_left.jpg")
        let analyzer = ScanAnalyzer(settings: PipelineSettings(), inference: DirectInference())
        guard case .held(rule: "person") = analyzer.analyse(photo, decision: .hold(rule: "person"), models: { _ in nil }, context: Self.context) else {
            Issue.record("not held"); return
        }
        guard case .unavailable(models: ["absent"], rule: "r") = analyzer.analyse(photo, decision: .run(models: ["absent"], rule: "r"),
                                                                                  models: { _ in nil }, context: Self.context) else {
            Issue.record("not unavailable"); return
        }
        guard case let .findings(document, _) = analyzer.analyse(photo, decision: .run(models: ["volume-test", "absent"], rule: "r"),
                                                                 models: { $0 == "volume-test" ? volumeModel : nil }, context: Self.context) else {
            Issue.record("no document"); return
        }
        #expect(document.findings.isEmpty && document.models.isEmpty)
        #expect(document.skipped.map(\.reason).sorted() == ["model_unavailable", "needs_volume"])
    }

    /// Explanations as the policy says: all findings, the positive ones, or none; overlays named after the model
    /// and label, PNG data returned beside the document; an empty map reported, not drawn.
    @Test(arguments: [ExplainPolicy.all, .positive, .none])
    func explanationsFollowThePolicy(_ policy: ExplainPolicy) throws {
        let chest = try Self.model(TestModels.chest, seed: 12)
        let image = try Self.volume("dicom/fo-dicom/CR-MONO1-10-chest")
        let analyzer = ScanAnalyzer(settings: PipelineSettings(explain: policy), inference: DirectInference())
        guard case let .findings(document, overlays) = analyzer.analyse(image, decision: .run(models: ["chest-test"], rule: "chest"),
                                                                        models: { _ in chest }, context: Self.context) else {
            Issue.record("no findings"); return
        }
        for finding in document.findings {
            let wanted = policy == .all || (policy == .positive && finding.positive)
            #expect((finding.explanation != nil) == wanted, "\(finding)")
            guard let explanation = finding.explanation else { continue }
            #expect(explanation.method == "gradcam" && explanation.targetLayer == "conv3")
            if explanation.empty {
                #expect(explanation.overlays.isEmpty && explanation.peak == nil)
            } else {
                #expect(explanation.overlays.allSatisfy { $0.hasPrefix("chest-test-\(finding.label)") && $0.hasSuffix(".png") })
                #expect(explanation.peak.map { $0.count == 2 && $0[0] < image.shape.cols && $0[1] < image.shape.rows } == true)
            }
        }
        let named = Set(document.findings.flatMap { $0.explanation?.overlays ?? [] })
        #expect(Set(overlays.map(\.name)) == named)
        #expect(overlays.allSatisfy { $0.contents.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]) })
        #expect((document.timings["explain"] != nil) == (policy != .none))
    }
}
