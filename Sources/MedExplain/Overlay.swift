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
        let channels = base.channels
        // A table instead of a division per channel: the same values.
        let unit = (0..<256).map { Float($0) / 255 }
        let pixels = base.pixels.withUnsafeBufferPointer { p in
            unit.withUnsafeBufferPointer { unit in
                channels == 1
                    ? blend(pixelCount: map.count, map: map, style: style) { i, _ in unit[Int(p[i])] }
                    : blend(pixelCount: map.count, map: map, style: style) { i, c in unit[Int(p[i * channels + c])] }
            }
        }
        return RasterImage(width: base.width, height: base.height, channels: 3, pixels: pixels)
    }

    /// Interleaved RGB out; `image(i, c)` is pixel i's channel c in 0...1.
    @inline(__always)
    static func blend(pixelCount: Int, map: [Float], style: OverlayStyle, image: (Int, Int) -> Float) -> [UInt8] {
        let lut = style.colormap.table.map { Float($0) / 255 }, w = style.weight
        var out = [UInt8](repeating: 0, count: pixelCount * 3)
        map.withUnsafeBufferPointer { m in
            lut.withUnsafeBufferPointer { heat in
                out.withUnsafeMutableBufferPointer { o in
                    switch style.blend {
                    case .pytorchGradCAM:
                        // Two passes instead of a float copy of the picture: the maximum first, then the division.
                        @inline(__always) func mixed(_ i: Int, _ c: Int) -> Float {
                            (1 - w) * heat[Int(grey8(m[i])) * 3 + c] + w * image(i, c)
                        }
                        var top: Float = 0
                        for i in 0..<pixelCount { for c in 0..<3 { top = max(top, mixed(i, c)) } }
                        for i in 0..<pixelCount { for c in 0..<3 { o[i * 3 + c] = UInt8(clamping: Int(255 * (mixed(i, c) / top))) } }
                    case .heatWeighted:
                        for i in 0..<pixelCount {
                            let unit = min(max(m[i], 0), 1), index = Int(255 * unit) * 3, alpha = w * unit
                            for c in 0..<3 {
                                let v = (1 - alpha) * image(i, c) + alpha * heat[index + c]
                                o[i * 3 + c] = UInt8(min(max(v, 0), 1) * 255 + 0.5)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `np.uint8(255 * m)`: truncation, as pytorch-grad-cam indexes its colour table.
    @inline(__always) static func grey8(_ m: Float) -> UInt8 { UInt8(clamping: Int(255 * min(max(m, 0), 1))) }

    /// The map itself as 8-bit grey, `uint8(255 · m)`: what a viewer can colour as it likes.
    public static func greyMap(_ map: [Float], width: Int, height: Int) -> RasterImage {
        var pixels = [UInt8](repeating: 0, count: map.count)
        map.withUnsafeBufferPointer { m in
            pixels.withUnsafeMutableBufferPointer { o in for i in m.indices { o[i] = grey8(m[i]) } }
        }
        return RasterImage(width: width, height: height, channels: 1, pixels: pixels)
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
