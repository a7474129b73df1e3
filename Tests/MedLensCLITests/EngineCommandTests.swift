import Foundation
import NumPyFormat
import Testing

/// `medtrain import-torch` then `medlens run-model` on weights and logits PyTorch produced
/// (fixtures/engine, made by tools/engine/make_references.py), and `medlens bench --arch`.
struct EngineCommandTests {
    typealias CLI = MedlensCommandTests

    /// The fixtures' small_cnn (PyTorch weights) as a model package.
    static func importSmallCNN(to package: String) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CLI.run(["import-torch", "--arch", "small_cnn", "--width", "4", "--weights", CLI.fixture("engine/small_cnn.weights.safetensors"),
                     "--labels", "a,b,c", "--size", "28x28", "--channels", "1",
                     "--intensity", #"[{"op":"scale","factor":0.00392156862,"offset":0}]"#, "--out", package], tool: "medtrain")
    }

    @Test func importedTorchWeightsGiveTorchLogits() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-engine-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let package = scratch.appendingPathComponent("small-cnn").path
        let imported = try Self.importSmallCNN(to: package)
        #expect(imported.status == 0, "\(imported.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: package + "/model.json"))) as? [String: Any])
        #expect(manifest["labels"] as? [String] == ["a", "b", "c"])
        #expect((manifest["weightsSHA256"] as? String)?.count == 64)

        let output = scratch.appendingPathComponent("logits.npy")
        let ran = try CLI.run(["run-model", "--model", package, "--input", CLI.fixture("engine/small_cnn.input.npy"), "--output", output.path])
        #expect(ran.status == 0, "\(ran.stderr)")
        let logits = try NPYArray.read(from: output)
        let reference = try NPYArray.read(from: URL(fileURLWithPath: CLI.fixture("engine/small_cnn.logits.npy")))
        #expect(logits.shape == reference.shape)
        let worst = zip(logits.data, reference.data).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "max abs difference \(worst)")

        // A wrong input shape is refused with a message, not a crash.
        let wrong = try CLI.run(["run-model", "--model", package, "--input", CLI.fixture("engine/resnet18.input.npy"), "--output", output.path])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("does not fit the model"))
    }

    @Test func benchPrintsOneJSONObject() throws {
        let result = try CLI.run(["bench", "--arch", "small_cnn", "--input", "2x1x28x28", "--iterations", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Double])
        for key in ["median_ms", "min_ms", "max_ms", "gflops", "peak_rss_mb"] { #expect(json[key] != nil, "missing \(key)") }
        #expect(json["min_ms"]! <= json["median_ms"]! && json["median_ms"]! <= json["max_ms"]!)
        #expect(json["gflops"]! > 0)

        let explained = try CLI.run(["bench", "--arch", "small_cnn", "--input", "1x1x28x28", "--labels", "3", "--iterations", "2", "--explain", "3"])
        #expect(explained.status == 0, "\(explained.stderr)")
        let cost = try #require(try JSONSerialization.jsonObject(with: explained.stdout) as? [String: Any])
        #expect(cost["layer"] as? String == "conv3")
        #expect((cost["explain_ms"] as? Double ?? 0) > 0 && (cost["explain_over_inference"] as? Double ?? 0) > 0)
    }
}
