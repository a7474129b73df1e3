import Foundation
import MedImaging

/// The PNGs of one explanation, drawn over the windowed original (VolumeRender) at its own pixel grid.
enum ExplanationRenderer {
    static func images(map: ActivationMap, original: Volume, stem: String, settings: ExplainSettings) throws(ExplainError) -> [ExplanationImage] {
        let s = original.shape
        if map.shape.count == 2 {
            let base = VolumeRender.middleSlice(of: original)
            return [
                try png(OverlayRenderer.overlay(base, map: map.values, style: settings.overlay), "\(stem)-overlay.png", .overlay),
                try png(OverlayRenderer.greyMap(map.values, width: s.cols, height: s.rows), "\(stem)-map.png", .map),
            ]
        }
        let plane = s.rows * s.cols
        func mapSlice(_ d: Int) -> [Float] { Array(map.values[(d * plane)..<((d + 1) * plane)]) }
        func sliceOverlay(_ d: Int) -> RasterImage {
            OverlayRenderer.overlay(VolumeRender.middleSlice(of: slice(d, of: original)), map: mapSlice(d), style: settings.overlay)
        }
        var images: [ExplanationImage] = []
        // The slices where the map peaks: highest per-slice maximum first, then the larger sum.
        let peaks = (0..<s.depth).map { d -> (Int, Float, Float) in
            let values = map.values[(d * plane)..<((d + 1) * plane)]
            return (d, values.max() ?? 0, values.reduce(0, +))
        }
        let ranked = peaks.filter { $0.1 > 0 }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 > $1.2 }
        for (d, _, _) in ranked.prefix(settings.sliceOverlays) {
            images.append(try png(sliceOverlay(d), "\(stem)-slice\(String(format: "%03d", d)).png", .slice, slice: d))
        }
        if settings.mosaicSlices > 0 {
            let count = min(s.depth, settings.mosaicSlices)
            let chosen = (0..<count).map { Int((Double($0) + 0.5) * Double(s.depth) / Double(count)) }
            let scale = min(1, Double(settings.mosaicTile) / Double(max(s.rows, s.cols)))
            let w = max(1, Int((Double(s.cols) * scale).rounded())), h = max(1, Int((Double(s.rows) * scale).rounded()))
            let tiles = chosen.map { OverlayRenderer.resized(sliceOverlay($0), width: w, height: h) }
            let columns = Int(Double(count).squareRoot().rounded(.up))
            images.append(try png(OverlayRenderer.mosaic(tiles, columns: columns), "\(stem)-mosaic.png", .mosaic))
        }
        let (enFace, heat) = enFaceViews(map: map, original: original)
        images.append(try png(OverlayRenderer.overlay(enFace, map: heat.values, style: settings.overlay), "\(stem)-enface.png", .enFace))
        images.append(try png(OverlayRenderer.greyMap(heat.values, width: enFace.width, height: enFace.height), "\(stem)-map.png", .map))
        return images
    }

    /// Slice `d` of every channel, with the volume's metadata (window, kind) so it renders as the volume would.
    static func slice(_ d: Int, of volume: Volume) -> Volume {
        let s = volume.shape, plane = s.rows * s.cols
        var voxels: [Float] = []
        voxels.reserveCapacity(plane * s.channels)
        for c in 0..<s.channels {
            let start = (c * s.depth + d) * plane
            voxels += volume.voxels[start..<(start + plane)]
        }
        return Volume(voxels: voxels, shape: Volume.Shape(channels: s.channels, depth: 1, rows: s.rows, cols: s.cols),
                      geometry: volume.geometry, metadata: volume.metadata)
    }

    /// The en-face picture (VolumeRender's mean projection: along rows, the A-scan direction, for OCT; along
    /// the slices otherwise) and the map's maximum along the same axis, both stretched to square pixels when
    /// the spacing says the projection's pixels are not square (OCT: B-scans lie far apart).
    static func enFaceViews(map: ActivationMap, original: Volume) -> (RasterImage, ActivationMap) {
        let s = original.shape, kind = original.metadata.kind
        let alongRows = kind.hasPrefix("oct") || kind == "bscan-folder"
        let base = VolumeRender.projection(of: original, .mean, along: alongRows ? .rows : .depth)
        let (height, width) = (base.height, base.width)
        var heat = [Float](repeating: 0, count: height * width)
        map.values.withUnsafeBufferPointer { v in
            for d in 0..<s.depth {
                for r in 0..<s.rows {
                    let source = (d * s.rows + r) * s.cols, target = (alongRows ? d : r) * width
                    for c in 0..<s.cols { heat[target + c] = max(heat[target + c], v[source + c]) }
                }
            }
        }
        var projected = map
        projected.shape = [height, width]
        projected.values = heat
        // Pixel height over pixel width, in millimetres: slice distance (or row spacing) over column spacing.
        let spacing = original.geometry.spacing
        let aspect = spacing.count == 3 ? (alongRows ? spacing[2] : spacing[1]) / spacing[0] : 1
        let stretched = Int((Double(height) * aspect).rounded())
        guard aspect.isFinite, aspect > 0, stretched != height, stretched >= 1, stretched <= 4 * max(width, height) else {
            return (base, projected)
        }
        projected.shape = [stretched, width]
        projected.values = MapResize.resize(heat, from: [height, width], to: projected.shape, resampling: .linear)
        return (OverlayRenderer.resized(base, width: width, height: stretched), projected)
    }

    static func png(_ image: RasterImage, _ name: String, _ kind: ExplanationImage.Kind, slice: Int? = nil) throws(ExplainError) -> ExplanationImage {
        do {
            return ExplanationImage(fileName: name, data: try PNGWriter.encode(image), kind: kind, slice: slice)
        } catch {
            throw .render("\(name): \(error)")
        }
    }
}
