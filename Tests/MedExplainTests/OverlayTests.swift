import MedImaging
import NumPyFormat
import Testing
@testable import MedExplain

/// Overlays against pytorch-grad-cam's `show_cam_on_image` and OpenCV's colour tables (fixtures/explain).
struct OverlayTests {
    @Test(arguments: Colormap.allCases)
    func colourTablesAreOpenCVs(_ colormap: Colormap) throws {
        let reference = try ExplainFixtures.npy("colormap_\(colormap.rawValue).npy")
        #expect(reference.shape == [256, 3])
        #expect(colormap.table == reference.data.map { UInt8($0) })
    }

    /// Fed the same float image and map, the compat blend is pytorch-grad-cam's bit for bit.
    @Test func compatBlendIsShowCamOnImage() throws {
        let image = try ExplainFixtures.npy("overlay.image.npy"), mask = try ExplainFixtures.npy("overlay.mask.npy")
        let reference = try ExplainFixtures.npy("overlay.jet.npy")
        let ours = OverlayRenderer.blend(pixelCount: mask.data.count, map: mask.data, style: .compat) { i, _ in image.data[i] }
        #expect(ours == reference.data.map { UInt8($0) })
    }

    @Test func heatWeightedBlendLeavesColdPixelsAlone() {
        let base = RasterImage(width: 3, height: 1, channels: 1, pixels: [10, 128, 250])
        let out = OverlayRenderer.overlay(base, map: [0, 0.5, 1], style: .standard)
        #expect(Array(out.pixels[0..<3]) == [10, 10, 10])
        let turbo = Colormap.turbo.table
        for c in 0..<3 {
            // α = 0.6 · 1 at the hot pixel: 0.4 · 250 + 0.6 · turbo(255).
            #expect(out.pixels[6 + c] == UInt8((0.4 * 250 + 0.6 * Float(turbo[255 * 3 + c])).rounded()))
        }
        let grey = OverlayRenderer.greyMap([0, 0.5, 0.99999, 1], width: 2, height: 2)
        #expect(grey.pixels == [0, 127, 254, 255], "uint8(255·m) truncates, as NumPy does")
    }

    @Test func resizingAndMosaicKeepGeometry() {
        let image = RasterImage(width: 4, height: 2, channels: 3, pixels: (0..<24).map { UInt8($0 * 10) })
        let half = OverlayRenderer.resized(image, width: 2, height: 1)
        // Area averaging: the first output pixel's red is the mean of reds at (0,0), (0,1), (1,0), (1,1).
        #expect(half.pixels[0] == UInt8(((0 + 30 + 120 + 150) / 4.0).rounded()))
        let tiles = OverlayRenderer.mosaic([image, image, image], columns: 2, gap: 1)
        #expect(tiles.width == 9 && tiles.height == 5)
        #expect(Array(tiles.pixels[(5 * 3)..<(6 * 3)]) == Array(image.pixels[0..<3]), "second tile starts after the gap")
        #expect(tiles.pixels[(3 * 9 + 5) * 3] == 0, "no third tile in the second row's second column")
    }
}
