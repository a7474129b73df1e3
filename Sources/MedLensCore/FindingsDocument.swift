import Foundation

/// The result of one job: one JSON file per series or volume, `outbox/<study>/<series>/findings.json`.
/// The schema is docs/findings.schema.json; `schemaVersion` changes whenever a field changes meaning.
public struct FindingsDocument: Codable, Sendable, Equatable {
    public static let schemaID = "https://medlens.invalid/schemas/findings.schema.json"
    public static let currentVersion = 1

    public var schema: String = FindingsDocument.schemaID
    public var schemaVersion: Int = FindingsDocument.currentVersion
    public var jobID: String
    public var study: StudyReference
    public var input: InputDescription
    public var models: [ModelReference]
    public var findings: [Finding]
    /// Milliseconds per stage: read, preprocess, inference, explain, write.
    public var timings: [String: Double]
    public var warnings: [String]
    public var createdAt: Date
    /// Set when this result replaces an earlier one for the same series (late images re-ran it).
    public var replaces: String?
    /// The routing rule that chose the models ("fallback" when none matched, "model" when one was asked for).
    public var route: String?
    /// Routed models that did not run on this scan, and why.
    public var skipped: [SkippedModel]

    public init(jobID: String, study: StudyReference, input: InputDescription, models: [ModelReference],
                findings: [Finding], timings: [String: Double] = [:], warnings: [String] = [],
                createdAt: Date = Date(), replaces: String? = nil, route: String? = nil, skipped: [SkippedModel] = []) {
        self.jobID = jobID; self.study = study; self.input = input; self.models = models; self.findings = findings
        self.timings = timings; self.warnings = warnings; self.createdAt = createdAt; self.replaces = replaces
        self.route = route; self.skipped = skipped
    }

    /// Encodes with sorted keys and ISO 8601 dates, the only form MedLens writes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> FindingsDocument {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(FindingsDocument.self, from: data)
    }
}

/// Identifiers of what was analysed. Never a patient name; a patient ID only as configured (see `PatientKey`).
public struct StudyReference: Codable, Sendable, Equatable {
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var sopInstanceUIDs: [String]
    public var modality: String?
    /// The configured patient reference: a keyed hash by default, the plain ID only if configured.
    public var patient: String?

    public init(studyInstanceUID: String?, seriesInstanceUID: String?, sopInstanceUIDs: [String], modality: String?, patient: String?) {
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUIDs = sopInstanceUIDs; self.modality = modality; self.patient = patient
    }
}

public struct InputDescription: Codable, Sendable, Equatable {
    public enum Completeness: String, Codable, Sendable {
        /// The headers say how many images there are, and all arrived.
        case complete
        /// No image arrived for the configured quiet period; the headers could not say.
        case quietPeriod = "quiet_period"
        /// Processed with fewer images than the headers announce.
        case partial
        /// A single image or file: nothing to wait for.
        case single
        /// The files given to `medlens classify`, taken as the whole series.
        case asGiven = "as_given"
    }
    public var kind: String
    public var files: Int
    public var shape: [Int]
    public var spacing: [Double]
    public var completeness: Completeness
    /// What the completeness rests on: the count the headers announce, what arrived, the quiet time waited.
    public var evidence: CompletenessEvidence?

    public init(kind: String, files: Int, shape: [Int], spacing: [Double], completeness: Completeness,
                evidence: CompletenessEvidence? = nil) {
        self.kind = kind; self.files = files; self.shape = shape; self.spacing = spacing; self.completeness = completeness
        self.evidence = evidence
    }
}

/// Why a series was judged complete (or processed without being so).
public struct CompletenessEvidence: Codable, Sendable, Equatable {
    /// Which header announced the count: ImagesInAcquisition, NumberOfFrames, NumberOfTemporalPositions; nil if none did.
    public var source: String?
    public var expected: Int?
    /// Distinct images (SOP instances) that arrived.
    public var received: Int
    /// Seconds without a new image before the series was processed, when the quiet period decided.
    public var quietSeconds: Double?
    /// Steps between neighbouring slice positions that are larger than the usual step.
    public var gaps: Int?

    public init(source: String?, expected: Int?, received: Int, quietSeconds: Double? = nil, gaps: Int? = nil) {
        self.source = source; self.expected = expected; self.received = received; self.quietSeconds = quietSeconds; self.gaps = gaps
    }
}

/// A routed model that did not run, with a stable reason code (`needs_volume`, `channels`, `model_unavailable`,
/// `preprocess_failed`).
public struct SkippedModel: Codable, Sendable, Equatable {
    public var model: String
    public var reason: String
    public var message: String
    public init(model: String, reason: String, message: String) { self.model = model; self.reason = reason; self.message = message }
}

public struct ModelReference: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var sha256: String
    public var backend: String
    /// How a 2D model saw a volume: which slices, and how their probabilities were combined. Nil when the model
    /// took the scan whole (a 2D image, or a volume for a 3D model).
    public var sampling: Sampling?

    public init(name: String, version: String, sha256: String, backend: String, sampling: Sampling? = nil) {
        self.name = name; self.version = version; self.sha256 = sha256; self.backend = backend; self.sampling = sampling
    }

    public struct Sampling: Codable, Sendable, Equatable {
        /// Slice indices (0-based, in volume order) the model was run on.
        public var slices: [Int]
        /// Slices in the volume.
        public var of: Int
        public var aggregation: SliceAggregation
        public init(slices: [Int], of: Int, aggregation: SliceAggregation) {
            self.slices = slices; self.of = of; self.aggregation = aggregation
        }
    }
}

public struct Finding: Codable, Sendable, Equatable {
    public var model: String
    public var label: String
    public var logit: Double
    public var probability: Double
    public var threshold: Double
    public var positive: Bool
    /// For a 2D model on a volume: the slice where this label's probability was highest.
    public var slice: Int?
    public var explanation: Explanation?

    public init(model: String, label: String, logit: Double, probability: Double, threshold: Double, slice: Int? = nil,
                explanation: Explanation? = nil) {
        self.model = model; self.label = label; self.logit = logit; self.probability = probability
        self.threshold = threshold; self.positive = probability >= threshold; self.slice = slice; self.explanation = explanation
    }
}

public struct Explanation: Codable, Sendable, Equatable {
    public var method: String
    public var targetLayer: String
    /// Statistics of the raw map before normalisation; `empty` when it is all zero after ReLU (nothing drawn).
    public var mapMin: Double
    public var mapMax: Double
    public var mapMean: Double
    public var empty: Bool
    /// Where the map peaks, in original pixel coordinates: column, row (and slice for volumes).
    public var peak: [Int]?
    /// Overlay files, relative to the findings document.
    public var overlays: [String]

    public init(method: String, targetLayer: String, mapMin: Double, mapMax: Double, mapMean: Double, empty: Bool,
                peak: [Int]?, overlays: [String]) {
        self.method = method; self.targetLayer = targetLayer; self.mapMin = mapMin; self.mapMax = mapMax
        self.mapMean = mapMean; self.empty = empty; self.peak = peak; self.overlays = overlays
    }
}
