import Foundation
import MedImaging
import Testing
@testable import MedEngine

@Suite struct ModelStoreTests {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("medengine-store-\(UUID().uuidString)")

    /// A package of the small CNN written to `scratch/packages/<version>`.
    func package(version: String, seed: UInt64, width: Int = 4) throws -> URL {
        let manifest = ModelManifest(name: "pneumonia", version: version, architecture: .init(name: "small_cnn", width: width),
                                     input: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([])),
                                     labels: ["normal", "pneumonia"])
        let model = try ModelZoo.make(arch: "small_cnn", inChannels: 1, labels: 2, width: width, seed: seed)
        let url = scratch.appendingPathComponent("packages/\(version)")
        try ModelPackage(manifest: manifest, model: model).write(to: url)
        return url
    }

    @Test func publishFlipsCurrentAndRollbackWalksBack() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let store = ModelStore(root: scratch.appendingPathComponent("models"))
        try store.publish(packageAt: try package(version: "1", seed: 1))
        try store.publish(packageAt: try package(version: "2", seed: 2), note: "better AUROC")
        try store.publish(packageAt: try package(version: "10", seed: 3))
        #expect(store.list() == [.init(name: "pneumonia", versions: ["1", "2", "10"], current: "10")])
        // `current` is a relative link, so the store can be moved or mounted elsewhere.
        let link = scratch.appendingPathComponent("models/pneumonia/current").path
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "10")
        #expect(try store.loadCurrent("pneumonia").version == "10")

        #expect(try store.rollback("pneumonia") == "2")
        #expect(try store.rollback("pneumonia") == "1")
        #expect(throws: ModelStoreError.self) { try store.rollback("pneumonia") }
        #expect(store.currentVersion(of: "pneumonia") == "1")
        #expect(store.history(of: "pneumonia").map(\.action) == [.publish, .publish, .publish, .rollback, .rollback])
        #expect(store.history(of: "pneumonia")[1].note == "better AUROC")
        // Versions are immutable once published; nothing is left behind by the refusal.
        #expect(throws: ModelStoreError.self) { try store.publish(packageAt: try package(version: "2", seed: 9)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("models/pneumonia").path)
        #expect(names.sorted() == ["1", "10", "2", "current", "history.json"])
    }

    @Test func selfTestCatchesAPackageThatComputesSomethingElse() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let url = try package(version: "1", seed: 1)
        let loaded = try ModelPackage.load(from: url)
        #expect(loaded.manifest.selfTest?.logits.count == 2)
        #expect(loaded.manifest.selfTest?.mismatch(model: loaded.model, spec: loaded.manifest.input) == nil)

        // Same architecture and shapes, other weights, and a manifest whose checksum was updated to match:
        // the sha256 passes, the recorded logits do not.
        let other = try package(version: "2", seed: 2)
        let manifestURL = url.appendingPathComponent("model.json")
        var manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: manifestURL))
        manifest.weightsSHA256 = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: other.appendingPathComponent("model.json"))).weightsSHA256
        try JSONEncoder().encode(manifest).write(to: manifestURL)
        try FileManager.default.removeItem(at: url.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: other.appendingPathComponent("model.safetensors"), to: url.appendingPathComponent("model.safetensors"))
        #expect {
            try ModelPackage.load(from: url)
        } throws: { error in
            if case .selfTestFailed(let e) = error as? ModelPackageError { return e > 1e-3 }
            return false
        }
        // The store refuses to publish it.
        let store = ModelStore(root: scratch.appendingPathComponent("models"))
        #expect(throws: ModelStoreError.self) { try store.publish(packageAt: url) }
        #expect(store.list().isEmpty)
    }

    @Test func namesThatCannotBePathsAreRefused() {
        #expect(ModelStore.isValidComponent("chest-nih14"))
        #expect(ModelStore.isValidComponent("1.2.0"))
        for bad in ["", ".hidden", "../x", "a/b", "naïve", String(repeating: "a", count: 65)] {
            #expect(!ModelStore.isValidComponent(bad))
        }
    }
}
