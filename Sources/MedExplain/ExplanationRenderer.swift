import Foundation
import MedImaging

/// The PNGs of a scan's explanations, drawn over the windowed original (VolumeRender) at its own pixel grid.
/// The pictures every target shares (the image, the mosaic's tiles, the en-face projection) are made once.
struct ExplanationRenderer {
    let original: Volume
    let settings: ExplainSettings
    /// 2D scans and one-slice volumes: the picture itself.
    let image: RasterImage?
    /// Volumes: the mosaic's slices and their pictures at tile size.
    let mosaicSlices: [Int]
    let mosaicTiles: [RasterImage]
    let tileSize: (width: Int, height: Int)
    /// Volumes: the en-face picture (stretched to square pixels) and the axis it projects along.
    let enFace: RasterImage?
    let enFaceAlongRows: Bool

    init(original: Volume, settings: ExplainSettings) {
        self.original = original
        self.settings = settings
        let s = original.shape
        // A one-slice volume (a single-B-scan .vol under a 3D model) is drawn as an image: no mosaic, no en-face.
        guard s.depth > 1 else {
            image = VolumeRender.middleSlice(of: original)
            mosaicSlices = []; mosaicTiles = []; tileSize = (0, 0); enFace = nil; enFaceAlongRows = false
            return
        }
        image = nil
        let count = settings.mosaicSlices > 0 ? min(s.depth, settings.mosaicSlices) : 0
        mosaicSlices = (0..<count).map { Int((Double($0) + 0.5) * Double(s.depth) / Double(count)) }
        let scale = min(1, Double(settings.mosaicTile) / Double(max(s.rows, s.cols)))
        let size = (width: max(1, Int((Double(s.cols) * scale).rounded())), height: max(1, Int((Double(s.rows) * scale).rounded())))
        tileSize = size
        mosaicTiles = mosaicSlices.map {
            OverlayRenderer.resized(VolumeRender.middleSlice(of: Self.slice($0, of: original)), width: size.width, height: size.height)
        }
        let kind = original.metadata.kind
        enFaceAlongRows = kind.hasPrefix("oct") || kind == "bscan-folder"
        let projection = VolumeRender.projection(of: original, .mean, along: enFaceAlongRows ? .rows : .depth)
        let height = Self.squarePixelHeight(projection.height, width: projection.width, original: original, alongRows: enFaceAlongRows)
        enFace = OverlayRenderer.resized(projection, width: projection.width, height: height)
    }

    func images(map: ActivationMap, stem: String) throws(ExplainError) -> [ExplanationImage] {
        let s = original.shape, plane = s.rows * s.cols
        if let image {
            return [
                try png(OverlayRenderer.overlay(image, map: map.values, style: settings.overlay), "\(stem)-overlay.png", .overlay),
                try png(OverlayRenderer.greyMap(map.values, width: s.cols, height: s.rows), "\(stem)-map.png", .map),
            ]
        }
        func mapSlice(_ d: Int) -> [Float] { Array(map.values[(d * plane)..<((d + 1) * plane)]) }
        var images: [ExplanationImage] = []
        // The slices where the map peaks: highest per-slice maximum first, then the larger sum.
        let peaks = (0..<s.depth).map { d -> (Int, Float, Float) in
            let values = map.values[(d * plane)..<((d + 1) * plane)]
            return (d, values.max() ?? 0, values.reduce(0, +))
        }
        let ranked = peaks.filter { $0.1 > 0 }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 > $1.2 }
        for (d, _, _) in ranked.prefix(settings.sliceOverlays) {
            let picture = VolumeRender.middleSlice(of: Self.slice(d, of: original))
            images.append(try png(OverlayRenderer.overlay(picture, map: mapSlice(d), style: settings.overlay),
                                  "\(stem)-slice\(String(format: "%03d", d)).png", .slice, slice: d))
        }
        if !mosaicSlices.isEmpty {
            let tiles = zip(mosaicSlices, mosaicTiles).map { d, tile in
                OverlayRenderer.overlay(tile, map: MapResize.shrink(mapSlice(d), from: [s.rows, s.cols], to: [tileSize.height, tileSize.width]),
                                        style: settings.overlay)
            }
            let columns = Int(Double(tiles.count).squareRoot().rounded(.up))
            images.append(try png(OverlayRenderer.mosaic(tiles, columns: columns), "\(stem)-mosaic.png", .mosaic))
        }
        if let enFace {
            let heat = enFaceHeat(map, height: enFace.height)
            images.append(try png(OverlayRenderer.overlay(enFace, map: heat, style: settings.overlay), "\(stem)-enface.png", .enFace))
            images.append(try png(OverlayRenderer.greyMap(heat, width: enFace.width, height: enFace.height), "\(stem)-map.png", .map))
        }
        return images
    }

    /// The map's maximum along the en-face axis, resized to the en-face picture's height.
    func enFaceHeat(_ map: ActivationMap, height: Int) -> [Float] {
        let s = original.shape
        let rows = enFaceAlongRows ? s.depth : s.rows, width = s.cols
        var heat = [Float](repeating: 0, count: rows * width)
        map.values.withUnsafeBufferPointer { v in
            heat.withUnsafeMutableBufferPointer { h in
                for d in 0..<s.depth {
                    for r in 0..<s.rows {
                        let source = (d * s.rows + r) * s.cols, target = (enFaceAlongRows ? d : r) * width
                        for c in 0..<s.cols { h[target + c] = max(h[target + c], v[source + c]) }
                    }
                }
            }
        }
        return height == rows ? heat : MapResize.resize(heat, from: [rows, width], to: [height, width], resampling: .linear)
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

    /// The en-face picture's height for square pixels: its pixel height over width in millimetres is the slice
    /// distance (or the row spacing) over the column spacing. Unchanged when the spacing is unknown or extreme.
    static func squarePixelHeight(_ height: Int, width: Int, original: Volume, alongRows: Bool) -> Int {
        let spacing = original.geometry.spacing
        let aspect = spacing.count == 3 ? (alongRows ? spacing[2] : spacing[1]) / spacing[0] : 1
        let stretched = Int((Double(height) * aspect).rounded())
        guard aspect.isFinite, aspect > 0, stretched >= 1, stretched <= 4 * max(width, height) else { return height }
        return stretched
    }

    func png(_ image: RasterImage, _ name: String, _ kind: ExplanationImage.Kind, slice: Int? = nil) throws(ExplainError) -> ExplanationImage {
        do {
            return ExplanationImage(fileName: name, data: try PNGWriter.encode(image), kind: kind, slice: slice)
        } catch {
            throw .render("\(name): \(error)")
        }
    }
}
