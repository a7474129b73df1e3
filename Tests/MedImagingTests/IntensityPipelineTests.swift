import Foundation
import MedImaging
import Testing

@Suite struct IntensityPipelineTests {
    func ramp(_ values: [Float], channels: Int = 1) -> Volume {
        Volume(voxels: values, shape: Volume.Shape(channels: channels, rows: 1, cols: values.count / channels))
    }

    @Test func windowFollowsDICOMLinearFunction() throws {
        // c = 40, w = 400: below c - 0.5 - (w-1)/2 = -160 -> 0, above c - 0.5 + (w-1)/2 = 239 -> 1.
        let out = try IntensityPipeline([.window(center: 40, width: 400)]).applied(to: ramp([-1000, -160, 39.5, 239, 239.5, 3000]))
        #expect(out.voxels[0] == 0 && out.voxels[1] == 0)
        #expect(abs(out.voxels[2] - 0.5) < 1e-6)
        #expect(abs(out.voxels[3] - 1) < 1e-6)
        #expect(out.voxels[4] == 1 && out.voxels[5] == 1)
    }

    @Test func windowFallsBackToTheImagesOwnWindow() throws {
        var volume = ramp([0, 50, 100])
        #expect(Fixtures.reason { try IntensityPipeline([.window(center: nil, width: nil)]).applied(to: volume) } == .invalidAttribute)
        volume.metadata.windows = [Window(center: 50.5, width: 101)]
        let out = try IntensityPipeline([.window(center: nil, width: nil)]).applied(to: volume)
        #expect(out.voxels == [0, 0.5, 1])
    }

    @Test func powerKeepsSign() throws {
        #expect(try IntensityPipeline([.power(exponent: 0.25)]).applied(to: ramp([16, 0, -81, 1])).voxels == [2, 0, -3, 1])
        #expect(Fixtures.reason { try IntensityPipeline([.power(exponent: 0)]).applied(to: ramp([1])) } == .invalidAttribute)
    }

    @Test func minMaxAndScale() throws {
        let out = try IntensityPipeline([.minMax]).applied(to: ramp([10, 20, 30]))
        #expect(out.voxels == [0, 0.5, 1])
        #expect(try IntensityPipeline([.minMax]).applied(to: ramp([7, 7])).voxels == [0, 0])
        #expect(try IntensityPipeline([.scale(factor: 1 / 255, offset: 0)]).applied(to: ramp([255])).voxels == [1])
    }

    @Test func zScoreAndPercentileClipMatchNumPy() throws {
        let input = Fixtures.volume(try Fixtures.npy("imaging/intensity_input.npy"))
        let clipped = try IntensityPipeline([.percentileClip(lower: 2, upper: 98)]).applied(to: input)
        #expect(Fixtures.maxDifference(clipped.voxels, try Fixtures.npy("imaging/percentile_clip_2_98_expected.npy").data) < 1e-4)
        let scored = try IntensityPipeline([.zScore(perChannel: false)]).applied(to: input)
        #expect(Fixtures.maxDifference(scored.voxels, try Fixtures.npy("imaging/z_score_expected.npy").data) < 1e-5)
    }

    @Test(arguments: [(0.0, 100.0, "0_100"), (10.0, 90.0, "10_90"), (37.5, 62.5, "37.5_62.5")])
    func percentileClipWithTiesMatchesNumPy(lower: Double, upper: Double, name: String) throws {
        let input = Fixtures.volume(try Fixtures.npy("imaging/ties_input.npy"))
        let clipped = try IntensityPipeline([.percentileClip(lower: lower, upper: upper)]).applied(to: input)
        #expect(Fixtures.maxDifference(clipped.voxels, try Fixtures.npy("imaging/ties_clip_\(name)_expected.npy").data) < 1e-6)
    }

    @Test func fixedMeanStdPerChannel() throws {
        let out = try IntensityPipeline([.normalize(mean: [1, 2], std: [2, 4])]).applied(to: ramp([3, 5, 10, 18], channels: 2))
        #expect(out.voxels == [1, 2, 2, 4])
        #expect(Fixtures.reason { try IntensityPipeline([.normalize(mean: [1, 2, 3], std: [1, 1, 1])]).applied(to: ramp([1, 2], channels: 2)) } == .invalidAttribute)
    }

    @Test func perChannelZScore() throws {
        let out = try IntensityPipeline([.zScore(perChannel: true)]).applied(to: ramp([1, 3, 100, 300], channels: 2))
        #expect(out.voxels == [-1, 1, -1, 1])
    }

    @Test func pipelineIsDescribedInJSON() throws {
        let json = """
        {"steps": [{"op": "percentile_clip", "lower": 0.5, "upper": 99.5}, {"op": "min_max"},
                   {"op": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                   {"op": "window", "center": 40, "width": 400}, {"op": "z_score", "per_channel": true},
                   {"op": "scale", "factor": 0.5}, {"op": "power", "exponent": 0.25}]}
        """
        let pipeline = try JSONDecoder().decode(IntensityPipeline.self, from: Data(json.utf8))
        #expect(pipeline.steps == [.percentileClip(lower: 0.5, upper: 99.5), .minMax,
                                   .normalize(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
                                   .window(center: 40, width: 400), .zScore(perChannel: true), .scale(factor: 0.5, offset: 0),
                                   .power(exponent: 0.25)])
        let again = try JSONDecoder().decode(IntensityPipeline.self, from: JSONEncoder().encode(pipeline))
        #expect(again == pipeline)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(IntensityPipeline.self, from: Data(#"{"steps":[{"op":"gamma"}]}"#.utf8)) }
    }

    @Test func fundusPhotoThroughAnImageNetPipeline() throws {
        let photo = try PhotoReader().read(Fixtures.url("photo/1410_left.jpg"))
        let out = try IntensityPipeline([.scale(factor: 1 / 255, offset: 0),
                                         .normalize(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])]).applied(to: photo)
        // Black background pixels map to -mean/std in each channel.
        let plane = 512 * 512
        #expect(abs(out.voxels[0] - (photo.voxels[0] / 255 - 0.485) / 0.229) < 1e-5)
        #expect(abs(out.voxels[2 * plane] - (photo.voxels[2 * plane] / 255 - 0.406) / 0.225) < 1e-5)
    }
}
