import MedImaging

/// Colour tables for heat maps (OpenCV's, so overlays match pytorch-grad-cam's).
public enum Colormap: String, Sendable, Codable, CaseIterable {
    /// Familiar and what pytorch-grad-cam draws, but its lightness is not monotonic.
    case jet
    /// Google's Turbo: jet-like hues with smooth, monotonic-ish lightness.
    case turbo

    var table: [UInt8] { self == .jet ? Self.jetTable : Self.turboTable }
}

/// How a heat map is blended onto the picture of the scan.
public struct OverlayStyle: Sendable, Equatable, Codable {
    public enum Blend: String, Sendable, Codable {
        /// pytorch-grad-cam's `show_cam_on_image`: (1 − w)·heat + w·image everywhere, divided by its maximum,
        /// truncated to 8 bits. The whole picture is tinted, cold regions included.
        case pytorchGradCAM = "pytorch_grad_cam"
        /// Per pixel α = w·map: (1 − α)·image + α·heat, rounded. Where the map is cold the scan shows unchanged.
        case heatWeighted = "heat_weighted"
    }

    public var colormap: Colormap
    public var blend: Blend
    /// `pytorchGradCAM`: the image's weight; `heatWeighted`: the heat's weight where the map is 1.
    public var weight: Float

    public init(colormap: Colormap, blend: Blend, weight: Float) {
        self.colormap = colormap; self.blend = blend; self.weight = weight
    }

    /// Turbo, heat-weighted, at most 60 % heat.
    public static let standard = OverlayStyle(colormap: .turbo, blend: .heatWeighted, weight: 0.6)
    /// Exactly pytorch-grad-cam's `show_cam_on_image(img, mask, use_rgb=True)`: jet, image weight 0.5.
    public static let compat = OverlayStyle(colormap: .jet, blend: .pytorchGradCAM, weight: 0.5)
}

public enum OverlayRenderer {
    /// The map drawn over a grey or RGB picture of the same size; `map` holds height × width values in 0...1.
    public static func overlay(_ base: RasterImage, map: [Float], style: OverlayStyle) -> RasterImage {
        precondition(map.count == base.width * base.height, "map of \(map.count) values for a \(base.width)x\(base.height) image")
        let plane = base.width * base.height
        var rgb = [Float](repeating: 0, count: plane * 3)
        for i in 0..<plane {
            for c in 0..<3 { rgb[i * 3 + c] = Float(base.pixels[i * base.channels + (base.channels == 1 ? 0 : c)]) / 255 }
        }
        return RasterImage(width: base.width, height: base.height, channels: 3, pixels: blend(rgb, map: map, style: style))
    }

    /// `rgb`: interleaved values in 0...1.
    static func blend(_ rgb: [Float], map: [Float], style: OverlayStyle) -> [UInt8] {
        let table = style.colormap.table
        var out = [UInt8](repeating: 0, count: rgb.count)
        switch style.blend {
        case .pytorchGradCAM:
            var mixed = [Float](repeating: 0, count: rgb.count)
            var top: Float = 0
            for (i, m) in map.enumerated() {
                let index = Int(grey8(m)) * 3
                for c in 0..<3 {
                    let v = (1 - style.weight) * (Float(table[index + c]) / 255) + style.weight * rgb[i * 3 + c]
                    mixed[i * 3 + c] = v
                    top = max(top, v)
                }
            }
            for i in mixed.indices { out[i] = UInt8(clamping: Int(255 * (mixed[i] / top))) }
        case .heatWeighted:
            for (i, m) in map.enumerated() {
                let index = Int(grey8(m)) * 3, alpha = style.weight * min(max(m, 0), 1)
                for c in 0..<3 {
                    let v = (1 - alpha) * rgb[i * 3 + c] + alpha * (Float(table[index + c]) / 255)
                    out[i * 3 + c] = UInt8(min(max(v * 255, 0), 255).rounded())
                }
            }
        }
        return out
    }

    /// `np.uint8(255 * m)`: truncation, as pytorch-grad-cam indexes its colour table.
    @inline(__always) static func grey8(_ m: Float) -> UInt8 { UInt8(clamping: Int(255 * min(max(m, 0), 1))) }

    /// The map itself as 8-bit grey, `uint8(255 · m)`: what a viewer can colour as it likes.
    public static func greyMap(_ map: [Float], width: Int, height: Int) -> RasterImage {
        RasterImage(width: width, height: height, channels: 1, pixels: map.map(grey8))
    }

    /// Resizes an 8-bit picture: area averaging when shrinking on both axes, bilinear otherwise.
    static func resized(_ image: RasterImage, width: Int, height: Int) -> RasterImage {
        if width == image.width && height == image.height { return image }
        let plane = image.width * image.height, outPlane = width * height
        var out = [UInt8](repeating: 0, count: outPlane * image.channels)
        var source = [Float](repeating: 0, count: plane), target = [Float](repeating: 0, count: outPlane)
        let shrink = width <= image.width && height <= image.height
        for c in 0..<image.channels {
            for i in 0..<plane { source[i] = Float(image.pixels[i * image.channels + c]) }
            source.withUnsafeBufferPointer { s in
                target.withUnsafeMutableBufferPointer { t in
                    (shrink ? Resample.area : Resample.bilinear)(s, image.height, image.width, t, height, width)
                }
            }
            for i in 0..<outPlane { out[i * image.channels + c] = UInt8(min(max(target[i], 0), 255).rounded()) }
        }
        return RasterImage(width: width, height: height, channels: image.channels, pixels: out)
    }

    /// Tiles of one size in rows of `columns`, `gap` black pixels apart.
    static func mosaic(_ tiles: [RasterImage], columns: Int, gap: Int = 2) -> RasterImage {
        precondition(!tiles.isEmpty && tiles.allSatisfy { $0.width == tiles[0].width && $0.height == tiles[0].height && $0.channels == tiles[0].channels })
        let w = tiles[0].width, h = tiles[0].height, channels = tiles[0].channels
        let rows = (tiles.count + columns - 1) / columns
        let width = columns * w + (columns - 1) * gap, height = rows * h + (rows - 1) * gap
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for (k, tile) in tiles.enumerated() {
            let x0 = (k % columns) * (w + gap), y0 = (k / columns) * (h + gap)
            for y in 0..<h {
                let from = y * w * channels, to = ((y0 + y) * width + x0) * channels
                pixels.replaceSubrange(to..<(to + w * channels), with: tile.pixels[from..<(from + w * channels)])
            }
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
