import Foundation
import MedImaging

/// How a map is brought to the input's or the original scan's grid.
public enum MapResampling: String, Sendable, Codable, CaseIterable {
    /// Bilinear (2D) or trilinear (3D) with half-pixel centres and edge clamping: cv2 `INTER_LINEAR`, torch
    /// `align_corners=False`. Never overshoots; the product default.
    case linear
    /// pytorch-grad-cam 1.5.7's 3D resize, `scipy.ndimage.zoom` with its defaults: a cubic B-spline (mirror
    /// prefilter) sampled with corner-aligned coordinates; it overshoots (then clipped by the ReLU). Only for
    /// parity: 2D maps are resized bilinearly either way, as pytorch-grad-cam does with cv2.
    case cubicSplineCompat = "cubic_spline_compat"
}

enum MapResize {
    static func resize(_ values: [Float], from shape: [Int], to size: [Int], resampling: MapResampling) -> [Float] {
        var out = [Float](repeating: 0, count: size.reduce(1, *))
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                switch (shape.count, resampling) {
                case (2, _):
                    Resample.bilinear(source, rows: shape[0], cols: shape[1], into: target, outRows: size[0], outCols: size[1])
                case (3, .linear):
                    Resample.trilinear(source, depth: shape[0], rows: shape[1], cols: shape[2], into: target,
                                       outDepth: size[0], outRows: size[1], outCols: size[2])
                case (3, .cubicSplineCompat):
                    CubicSplineZoom.zoom(source, shape: shape, into: target, size: size)
                default:
                    preconditionFailure("maps are 2D or 3D, not \(shape.count)D")
                }
            }
        }
        return out
    }
}

extension MapResize {
    /// A 2D plane made smaller by area averaging (a mosaic tile), bilinear when it grows on either axis.
    static func shrink(_ values: [Float], from shape: [Int], to size: [Int]) -> [Float] {
        guard size[0] <= shape[0], size[1] <= shape[1] else { return resize(values, from: shape, to: size, resampling: .linear) }
        var out = [Float](repeating: 0, count: size[0] * size[1])
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { Resample.area(source, rows: shape[0], cols: shape[1], into: $0, outRows: size[0], outCols: size[1]) }
        }
        return out
    }
}

/// `scipy.ndimage.zoom(x, size / shape)` with order 3, `mode='constant'`, `grid_mode=False`, in float64 as SciPy
/// computes it: per axis, the cubic B-spline prefilter with mirror boundaries, then evaluation at
/// `out_index * (n_in − 1) / (n_out − 1)` with coefficients mirrored past the edges (all points lie inside).
enum CubicSplineZoom {
    static let pole = 3.0.squareRoot() - 2

    static func zoom(_ source: UnsafeBufferPointer<Float>, shape: [Int], into target: UnsafeMutableBufferPointer<Float>, size: [Int]) {
        var coefficients = source.map(Double.init)
        var current = shape
        for axis in shape.indices { prefilter(&coefficients, shape: current, axis: axis) }
        for axis in shape.indices {
            coefficients = evaluate(coefficients, shape: current, axis: axis, outCount: size[axis])
            current[axis] = size[axis]
        }
        for i in 0..<target.count { target[i] = Float(coefficients[i]) }
    }

    /// Calls `body(offset, step)` for every line along `axis` of a row-major block.
    static func forEachLine(shape: [Int], axis: Int, _ body: (Int, Int) -> Void) {
        let step = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        for o in 0..<outer {
            for inner in 0..<step { body(o * shape[axis] * step + inner, step) }
        }
    }

    /// SciPy's `spline_filter1d` (ni_splines.c): gain, causal pass with mirror initialisation, anti-causal pass.
    static func prefilter(_ c: inout [Double], shape: [Int], axis: Int) {
        let n = shape[axis]
        guard n > 1 else { return }
        let z = pole, gain = (1 - z) * (1 - 1 / z)
        var line = [Double](repeating: 0, count: n)
        forEachLine(shape: shape, axis: axis) { offset, step in
            for i in 0..<n { line[i] = c[offset + i * step] * gain }
            let zn1 = pow(z, Double(n - 1))
            var c0 = line[0] + zn1 * line[n - 1], zi = z
            for i in 1..<(n - 1) {
                c0 += zi * (line[i] + zn1 * line[n - 1 - i])
                zi *= z
            }
            line[0] = c0 / (1 - zn1 * zn1)
            for i in 1..<n { line[i] += z * line[i - 1] }
            line[n - 1] = (z * line[n - 2] + line[n - 1]) * z / (z * z - 1)
            for i in stride(from: n - 2, through: 0, by: -1) { line[i] = z * (line[i + 1] - line[i]) }
            for i in 0..<n { c[offset + i * step] = line[i] }
        }
    }

    static func evaluate(_ c: [Double], shape: [Int], axis: Int, outCount: Int) -> [Double] {
        let n = shape[axis]
        var outShape = shape
        outShape[axis] = outCount
        var out = [Double](repeating: 0, count: outShape.reduce(1, *))
        let step = outCount > 1 ? Double(n - 1) / Double(outCount - 1) : 1
        // Taps and weights per output index, shared by every line.
        var taps: [(Int, Int, Int, Int)] = [], weights: [(Double, Double, Double, Double)] = []
        for j in 0..<outCount {
            let x = Double(j) * step, f = x.rounded(.down), t = x - f, i = Int(f)
            taps.append((mirror(i - 1, n), mirror(i, n), mirror(i + 1, n), mirror(i + 2, n)))
            let u = 1 - t
            weights.append((u * u * u / 6, (3 * t * t * t - 6 * t * t + 4) / 6, (-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6, t * t * t / 6))
        }
        let inStride = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        for o in 0..<outer {
            for inner in 0..<inStride {
                let inBase = o * n * inStride + inner, outBase = o * outCount * inStride + inner
                for j in 0..<outCount {
                    let (a, b, d, e) = taps[j], (wa, wb, wd, we) = weights[j]
                    out[outBase + j * inStride] = wa * c[inBase + a * inStride] + wb * c[inBase + b * inStride]
                        + wd * c[inBase + d * inStride] + we * c[inBase + e * inStride]
                }
            }
        }
        return out
    }

    /// Whole-sample symmetric extension (SciPy's "mirror"): … 2 1 | 0 1 2 … n−1 | n−2 …
    static func mirror(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let period = 2 * (n - 1)
        var k = abs(i) % period
        if k >= n { k = period - k }
        return k
    }
}
