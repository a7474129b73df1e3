import Foundation
import MedEngine
import MedImaging
import NumPyFormat
import Testing
@testable import MedExplain

/// The daemon's entry point on the parity models: maps on the original scan's grid, peaks in its pixels,
/// empty maps reported and never drawn, safe file names, PNGs that decode to the original's size.
struct ExplainerTests {
    static func smooth(rows: Int, cols: Int, depth: Int = 1, channels: Int = 1) -> [Float] {
        var v: [Float] = []
        for c in 0..<channels { for d in 0..<depth { for r in 0..<rows { for k in 0..<cols {
            v.append(Float(sin(Double(r) / 7 + Double(c)) * cos(Double(k) / 5) + Double(d) / Double(max(depth, 1))))
        } } } }
        return v
    }

    static func decode(_ image: ExplanationImage) throws -> Volume { try PhotoReader().read(data: image.data) }

    @Test func twoDimensionalScanGetsMapsOnItsOwnGrid() throws {
        let c = ExplainFixtures.cases.first { $0.name == "small_cnn_2d" }!
        let (model, _) = try ExplainFixtures.model(c)
        // An original of 90×75 (the input is 60×50, resized without cropping, as InputSpec does).
        let original = Volume(voxels: Self.smooth(rows: 90, cols: 75), shape: Volume.Shape(rows: 90, cols: 75))
        let spec = InputSpec(size: [60, 50], channels: 1, intensity: IntensityPipeline([.minMax]))
        let x = Tensor(shape: [1, 1, 60, 50], data: try spec.tensor(from: original, name: "smooth"))
        let labels = ["x", "Pleural Thickening", "Ödem", "Pleural Thickening", "", "a/b"]
        let all = Array(0..<6)
        let explained = try Explainer.explain(model: model, architecture: c.architecture, input: x, original: original,
                                              targets: all, labels: labels)
        let reference = try Explainer.maps(model: model, architecture: c.architecture, input: x, targets: all, size: [90, 75])
        let atInput = try Explainer.maps(model: model, architecture: c.architecture, input: x, targets: all)
        #expect(explained.map(\.target) == all)
        var stems: [String] = []
        for e in explained {
            #expect(e.map.shape == [90, 75])
            #expect(e.map == reference[e.target])
            #expect(e.layer == "conv3" && e.method == .gradCAM)
            #expect(e.record.empty == e.isEmpty && e.record.targetLayer == "conv3" && e.record.method == .gradCAM)
            #expect(e.record.mapMin == e.raw.min && e.record.mapMax == e.raw.max && e.record.mapMean == e.raw.mean)
            #expect(e.record.overlays == e.images.map(\.fileName))
            #expect(e.record.peak == e.peak.map { [$0.column, $0.row] })
            if e.isEmpty {
                #expect(e.peak == nil && e.images.isEmpty, "an empty map is reported, never drawn")
                continue
            }
            let peak = try #require(e.peak)
            #expect(e.map.values[peak.row * 75 + peak.column] == e.map.values.max())
            // The peak on the input grid, scaled back, lands within one layer cell (4 input pixels) of it.
            let p = atInput[e.target].coordinates(of: atInput[e.target].peakIndex)
            #expect(abs(Double(p[0]) * 1.5 - Double(peak.row)) <= 6 + 1.5 && abs(Double(p[1]) * 1.5 - Double(peak.column)) <= 6 + 1.5)
            #expect(e.images.map(\.kind) == [.overlay, .map])
            let overlay = try Self.decode(e.images[0]), grey = try Self.decode(e.images[1])
            #expect(overlay.shape == Volume.Shape(channels: 3, rows: 90, cols: 75))
            #expect(grey.shape == Volume.Shape(channels: 1, rows: 90, cols: 75))
            // uint8(255 · m) with m = range / (range + 1e-7) at the peak: 254 or 255, as in pytorch-grad-cam.
            #expect(grey.voxels[peak.row * 75 + peak.column] >= 254)
            stems.append(String(e.images[0].fileName.dropLast("-overlay.png".count)))
        }
        #expect(explained.contains { $0.isEmpty } && explained.contains { !$0.isEmpty })
        let expectedStems = [("x", 0), ("Pleural_Thickening", 1), ("dem", 2), ("Pleural_Thickening-3", 3), ("finding-4", 4), ("a_b", 5)]
            .filter { !explained[$0.1].isEmpty }.map(\.0)
        #expect(expectedStems.contains("Pleural_Thickening-3"), "the draw should exercise a duplicate label")
        #expect(Explainer.safeFileStem("a/b c", target: 0) == "a_b_c" && Explainer.safeFileStem("__", target: 7) == "finding-7")
        #expect(stems == expectedStems)
        for stem in stems { #expect(stem.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) }
    }

    @Test func volumeGetsSlicesMosaicAndEnFace() throws {
        let c = ExplainFixtures.cases.first { $0.name == "small_cnn_3d" }!
        let (model, x) = try ExplainFixtures.model(c)
        // An OCT-like original: 30 B-scans of 40 rows (A-scan samples) × 35 columns, B-scans 3 columns apart.
        var metadata = ImageMetadata()
        metadata.kind = "oct-vol"
        let original = Volume(voxels: Self.smooth(rows: 40, cols: 35, depth: 30).map { ($0 + 2) / 4 },
                              shape: Volume.Shape(depth: 30, rows: 40, cols: 35),
                              geometry: Volume.Geometry(spacing: [0.01, 0.004, 0.03]), metadata: metadata)
        let target = try #require(c.gradCAMEmpty.firstIndex(of: false))
        let empty = try #require(c.gradCAMEmpty.firstIndex(of: true))
        let settings = ExplainSettings(sliceOverlays: 2, mosaicSlices: 9, mosaicTile: 20)
        let explained = try Explainer.explain(model: model, architecture: c.architecture, input: x, original: original,
                                              targets: [target, empty], labels: ["a", "b", "c", "d"], settings: settings)
        let e = explained[0]
        #expect(e.map.shape == [30, 40, 35])
        let peak = try #require(e.peak)
        #expect(e.map.values[(try #require(peak.slice) * 40 + peak.row) * 35 + peak.column] == e.map.values.max())
        #expect(e.images.map(\.kind) == [.slice, .slice, .mosaic, .enFace, .map])
        #expect(e.images[0].slice == peak.slice, "the first slice overlay is where the map peaks")
        #expect(e.images[0].fileName == "\(Explainer.safeFileStem("a", target: target))-slice\(String(format: "%03d", peak.slice!)).png")
        let slice = try Self.decode(e.images[0])
        #expect(slice.shape == Volume.Shape(channels: 3, rows: 40, cols: 35))
        // 9 tiles of 20×18 (the longer side 40 → 20) in 3 columns, 2 pixels apart.
        let mosaic = try Self.decode(e.images[2])
        #expect(mosaic.shape == Volume.Shape(channels: 3, rows: 3 * 20 + 4, cols: 3 * 18 + 4))
        // En-face along the A-scans: 30 B-scans × 35 columns, stretched to square pixels (0.03 / 0.01 = 3×).
        let enFace = try Self.decode(e.images[3]), grey = try Self.decode(e.images[4])
        #expect(enFace.shape == Volume.Shape(channels: 3, rows: 90, cols: 35))
        #expect(grey.shape == Volume.Shape(channels: 1, rows: 90, cols: 35))
        #expect(explained[1].isEmpty && explained[1].images.isEmpty && explained[1].record.empty && explained[1].record.peak == nil)
        #expect(e.record.peak == [peak.column, peak.row, peak.slice!])

        // Compat mode: pytorch-grad-cam's cubic B-spline; a different map from the same low-res one.
        let compat = try Explainer.explain(model: model, architecture: c.architecture, input: x, original: original,
                                           targets: [target], labels: ["a", "b", "c", "d"], settings: .compat())
        #expect(compat[0].resampling == .cubicSplineCompat && e.resampling == .linear)
        #expect(compat[0].map.values != e.map.values)
    }

    @Test func occlusionExplainsEveryTargetFromOneSweep() throws {
        let c = ExplainFixtures.cases.first { $0.name == "small_cnn_2d" }!
        let (model, x) = try ExplainFixtures.model(c)
        let original = Volume(voxels: x.scalars, shape: Volume.Shape(rows: 60, cols: 50))
        let settings = ExplainSettings(method: .occlusion, occlusion: OcclusionSettings(window: c.occlusionWindow, stride: c.occlusionStride))
        let explained = try Explainer.explain(model: model, architecture: c.architecture, input: x, original: original,
                                              targets: Array(0..<6), labels: (0..<6).map { "f\($0)" }, settings: settings)
        let reference = try ExplainFixtures.npy("small_cnn_2d.occlusion.npy")
        for e in explained {
            #expect(e.layer == nil && e.record.targetLayer == "input" && e.occlusion?.passes == 100 && e.occlusion?.window == [10, 10])
            let expected = ActivationMap(raw: ExplainFixtures.row(reference, e.target), shape: [60, 50])
            #expect(e.isEmpty == expected.isEmpty)
            #expect(zip(e.map.values, expected.values).allSatisfy { abs($0 - $1) <= 1e-3 })
        }
    }

    @Test func badRequestsAreRefusedWithReasons() throws {
        let c = ExplainFixtures.cases.first { $0.name == "small_cnn_2d" }!
        let (model, x) = try ExplainFixtures.model(c)
        let image = Volume(voxels: x.scalars, shape: Volume.Shape(rows: 60, cols: 50))
        let stack = Volume(voxels: x.scalars + x.scalars, shape: Volume.Shape(depth: 2, rows: 60, cols: 50))
        let labels = (0..<6).map { "f\($0)" }
        func refusal(_ body: () throws -> Void) -> ExplainError? {
            do { try body() } catch { return error as? ExplainError }
            return nil
        }
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: x, original: stack, targets: [1], labels: labels) }
            == .original("a 2D model explains one image, and this scan has 2 slices"))
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: x, original: image, targets: [6], labels: labels) }
            == .target(6, labels: 6))
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: x, original: image, targets: [1], labels: ["a"]) }
            == .labels(given: 1, model: 6))
        let wrongLayer = ExplainSettings(layer: "layer4")
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: x, original: image, targets: [1], labels: labels, settings: wrongLayer) }
            == .unknownLayer("layer4"))
        let batch = Tensor(shape: [2, 1, 60, 50])
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: batch, original: image, targets: [1], labels: labels) }
            == .batch([2, 1, 60, 50]))
        let tooBig = ExplainSettings(method: .occlusion, occlusion: OcclusionSettings(window: [61, 10]))
        #expect(refusal { _ = try Explainer.explain(model: model, architecture: "small_cnn", input: x, original: image, targets: [1], labels: labels, settings: tooBig) }
            != nil)
    }
}
