import Foundation
import MedImaging
import NumPyFormat
import Testing
@testable import MedEngine

@Suite struct SerializationTests {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("medengine-tests-\(UUID().uuidString)")

    @Test func npyRoundTripAndNumPyWrittenFile() throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let a = NPYArray(shape: [2, 3, 1], data: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -0.25])
        let url = scratch.appendingPathComponent("a.npy")
        try a.write(to: url)
        #expect(try NPYArray.read(from: url) == a)
        // Header preamble padded to 64 bytes, as NumPy requires for version 1.0.
        let bytes = try Data(contentsOf: url)
        #expect((bytes.count - 24) % 64 == 0)
        // Files written by NumPy: float32 (the parity inputs) and uint8 (the training images).
        let input = try NPYArray.read(from: Fixtures.url("resnet18.input.npy"))
        #expect(input.shape == [2, 3, 64, 64])
        let images = try NPYArray.read(from: Fixtures.url("pneumonia_test_images.npy"))
        #expect(images.shape == [160, 28, 28])
        #expect(images.data.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
        #expect(throws: NPYArray.FormatError.notNPY) { try NPYArray.parse(Data("not an array".utf8)) }
    }

    @Test func safetensorsRoundTripKeepsValuesAndPyTorchDTypes() throws {
        let model = SmallCNN(inChannels: 2, labels: 3, width: 4, seed: 5)
        let data = SafeTensors.encode(model.stateDictionary(), metadata: ["format": "pt"])
        let (tensors, metadata) = try SafeTensors.decode(data)
        #expect(metadata == ["format": "pt"])
        for (name, t) in model.stateDictionary() {
            #expect(tensors[name]?.shape == t.shape)
            #expect(tensors[name]?.scalars == t.scalars)
        }
        // The header is 8-byte aligned, and num_batches_tracked is written as I64 like torch's.
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        let header = String(decoding: data[8..<(8 + Int(headerLength))], as: UTF8.self)
        #expect(header.contains("\"bn1.num_batches_tracked\":{\"data_offsets\""))
        #expect(header.contains("\"dtype\":\"I64\""))
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(data.prefix(100)) }
    }

    @Test func safetensorsReadsTorchWrittenFileWithInt64Buffers() throws {
        let state = try SafeTensors.read(from: Fixtures.url("small_cnn.weights.safetensors")).tensors
        #expect(state["conv1.weight"]?.shape == [4, 1, 3, 3])
        #expect(state["bn1.num_batches_tracked"]?.scalars == [0])
        #expect(state.count == SmallCNN(inChannels: 1, labels: 3, width: 4).namedParameters().count)
    }

    @Test func checksumMatchesFIPSVectors() {
        #expect(Checksum.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Checksum.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let twoBlocks = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(Checksum.sha256Hex(twoBlocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func modelPackageRoundTripAndChecksum() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let manifest = ModelManifest(name: "pneumonia", version: "1", architecture: .init(name: "resnet18_28", width: 4),
                                     input: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([.scale(factor: 1 / 255, offset: 0)])),
                                     labels: ["normal", "pneumonia"])
        let model = try ModelZoo.make(arch: "resnet18_28", inChannels: 1, labels: 2, width: 4, seed: 3)
        let written = try ModelPackage(manifest: manifest, model: model).write(to: scratch)
        #expect(written.weightsSHA256.count == 64)
        let loaded = try ModelPackage.load(from: scratch)
        #expect(loaded.manifest == written)
        let x = randomTensor([2, 1, 28, 28], seed: 4)
        #expect(loaded.model.predict(x).scalars == model.predict(x).scalars)
        // One flipped byte in the weights must be caught before anything is loaded.
        let weights = scratch.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: weights)
        #expect {
            try ModelPackage.load(from: scratch)
        } throws: { error in
            if case .checksumMismatch = error as? ModelPackageError { return true }
            return false
        }
    }

    @Test func importTorchStateDictionary() throws {
        let manifest = ModelManifest(name: "r18", version: "1", architecture: .init(name: "resnet18", width: 4),
                                     input: InputSpec(size: [64, 64], channels: 3, intensity: IntensityPipeline([])), labels: ["a", "b", "c"])
        let package = try ModelPackage.importTorch(weights: Fixtures.url("resnet18.weights.safetensors"), manifest: manifest)
        let ref = try Fixtures.npy("resnet18.logits.npy")
        #expect(package.model.predict(try Fixtures.npy("resnet18.input.npy")).maxAbsDifference(ref) < 1e-4)
        // Wrong label count: the fc shape no longer fits.
        var wrong = manifest
        wrong.labels = ["a", "b"]
        #expect(throws: ModelPackageError.self) { try ModelPackage.importTorch(weights: Fixtures.url("resnet18.weights.safetensors"), manifest: wrong) }
    }
}
