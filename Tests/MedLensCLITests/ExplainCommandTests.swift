import Foundation
import NumPyFormat
import Testing

/// `medlens explain` (array and scan forms) and `medlens explain-qa`, on the parity fixtures (fixtures/explain, made
/// by tools/explain/make_parity_fixtures.py) and the engine-trained PneumoniaMNIST model.
struct ExplainCommandTests {
    typealias CLI = MedlensCommandTests

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medlens-explain-cli-\(UUID().uuidString)")
    }

    /// A parity model imported from its PyTorch weights.
    static func importCase(_ name: String, arch: String, labels: Int, size: String, into scratch: URL) throws -> String {
        let package = scratch.appendingPathComponent(name).path
        let width = arch.hasPrefix("small_cnn") ? "4" : arch == "resnet18_3d" ? "2" : "4"
        let result = try CLI.run(["import-torch", "--arch", arch, "--width", width, "--weights", CLI.fixture("explain/\(name).weights.safetensors"),
                                  "--labels", (0..<labels).map { "f\($0)" }.joined(separator: ","), "--size", size, "--channels", "1",
                                  "--interpolation", size.split(separator: "x").count == 3 ? "trilinear" : "bilinear",
                                  "--intensity", #"[{"op":"min_max"}]"#, "--out", package], tool: "medtrain")
        #expect(result.status == 0, "\(result.stderr)")
        return package
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(_ url: URL) throws -> (Int, Int) {
        let d = [UInt8](try Data(contentsOf: url))
        #expect(d.count > 24 && Array(d[1..<4]) == Array("PNG".utf8))
        func be(_ o: Int) -> Int { d[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    @Test func arrayFormWritesThePytorchGradCAMMap() throws {
        let scratch = Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let package = try Self.importCase("small_cnn_2d", arch: "small_cnn", labels: 6, size: "60x50", into: scratch)
        let reference = try NPYArray.read(from: URL(fileURLWithPath: CLI.fixture("explain/small_cnn_2d.gradcampp.final.npy")))
        let cam = scratch.appendingPathComponent("cam.npy"), overlay = scratch.appendingPathComponent("cam.png")
        let ran = try CLI.run(["explain", "--model", package, "--input", CLI.fixture("explain/small_cnn_2d.input.npy"), "--target", "1",
                               "--method", "gradcampp", "--compat", "--output", cam.path, "--overlay", overlay.path])
        #expect(ran.status == 0, "\(ran.stderr)")
        let map = try NPYArray.read(from: cam)
        #expect(map.shape == [60, 50])
        let expected = Array(reference.data[3000..<6000])
        let worst = zip(map.data, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-3, "max abs \(worst) against pytorch-grad-cam")
        #expect(try Self.pngSize(overlay) == (50, 60))
        let summary = try #require(try JSONSerialization.jsonObject(with: ran.stdout) as? [String: Any])
        let record = try #require(summary["explanation"] as? [String: Any])
        #expect(record["method"] as? String == "gradcampp" && record["targetLayer"] as? String == "conv3" && record["empty"] as? Bool == false)
        #expect(summary["colormap"] as? String == "jet" && summary["label"] as? String == "f1" && summary["target"] as? Int == 1)

        // Target 0's Grad-CAM map is empty: reported, all zeros, no overlay drawn.
        let emptyOverlay = scratch.appendingPathComponent("empty.png")
        let empty = try CLI.run(["explain", "--model", package, "--input", CLI.fixture("explain/small_cnn_2d.input.npy"), "--target", "0",
                                 "--output", cam.path, "--overlay", emptyOverlay.path])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stderr.contains("empty"))
        #expect(try NPYArray.read(from: cam).data.allSatisfy { $0 == 0 })
        #expect(!FileManager.default.fileExists(atPath: emptyOverlay.path))
        let emptyRecord = (try JSONSerialization.jsonObject(with: empty.stdout) as? [String: Any])?["explanation"] as? [String: Any]
        #expect(emptyRecord?["empty"] as? Bool == true && emptyRecord?["overlays"] as? [String] == [] && emptyRecord?["peak"] == nil)

        // Mistakes are refused with a reason.
        let wrong = try CLI.run(["explain", "--model", package, "--input", CLI.fixture("explain/resnet18_2d.input.npy"), "--target", "1", "--output", cam.path])
        #expect(wrong.status != 0 && wrong.stderr.contains("does not fit the model"))
        let layer = try CLI.run(["explain", "--model", package, "--input", CLI.fixture("explain/small_cnn_2d.input.npy"), "--target", "1",
                                 "--layer", "layer4", "--output", cam.path])
        #expect(layer.status != 0 && layer.stderr.contains("no activation named layer4"))
        let target = try CLI.run(["explain", "--model", package, "--input", CLI.fixture("explain/small_cnn_2d.input.npy"), "--target", "9", "--output", cam.path])
        #expect(target.status != 0 && target.stderr.contains("outside 0..<6"))
    }

    @Test func scanFormExplainsARealChestXRay() throws {
        let scratch = Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ran = try CLI.run(["explain", CLI.fixture("dicom/fo-dicom/CR-MONO1-10-chest"), "--model", CLI.fixture("explain/pneumonia-small-cnn"),
                               "--out", scratch.path])
        #expect(ran.status == 0, "\(ran.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.appendingPathComponent("explanations.json"))) as? [String: Any])
        let volumes = try #require(document["volumes"] as? [[String: Any]])
        #expect(volumes.count == 1 && volumes[0]["shape"] as? [Int] == [1, 1, 440, 440])
        let finding = try #require((volumes[0]["findings"] as? [[String: Any]])?.first)
        #expect(finding["label"] as? String == "Pneumonia" && finding["positive"] as? Bool == true)
        let record = try #require(finding["explanation"] as? [String: Any])
        #expect(record["targetLayer"] as? String == "conv3" && record["method"] as? String == "gradcam")
        let peak = try #require(record["peak"] as? [Int])
        #expect(peak.count == 2 && (0..<440).contains(peak[0]) && (0..<440).contains(peak[1]))
        let files = try #require(record["overlays"] as? [String])
        #expect(files == ["Pneumonia-overlay.png", "Pneumonia-map.png"])
        for file in files { #expect(try Self.pngSize(scratch.appendingPathComponent(file)) == (440, 440), "\(file) at the scan's own size") }
    }

    @Test func scanFormDrawsSlicesMosaicAndEnFaceForAVolume() throws {
        let scratch = Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let package = try Self.importCase("small_cnn_3d", arch: "small_cnn3d", labels: 4, size: "24x32x28", into: scratch)
        let out = scratch.appendingPathComponent("out")
        // eyepy's synthetic 10-B-scan Spectralis file: the B-scan volume and its SLO picture.
        let ran = try CLI.run(["explain", CLI.fixture("oct/test_volume.vol"), "--model", package, "--out", out.path, "--all"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("explanations.json"))) as? [String: Any])
        let volumes = try #require(document["volumes"] as? [[String: Any]])
        #expect(volumes.first?["shape"] as? [Int] == [1, 10, 40, 50])
        let findings = try #require(volumes.first?["findings"] as? [[String: Any]])
        #expect(findings.count == 4)
        for finding in findings {
            let record = try #require(finding["explanation"] as? [String: Any])
            let files = record["overlays"] as? [String] ?? []
            if record["empty"] as? Bool == true { #expect(files.isEmpty); continue }
            #expect(files.contains { $0.hasSuffix("-mosaic.png") } && files.contains { $0.hasSuffix("-enface.png") }
                && files.contains { $0.contains("-slice") })
            #expect((record["peak"] as? [Int])?.count == 3)
            for file in files { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)") }
        }
    }

    @Test func qaCommandRunsTheSanityCheckROADAndPointingGame() throws {
        let scratch = Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // The pointing game on masks covering the lower half of each image.
        let masks = scratch.appendingPathComponent("masks.npy")
        try NPYArray(shape: [160, 28, 28], data: (0..<160).flatMap { _ in (0..<784).map { $0 >= 392 ? Float(1) : 0 } }).write(to: masks)
        let report = scratch.appendingPathComponent("qa.json")
        let ran = try CLI.run(["explain-qa", "--model", CLI.fixture("explain/pneumonia-small-cnn"), "--inputs", CLI.fixture("engine/pneumonia_test_images.npy"),
                               "--preprocess", "--truth", CLI.fixture("engine/pneumonia_test_labels.npy"), "--masks", masks.path,
                               "--samples", "8", "--road-samples", "2", "--out", report.path])
        #expect(ran.status == 0, "\(ran.stderr)")
        let text = String(decoding: ran.stdout, as: UTF8.self)
        #expect(text.contains("sanity check: passed") && text.contains("ROAD") && text.contains("pointing game"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        let sanity = try #require(json["sanity"] as? [String: Any])
        #expect(sanity["samples"] as? Int == 8 && sanity["passes"] as? Bool == true)
        #expect((sanity["stages"] as? [[String: Any]])?.map { $0["randomised"] as? String } == ["fc", "bn3", "conv3", "bn2", "conv2", "bn1", "conv1"])
        #expect((json["faithfulness"] as? [[String: Any]])?.map { $0["map"] as? String } == ["gradcam", "random_cam", "sobel"])
        #expect((json["pointing_game"] as? [String: Any])?["samples"] as? Int == 8)
    }
}
