import Foundation
import MedEngine
import MedImaging

/// Small real model packages for tests: seeded `ModelZoo` networks written with their sha256 and self-test
/// logits, published into a store exactly as `medtrain` publishes. Tests check the pipeline's behaviour with
/// them, never particular outputs of the default models.
public enum TestModels {
    public struct Spec: Sendable {
        public var name: String
        public var arch: String
        public var input: InputSpec
        public var labels: [String]
        public var thresholds: [Float]
    }

    public static let chest = Spec(name: "chest-test", arch: "small_cnn",
                                   input: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.percentileClip(lower: 0.5, upper: 99.5), .minMax])),
                                   labels: ["pneumonia", "effusion"], thresholds: [0.5, 0.4])
    public static let fundus = Spec(name: "fundus-test", arch: "small_cnn",
                                    input: InputSpec(size: [32, 32], channels: 3, channelPolicy: .greyToRGB,
                                                     intensity: IntensityPipeline([.scale(factor: 1 / 255, offset: 0)])),
                                    labels: ["diabetes", "glaucoma", "cataract"], thresholds: [0.5, 0.5, 0.5])
    public static let oct = Spec(name: "oct-test", arch: "small_cnn",
                                 input: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.zScore(perChannel: false)])),
                                 labels: ["cnv", "dme", "drusen", "normal"], thresholds: [0.5, 0.5, 0.5, 0.5])
    public static let volume = Spec(name: "volume-test", arch: "small_cnn3d",
                                    input: InputSpec(size: [16, 16, 16], channels: 1, intensity: IntensityPipeline([.zScore(perChannel: false)])),
                                    labels: ["normal", "hyperplasia"], thresholds: [0.5, 0.5])
    public static let all = [chest, fundus, oct, volume]

    /// Writes a package of `spec` (weights drawn from `seed`) to `directory`.
    @discardableResult
    public static func writePackage(_ spec: Spec, version: String, seed: UInt64, to directory: URL) throws -> ModelManifest {
        let model = try ModelZoo.make(arch: spec.arch, inChannels: spec.input.channels, labels: spec.labels.count, width: 4, seed: seed)
        let manifest = ModelManifest(name: spec.name, version: version, architecture: .init(name: spec.arch, width: 4),
                                     input: spec.input, labels: spec.labels, thresholds: spec.thresholds, thresholdMethod: "default",
                                     provenance: ["made_by": "DaemonTestSupport.TestModels", "seed": String(seed)])
        return try ModelPackage(manifest: manifest, model: model).write(to: directory)
    }

    /// Publishes a new version of `spec` into `store`, as `medtrain` would.
    public static func publish(_ spec: Spec, version: String, seed: UInt64, into store: URL) throws {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("pkg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        try writePackage(spec, version: version, seed: seed, to: staging)
        try ModelStore(root: store).publish(packageAt: staging)
    }

    /// A store with version "1" of each model.
    public static func makeStore(at root: URL, models: [Spec] = all) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (index, spec) in models.enumerated() { try publish(spec, version: "1", seed: UInt64(100 + index), into: root) }
    }
}
