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

    public init(name: String, version: String, architecture: Architecture, input: InputSpec, labels: [String],
                thresholds: [Float]? = nil, thresholdMethod: String = "default", metrics: [String: Double] = [:],
                provenance: [String: String] = [:], weightsSHA256: String = "") {
        self.name = name; self.version = version; self.architecture = architecture; self.input = input
        self.labels = labels; self.thresholds = thresholds ?? Array(repeating: 0.5, count: labels.count)
        self.thresholdMethod = thresholdMethod; self.metrics = metrics; self.provenance = provenance
        self.weightsSHA256 = weightsSHA256
    }
}

public enum ModelPackageError: Error, Equatable {
    case unreadable(String)
    case invalidManifest(String)
    case checksumMismatch(expected: String, found: String)
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
        return try instantiate(manifest, state)
    }

    /// Writes the weights, records their sha256 in the manifest, then writes `model.json` last so a reader
    /// never sees a manifest without its weights.
    @discardableResult
    public func write(to directory: URL) throws -> ModelManifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = SafeTensors.encode(model.stateDictionary(), metadata: ["format": "pt"])
        try weights.write(to: directory.appendingPathComponent("model.safetensors"), options: .atomic)
        var m = manifest
        m.weightsSHA256 = Checksum.sha256Hex(weights)
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
