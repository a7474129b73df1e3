import Foundation
import MedImaging

/// `model.json`: what the model is, what it expects, and the checksum of its weights.
public struct ModelManifest: Codable, Equatable, Sendable {
    public struct Architecture: Codable, Equatable, Sendable {
        public var name: String
        /// First-stage width when not the standard one (reduced models in tests).
        public var width: Int?
        public init(name: String, width: Int? = nil) { self.name = name; self.width = width }
    }

    public var name: String
    public var version: String
    public var architecture: Architecture
    public var input: InputSpec
    public var labels: [String]
    public var thresholds: [Float]
    /// How thresholds were chosen ("youden", "f1", "sensitivity:0.9", "default").
    public var thresholdMethod: String
    public var metrics: [String: Double]
    public var provenance: [String: String]
    public var weightsSHA256: String
    /// Logits recorded for a fixed seeded input when the package was written; checked on load.
    public var selfTest: SelfTest?

    public init(name: String, version: String, architecture: Architecture, input: InputSpec, labels: [String],
                thresholds: [Float]? = nil, thresholdMethod: String = "default", metrics: [String: Double] = [:],
                provenance: [String: String] = [:], weightsSHA256: String = "") {
        self.name = name; self.version = version; self.architecture = architecture; self.input = input
        self.labels = labels; self.thresholds = thresholds ?? Array(repeating: 0.5, count: labels.count)
        self.thresholdMethod = thresholdMethod; self.metrics = metrics; self.provenance = provenance
        self.weightsSHA256 = weightsSHA256
    }
}

/// A fixed input (standard normal draws from `SeededRandom(seed:)`, shape 1×`input.tensorShape`) and the
/// logits the package gave for it when written. A package that loads but computes something else (a wrong
/// architecture width, a broken backend, a weights file from another model with the same shapes) is refused.
public struct SelfTest: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var logits: [Float]

    public static let defaultSeed: UInt64 = 20_261_202

    public init(seed: UInt64, logits: [Float]) { self.seed = seed; self.logits = logits }

    public static func input(for spec: InputSpec, seed: UInt64) -> Tensor {
        var random = SeededRandom(seed: seed)
        return random.tensor([1] + spec.tensorShape)
    }

    public static func record(model: any Model, spec: InputSpec, seed: UInt64 = defaultSeed) -> SelfTest {
        SelfTest(seed: seed, logits: model.predict(input(for: spec, seed: seed)).scalars)
    }

    /// The largest |Δ| / (1 + |recorded|) between the recorded logits and the model's now; `nil` when they
    /// agree within `tolerance` (1e-3: backends and kernels differ in float32 rounding, not in more).
    public func mismatch(model: any Model, spec: InputSpec, tolerance: Float = 1e-3) -> Float? {
        let now = model.predict(Self.input(for: spec, seed: seed)).scalars
        guard now.count == logits.count else { return .infinity }
        let worst = zip(now, logits).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
        return worst <= tolerance ? nil : worst
    }
}

public enum ModelPackageError: Error, Equatable {
    case unreadable(String)
    case invalidManifest(String)
    case checksumMismatch(expected: String, found: String)
    /// The model's logits for the recorded self-test input differ from the recorded ones (relative error).
    case selfTestFailed(relativeError: Float)
    case weights(SafeTensorsError)
    case model(ModelError)
}

/// A model directory: `model.json` + `model.safetensors` (weights under torchvision names).
public struct ModelPackage {
    public var manifest: ModelManifest
    public let model: any Model

    public init(manifest: ModelManifest, model: any Model) {
        self.manifest = manifest
        self.model = model
    }

    /// Loads and verifies a package: the weights' sha256 must equal the manifest's.
    public static func load(from directory: URL) throws(ModelPackageError) -> ModelPackage {
        let manifestURL = directory.appendingPathComponent("model.json")
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        let manifest: ModelManifest
        let weights: Data
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: manifestURL))
        } catch is DecodingError {
            throw .invalidManifest(manifestURL.path)
        } catch {
            throw .unreadable(manifestURL.path)
        }
        do { weights = try Data(contentsOf: weightsURL, options: .alwaysMapped) } catch { throw .unreadable(weightsURL.path) }
        let digest = Checksum.sha256Hex(weights)
        guard digest == manifest.weightsSHA256.lowercased() else {
            throw .checksumMismatch(expected: manifest.weightsSHA256, found: digest)
        }
        let state: [String: Tensor]
        do { state = try SafeTensors.decode(weights).tensors } catch { throw .weights(error) }
        let package = try instantiate(manifest, state)
        if let test = manifest.selfTest, let error = test.mismatch(model: package.model, spec: manifest.input) {
            throw .selfTestFailed(relativeError: error)
        }
        return package
    }

    /// Writes the weights, records their sha256 and the self-test logits in the manifest, then writes
    /// `model.json` last so a reader never sees a manifest without its weights.
    @discardableResult
    public func write(to directory: URL) throws -> ModelManifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = SafeTensors.encode(model.stateDictionary(), metadata: ["format": "pt"])
        try weights.write(to: directory.appendingPathComponent("model.safetensors"), options: .atomic)
        var m = manifest
        m.weightsSHA256 = Checksum.sha256Hex(weights)
        m.selfTest = SelfTest.record(model: model, spec: manifest.input)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(m).write(to: directory.appendingPathComponent("model.json"), options: .atomic)
        return m
    }

    /// Builds a package from a PyTorch state_dict saved as safetensors (`medtrain import-torch`).
    public static func importTorch(weights: URL, manifest: ModelManifest) throws(ModelPackageError) -> ModelPackage {
        let state: [String: Tensor]
        do { state = try SafeTensors.read(from: weights).tensors } catch { throw .weights(error) }
        return try instantiate(manifest, state)
    }

    private static func instantiate(_ manifest: ModelManifest, _ state: [String: Tensor]) throws(ModelPackageError) -> ModelPackage {
        do {
            let model = try ModelZoo.make(arch: manifest.architecture.name, inChannels: manifest.input.channels,
                                          labels: manifest.labels.count, width: manifest.architecture.width)
            try model.load(state)
            return ModelPackage(manifest: manifest, model: model)
        } catch {
            throw .model(error)
        }
    }
}
