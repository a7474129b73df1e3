import Foundation
import MedEngine

/// A verified model package ready to serve, with what findings must say about it: name, version, the sha256 of
/// its weights and the backend that runs it. Inference on one instance is serialised (layers keep caches).
public final class LoadedModel: @unchecked Sendable {
    public let name: String
    public let version: String
    public let sha256: String
    public let backend: String
    public let manifest: ModelManifest
    public let model: any Model
    /// Where it was loaded from (a store version folder or a package given by path).
    public let directory: URL
    private let lock = NSLock()

    public init(package: ModelPackage, directory: URL, backend: String) {
        manifest = package.manifest
        model = package.model
        name = package.manifest.name
        version = package.manifest.version
        sha256 = package.manifest.weightsSHA256.lowercased()
        self.backend = backend
        self.directory = directory
    }

    /// Loads and verifies (sha256, self-test) a package folder.
    public static func load(directory: URL, backend: String) throws(ModelPackageError) -> LoadedModel {
        LoadedModel(package: try ModelPackage.load(from: directory), directory: directory, backend: backend)
    }

    /// The served version of `name` in a store, verified.
    public static func loadCurrent(_ name: String, store: ModelStore, backend: String) throws(ModelStoreError) -> LoadedModel {
        let (version, package) = try store.loadCurrent(name)
        return LoadedModel(package: package, directory: store.directory(name: name, version: version), backend: backend)
    }

    public var reference: ModelReference {
        ModelReference(name: name, version: version, sha256: sha256, backend: backend)
    }

    /// Runs `body` with the network alone (an explanation's forward and backward passes).
    public func withModel<T, E: Error>(_ body: (any Model) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(model)
    }

    /// Logits for a batch of preprocessed samples (each `manifest.input.elementCount` values), one row each.
    public func logits(_ samples: [[Float]]) -> [[Float]] {
        guard !samples.isEmpty else { return [] }
        let shape = manifest.input.tensorShape
        let per = manifest.input.elementCount
        var flat = [Float]()
        flat.reserveCapacity(per * samples.count)
        for sample in samples {
            precondition(sample.count == per, "a sample of \(sample.count) values for an input of \(per)")
            flat += sample
        }
        let output: [Float] = lock.withLock {
            model.predict(Tensor(shape: [samples.count] + shape, data: flat)).scalars
        }
        let labels = output.count / samples.count
        return (0..<samples.count).map { Array(output[($0 * labels)..<(($0 + 1) * labels)]) }
    }
}

/// Runs batches of samples through a model. The daemon's batcher gathers samples of several jobs into one
/// batch; `DirectInference` (medlens classify) runs them at once.
public protocol InferenceService: Sendable {
    func logits(_ model: LoadedModel, _ samples: [[Float]]) -> [[Float]]
}

public struct DirectInference: InferenceService {
    public var maxBatch: Int
    public init(maxBatch: Int = 8) { self.maxBatch = max(1, maxBatch) }

    public func logits(_ model: LoadedModel, _ samples: [[Float]]) -> [[Float]] {
        stride(from: 0, to: samples.count, by: maxBatch).flatMap {
            model.logits(Array(samples[$0..<min($0 + maxBatch, samples.count)]))
        }
    }
}
