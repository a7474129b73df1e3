import Foundation
import MedEngine
import MedImaging
import Testing
@testable import MedTrainKit

@Suite struct PreprocessorTests {
    static let nihPNG = TrainFixtures.url("nih/images/00004094_000.png")
    static let odirJPEG = TrainFixtures.url("odir/images/1_right.jpg")

    static func read(_ url: URL) throws -> Volume { try #require(ScanReader.read(url).volumes.first) }

    @Test func chestRadiographBecomesCHWAndKeepsItsMeanUnderAreaResizing() throws {
        let spec = InputSpec(size: [64, 64], channels: 1, intensity: IntensityPipeline([.scale(factor: 1 / 255, offset: 0)]), interpolation: .area)
        let values = try Preprocessor(spec: spec).tensor(for: Sample(source: .file(Self.nihPNG), patient: "4094", labels: [1]))
        #expect(spec.tensorShape == [1, 64, 64] && values.count == 64 * 64)
        // 1024 -> 64 averages exact 16 x 16 blocks, so the mean survives.
        let original = try Self.read(Self.nihPNG)
        #expect(original.shape.array == [1, 1, 1024, 1024])
        let mean = { (v: [Float]) in v.reduce(0.0) { $0 + Double($1) } / Double(v.count) }
        #expect(abs(mean(values) - mean(original.voxels) / 255) < 1e-5)
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func channelPoliciesShapeTheChannels() throws {
        let rgb = InputSpec(size: [32, 32], channels: 3, channelPolicy: .greyToRGB, intensity: IntensityPipeline([.minMax]))
        let grey = try Preprocessor(spec: rgb).tensor(for: Sample(source: .file(Self.nihPNG), patient: "p", labels: [0]))
        #expect(grey.count == 3 * 32 * 32)
        #expect(grey[0..<1024] == grey[1024..<2048] && grey[0..<1024] == grey[2048..<3072])

        let green = InputSpec(size: [64, 64], channels: 1, channelPolicy: .greenOnly, intensity: IntensityPipeline([]))
        let values = try Preprocessor(spec: green).tensor(for: Sample(source: .file(Self.odirJPEG), patient: "1", labels: [1]))
        let fundus = try Self.read(Self.odirJPEG)
        #expect(fundus.shape.channels == 3)
        let expected = try ChannelPolicy.greenOnly.applied(to: fundus).resized(rows: 64, cols: 64, mode: .bilinear).voxels
        #expect(values == expected)

        let keep = InputSpec(size: [64, 64], channels: 1, intensity: IntensityPipeline([]))
        #expect(throws: PreprocessError.channels(path: Self.odirJPEG.path, found: 3, wanted: 1)) {
            try Preprocessor(spec: keep).tensor(for: Sample(source: .file(Self.odirJPEG), patient: "1", labels: [1]))
        }
    }

    @Test func volumesAreResizedInThreeDimensions() throws {
        let dataset = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/adrenalmnist3d_subset.npz"), split: "val")
        let spec = InputSpec(size: [16, 16, 16], channels: 1, intensity: IntensityPipeline([.minMax]))
        let values = try Preprocessor(spec: spec).tensor(for: dataset.samples[0])
        #expect(spec.tensorShape == [1, 16, 16, 16] && values.count == 4096)
        #expect(values.min() == 0 && values.max() == 1)
        let flat = InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([]))
        #expect(throws: PreprocessError.notVolumetric(path: "sample of patient val-0", depth: 28)) {
            try Preprocessor(spec: flat).tensor(for: dataset.samples[0])
        }
    }

    @Test func cacheIsKeyedByContentAndSpec() throws {
        let root = try TrainFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = InputSpec(size: [48, 48], channels: 1, intensity: IntensityPipeline([.minMax]))
        let cache = PreprocessCache(root: root.appendingPathComponent("cache"), preprocessor: Preprocessor(spec: spec))
        let sample = Sample(source: .file(Self.nihPNG), patient: "4094", labels: [1])
        let first = try cache.tensor(for: sample), second = try cache.tensor(for: sample)
        #expect(first.outcome == .miss && second.outcome == .hit && first.values == second.values)
        #expect(first.values == (try Preprocessor(spec: spec).tensor(for: sample)))
        let digest = Checksum.sha256Hex(try Data(contentsOf: Self.nihPNG, options: .mappedIfSafe))
        let entry = root.appendingPathComponent("cache/\(cache.preprocessor.specKey)/\(digest).npy")
        #expect(FileManager.default.fileExists(atPath: entry.path))

        // The same bytes under another name hit; another spec misses.
        let renamed = root.appendingPathComponent("renamed.png")
        try FileManager.default.copyItem(at: Self.nihPNG, to: renamed)
        #expect(try cache.tensor(for: Sample(source: .file(renamed), patient: "x", labels: [1])).outcome == .hit)
        var other = spec
        other.intensity = IntensityPipeline([.zScore(perChannel: false)])
        let otherCache = PreprocessCache(root: cache.root, preprocessor: Preprocessor(spec: other))
        #expect(otherCache.preprocessor.specKey != cache.preprocessor.specKey)
        #expect(try otherCache.tensor(for: sample).outcome == .miss)

        let memory = try LabelledDataset.medMNIST(npz: TrainFixtures.url("medmnist/pneumoniamnist_subset.npz"), split: "val").samples[0]
        let flat = PreprocessCache(root: cache.root, preprocessor: Preprocessor(spec: InputSpec(size: [28, 28], channels: 1, intensity: IntensityPipeline([]))))
        #expect(try flat.tensor(for: memory).outcome == .uncached)
    }
}
