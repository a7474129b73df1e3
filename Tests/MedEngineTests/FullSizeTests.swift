import Foundation
import MedImaging
import NumPyFormat
import Testing
@testable import MedEngine

/// Full-size torchvision models imported with ModelPackage.importTorch give PyTorch's logits.
/// The references (~700 MB) are made by tools/engine/check_full_size.py; set MEDENGINE_FULLSIZE_DIR to run.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MEDENGINE_FULLSIZE_DIR"] != nil))
struct FullSizeTests {
    @Test(arguments: ["resnet18", "resnet50", "densenet121", "vgg16", "r3d_18"])
    func importedTorchvisionModelMatchesPyTorch(_ arch: String) throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["MEDENGINE_FULLSIZE_DIR"]!)
        let x = try NPYArray.read(from: dir.appendingPathComponent("\(arch).input.npy")).tensor
        let ref = try NPYArray.read(from: dir.appendingPathComponent("\(arch).logits.npy")).tensor
        let manifest = ModelManifest(name: arch, version: "0", architecture: .init(name: arch),
                                     input: InputSpec(size: Array(x.shape.dropFirst(2)), channels: x.shape[1], intensity: IntensityPipeline([])),
                                     labels: (0..<ref.shape[1]).map { "class\($0)" })
        let package = try ModelPackage.importTorch(weights: dir.appendingPathComponent("\(arch).safetensors"), manifest: manifest)
        let logits = package.model.predict(x)
        let error = ParityTests.logitError(logits, ref)
        // PyTorch's float32 logits carry float32 error themselves (ResNet-50's ~2e-4 relative, logits up to
        // ~800): the acceptance is measured against the same model in float64 when the script wrote it.
        let exactURL = dir.appendingPathComponent("\(arch).logits64.npy")
        let exact = FileManager.default.fileExists(atPath: exactURL.path) ? try NPYArray.read(from: exactURL).tensor : nil
        let exactError = exact.map { ParityTests.logitError(logits, $0) }
        print("full-size \(arch): max |Δ|/(1+|ref|) = \(error) vs PyTorch float32, \(exactError.map { "\($0)" } ?? "-") vs float64, max |Δ| = \(logits.maxAbsDifference(ref))")
        #expect((exactError ?? error) <= 1e-4)
    }
}
