import MedExplain

/// How the pipeline turns a scan into findings; the daemon's `[pipeline]` configuration and `medlens classify`'s
/// options both fill it.
public struct PipelineSettings: Sendable, Equatable {
    /// A 2D model given a volume (OCT B-scans, a CT series) sees this many slices around the middle.
    public var slices2D: Int
    /// How the per-slice probabilities of a 2D model on a volume become one per label.
    public var aggregation: SliceAggregation
    /// Which findings get an explanation.
    public var explain: ExplainPolicy
    public var explainMethod: ExplanationMethod
    public var patientKey: PatientKey

    public init(slices2D: Int = 5, aggregation: SliceAggregation = .mean, explain: ExplainPolicy = .positive,
                explainMethod: ExplanationMethod = .gradCAM, patientKey: PatientKey = .omitted) {
        self.slices2D = slices2D; self.aggregation = aggregation; self.explain = explain; self.explainMethod = explainMethod
        self.patientKey = patientKey
    }
}

public enum SliceAggregation: String, Sendable, Equatable, CaseIterable, Codable {
    /// The mean probability over the slices: robust to one odd slice.
    case mean
    /// The highest probability of any slice: a finding seen anywhere counts.
    case max
}

public enum ExplainPolicy: String, Sendable, Equatable, CaseIterable, Codable {
    case none, positive, all
}
