import Foundation
import MedImaging
import Testing

@Suite struct ChannelPolicyTests {
    @Test func greyBecomesThreeIdenticalChannels() throws {
        let bscan = try PhotoReader().read(Fixtures.url("photo/DME-9603124-1.jpeg"))
        let rgb = try ChannelPolicy.greyToRGB.applied(to: bscan)
        #expect(rgb.shape == Volume.Shape(channels: 3, depth: 1, rows: 496, cols: 512))
        let plane = 496 * 512
        #expect(Array(rgb.voxels[plane..<(2 * plane)]) == bscan.voxels && Array(rgb.voxels[(2 * plane)...]) == bscan.voxels)
        #expect(rgb.metadata.photometric == "RGB")
    }

    @Test func greenOnlyTakesTheMiddleChannelOfAFundusPhoto() throws {
        let photo = try PhotoReader().read(Fixtures.url("photo/1681_left.jpg"))
        let green = try ChannelPolicy.greenOnly.applied(to: photo)
        #expect(green.shape.channels == 1)
        #expect(green.voxels == Array(photo.voxels[(512 * 512)..<(2 * 512 * 512)]))
        #expect(try ChannelPolicy.greenOnly.applied(to: green).voxels == green.voxels)
    }

    @Test func policiesRefuseOddChannelCounts() {
        let two = Volume(voxels: [1, 2], shape: Volume.Shape(channels: 2, rows: 1, cols: 1))
        #expect(Fixtures.reason { try ChannelPolicy.greyToRGB.applied(to: two) } == .unsupportedPixelFormat)
        #expect(Fixtures.reason { try ChannelPolicy.greenOnly.applied(to: two) } == .unsupportedPixelFormat)
        #expect(Fixtures.reason { try ChannelPolicy.keep.applied(to: two) } == nil)
    }

    /// The input spec repeats grey to RGB after resizing (three times less resampling); the result is what
    /// repeating first would give.
    @Test func greyToRGBSpecEqualsRepeatingBeforeTheResize() throws {
        let bscan = try PhotoReader().read(Fixtures.url("photo/DME-9603124-1.jpeg"))
        let spec = InputSpec(size: [64, 48], channels: 3, channelPolicy: .greyToRGB, intensity: IntensityPipeline([.zScore(perChannel: false)]))
        var reference = try ChannelPolicy.greyToRGB.applied(to: bscan).resized(rows: 64, cols: 48, mode: .bilinear)
        try IntensityPipeline([.zScore(perChannel: false)]).apply(to: &reference)
        let tensor = try spec.tensor(from: bscan, name: "DME-9603124-1.jpeg")
        #expect(tensor.count == 3 * 64 * 48)
        #expect(zip(tensor, reference.voxels).map { abs($0 - $1) }.max()! <= 1e-5)
    }
}
