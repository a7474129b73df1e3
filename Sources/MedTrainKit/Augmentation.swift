import Foundation
import MedEngine

/// Random augmentation, all of it drawn from a seeded generator. Codable: the training config holds it.
/// Flips default to off: left and right differ in chest radiographs (heart, situs) and are labelled per eye in
/// fundus photographs, so a flip is only allowed where the anatomy allows it.
public struct AugmentationSpec: Codable, Sendable, Equatable {
    /// Rotation drawn uniformly from ±degrees.
    public var rotationDegrees: Float
    /// Zoom drawn uniformly from `[minScale, maxScale]`.
    public var minScale: Float
    public var maxScale: Float
    /// Shift drawn uniformly from ±fraction of the width (x) and height (y).
    public var translation: Float
    /// Added to every value, drawn from ±brightness.
    public var brightness: Float
    /// Values are spread around their mean by a factor drawn from 1 ± contrast.
    public var contrast: Float
    public var horizontalFlip: Bool

    public init(rotationDegrees: Float = 0, minScale: Float = 1, maxScale: Float = 1, translation: Float = 0,
                brightness: Float = 0, contrast: Float = 0, horizontalFlip: Bool = false) {
        self.rotationDegrees = rotationDegrees
        self.minScale = minScale
        self.maxScale = maxScale
        self.translation = translation
        self.brightness = brightness
        self.contrast = contrast
        self.horizontalFlip = horizontalFlip
    }

    public static let none = AugmentationSpec()

    /// Draws one sample's parameters and applies them to `values` (shape `[C, H, W]` or `[C, D, H, W]`).
    public func apply(to values: inout [Float], shape: [Int], using rng: inout SeededRandom) {
        let rows = shape[shape.count - 2], cols = shape[shape.count - 1]
        let angle = rng.uniform(-rotationDegrees, rotationDegrees) * .pi / 180
        let scale = rng.uniform(minScale, maxScale)
        let shift = (x: rng.uniform(-translation, translation) * Float(cols), y: rng.uniform(-translation, translation) * Float(rows))
        let flip = horizontalFlip && rng.next() & 1 == 1
        let offset = rng.uniform(-brightness, brightness), factor = rng.uniform(1 - contrast, 1 + contrast)
        if angle != 0 || scale != 1 || shift.x != 0 || shift.y != 0 {
            Augment.affine(&values, shape: shape, rotation: angle, scale: scale, translation: shift)
        }
        if flip { Augment.flipHorizontal(&values, shape: shape) }
        if offset != 0 || factor != 1 { Augment.jitter(&values, brightness: offset, contrast: factor) }
    }
}

/// The deterministic primitives behind `AugmentationSpec`, on arrays whose last two axes are rows and columns.
/// Every other axis (channels, slices) gets the same 2D transform.
public enum Augment {
    /// Rotates by `rotation` radians (clockwise on screen: rows grow downwards), zooms by `scale` about the centre,
    /// then shifts by `translation` pixels; bilinear, with `fill` outside the image.
    public static func affine(_ values: inout [Float], shape: [Int], rotation: Float, scale: Float,
                              translation: (x: Float, y: Float), fill: Float = 0) {
        let rows = shape[shape.count - 2], cols = shape[shape.count - 1], plane = rows * cols
        let cx = Float(cols - 1) / 2, cy = Float(rows - 1) / 2
        // Output pixels look up their source through the inverse map.
        let c = cos(rotation) / scale, s = sin(rotation) / scale
        let source = values
        source.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for base in stride(from: 0, to: src.count, by: plane) {
                    for y in 0..<rows {
                        let dy = Float(y) - cy - translation.y
                        for x in 0..<cols {
                            let dx = Float(x) - cx - translation.x
                            let ix = c * dx + s * dy + cx, iy = -s * dx + c * dy + cy
                            dst[base + y * cols + x] = bilinear(src, base: base, rows: rows, cols: cols, x: ix, y: iy, fill: fill)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func bilinear(_ src: UnsafeBufferPointer<Float>, base: Int, rows: Int, cols: Int, x: Float, y: Float, fill: Float) -> Float {
        // Coordinates within a hair of a pixel snap to it, so exact rotations by 90° reproduce pixels exactly.
        let xs = abs(x - x.rounded()) < 1e-4 ? x.rounded() : x, ys = abs(y - y.rounded()) < 1e-4 ? y.rounded() : y
        let x0 = Int(xs.rounded(.down)), y0 = Int(ys.rounded(.down))
        let fx = xs - Float(x0), fy = ys - Float(y0)
        func at(_ r: Int, _ q: Int) -> Float { r >= 0 && r < rows && q >= 0 && q < cols ? src[base + r * cols + q] : fill }
        let top = at(y0, x0) * (1 - fx) + (fx > 0 ? at(y0, x0 + 1) * fx : 0)
        guard fy > 0 else { return top }
        let bottom = at(y0 + 1, x0) * (1 - fx) + (fx > 0 ? at(y0 + 1, x0 + 1) * fx : 0)
        return top * (1 - fy) + bottom * fy
    }

    /// Mirrors left and right.
    public static func flipHorizontal(_ values: inout [Float], shape: [Int]) {
        let cols = shape[shape.count - 1]
        values.withUnsafeMutableBufferPointer { buffer in
            for row in stride(from: 0, to: buffer.count, by: cols) {
                var (i, j) = (row, row + cols - 1)
                while i < j { buffer.swapAt(i, j); i += 1; j -= 1 }
            }
        }
    }

    /// `(x - mean) * contrast + mean + brightness`, with the mean of the whole array.
    public static func jitter(_ values: inout [Float], brightness: Float, contrast: Float) {
        values.withUnsafeMutableBufferPointer { buffer in
            guard !buffer.isEmpty else { return }
            var sum: Double = 0
            for v in buffer { sum += Double(v) }
            let mean = Float(sum / Double(buffer.count))
            for i in buffer.indices { buffer[i] = (buffer[i] - mean) * contrast + mean + brightness }
        }
    }
}
