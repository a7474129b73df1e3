import MedEngine
import NumPyFormat
import Testing
@testable import MedExplain

/// The QA measures against their reference implementations (fixtures/explain/metrics.*, from
/// tools/explain/make_parity_fixtures.py): SSIM (scikit-image), Spearman (SciPy), ROAD (pytorch-grad-cam, noise 0).
struct QAMetricTests {
    static func pairs() throws -> [([Float], [Float], [Int])] {
        let maps2d = try ExplainFixtures.npy("metrics.maps2d.npy"), maps3d = try ExplainFixtures.npy("metrics.maps3d.npy")
        let a = ExplainFixtures.row(maps2d, 0), b = ExplainFixtures.row(maps2d, 1), c = ExplainFixtures.row(maps2d, 2)
        let shape2d = Array(maps2d.shape.dropFirst()), shape3d = Array(maps3d.shape.dropFirst())
        return [(a, b, shape2d), (a, c, shape2d), (b, c, shape2d), (a, a, shape2d),
                (ExplainFixtures.row(maps3d, 0), ExplainFixtures.row(maps3d, 1), shape3d)]
    }

    @Test func ssimIsScikitImages() throws {
        let reference = try ExplainFixtures.npy("metrics.ssim.npy").data
        for (k, (a, b, shape)) in try Self.pairs().enumerated() {
            let ours = MapSimilarity.ssim(a, b, shape: shape)
            #expect(abs(ours - Double(reference[k])) <= 1e-6, "pair \(k): \(ours) vs \(reference[k])")
        }
    }

    @Test func spearmanIsSciPys() throws {
        let reference = try ExplainFixtures.npy("metrics.spearman.npy").data
        for (k, (a, b, _)) in try Self.pairs().enumerated() {
            let ours = try #require(MapSimilarity.spearman(a, b))
            #expect(abs(ours - Double(reference[k])) <= 1e-6, "pair \(k): \(ours) vs \(reference[k])")
        }
        #expect(MapSimilarity.spearman([0, 0, 0], [1, 2, 3]) == nil, "an empty map has no ranking")
    }

    @Test func roadMatchesPytorchGradCAMWithoutNoise() throws {
        let c = ExplainFixtures.cases.first { $0.name == "small_cnn_2d" }!
        let (model, x) = try ExplainFixtures.model(c)
        let meta = ExplainFixtures.metadata["metrics"] as! [String: Any]
        let target = meta["road_target"] as! Int, percentiles = (meta["road_percentiles"] as! [Int]).map(Double.init)
        let cam = try ExplainFixtures.npy("metrics.road_cam.npy").data
        var rng = SeededRandom(seed: 1)
        let imputed = ROAD.impute(x, keep: ROAD.keepMask(cam, percentile: 50, order: .mostRelevantFirst), noise: 0, rng: &rng)
        let expected = try ExplainFixtures.npy("metrics.road_imputed50.npy").data
        let worst = zip(imputed.scalars, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5, "imputation max abs \(worst)")
        let morf = try ExplainFixtures.npy("metrics.road_morf.npy").data, lerf = try ExplainFixtures.npy("metrics.road_lerf.npy").data
        for (k, p) in percentiles.enumerated() {
            let s = ROAD.scores(model: model, input: x, map: cam, target: target, percentiles: [p], noise: 0, rng: &rng)
            #expect(abs(s.morf - Double(morf[k])) <= 1e-5, "MoRF(\(p)): \(s.morf) vs \(morf[k])")
            #expect(abs(s.lerf - Double(lerf[k])) <= 1e-5, "LeRF(\(p)): \(s.lerf) vs \(lerf[k])")
        }
    }

    @Test func percentileIsNumPys() {
        let v: [Float] = [3, 1, 4, 1, 5, 9, 2, 6]
        // np.percentile(v, [10, 50, 90]) = 1.0, 3.5, 6.9
        #expect(ROAD.percentile(v, 10) == 1)
        #expect(ROAD.percentile(v, 50) == 3.5)
        #expect(abs(ROAD.percentile(v, 90) - 6.9) < 1e-6)
    }

    @Test func sobelFindsEdgesAndRandomCAMIsSeeded() throws {
        var image = Tensor(shape: [1, 1, 8, 8])
        for r in 0..<8 { for c in 4..<8 { image[flat: r * 8 + c] = 1 } }
        let edges = BaselineMaps.sobel(image)
        #expect(edges.values[3 * 8 + 3] > 0.99 && edges.values[3 * 8 + 4] > 0.99 && edges.values[3 * 8 + 1] == 0)
        let model = SmallCNN(inChannels: 1, labels: 2, width: 4, seed: 3)
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5), other = SeededRandom(seed: 6)
        let x = a.tensor([1, 1, 16, 16])
        _ = b.tensor([1, 1, 16, 16]); _ = other.tensor([1, 1, 16, 16])
        let m1 = try BaselineMaps.randomCAM(model: model, input: x, layer: "conv3", rng: &a)
        let m2 = try BaselineMaps.randomCAM(model: model, input: x, layer: "conv3", rng: &b)
        let m3 = try BaselineMaps.randomCAM(model: model, input: x, layer: "conv3", rng: &other)
        #expect(m1 == m2 && m1 != m3 && m1.shape == [16, 16])
    }
}
