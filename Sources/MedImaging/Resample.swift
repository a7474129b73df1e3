/// Resampling kernels with PyTorch's `F.interpolate` semantics, so that a model trained in PyTorch sees the same
/// pixels here: `bilinear`/`trilinear` with `align_corners=False` (half-pixel centres, source coordinates below 0
/// clamped to 0) and `area` (adaptive average pooling). Buffers are channel-first planes.
public enum Resample {
    /// Interpolation weights along one axis: for each output index, two source indices and the weight of the second.
    struct LinearTaps {
        var lower: [Int]
        var upper: [Int]
        var weight: [Float]

        init(input: Int, output: Int) {
            // PyTorch computes the scale in the input's precision (float) when only a size is given.
            let scale = Float(input) / Float(output)
            lower = []; upper = []; weight = []
            lower.reserveCapacity(output); upper.reserveCapacity(output); weight.reserveCapacity(output)
            for i in 0..<output {
                let source = max((Float(i) + 0.5) * scale - 0.5, 0)
                let low = min(Int(source), input - 1)
                lower.append(low)
                upper.append(min(low + 1, input - 1))
                weight.append(source - Float(low))
            }
        }
    }

    /// Bilinear resize of one `rows x cols` plane into `outRows x outCols`.
    /// Each source row is interpolated along x once per output row that uses it (consecutive output rows mostly
    /// share their two), then rows are blended: the same products as the per-pixel form, in the same order.
    public static func bilinear(_ source: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                                into target: UnsafeMutableBufferPointer<Float>, outRows: Int, outCols: Int) {
        precondition(source.count >= rows * cols && target.count >= outRows * outCols, "buffer too small for the resize")
        let y = LinearTaps(input: rows, output: outRows), x = LinearTaps(input: cols, output: outCols)
        var upperRow = [Float](repeating: 0, count: outCols), lowerRow = [Float](repeating: 0, count: outCols)
        var upperSource = -1, lowerSource = -1  // the source rows the two buffers hold
        x.lower.withUnsafeBufferPointer { left in
            x.upper.withUnsafeBufferPointer { right in
                x.weight.withUnsafeBufferPointer { wx in
                    func interpolate(row: Int, into line: inout [Float]) {
                        let base = row * cols
                        line.withUnsafeMutableBufferPointer { line in
                            for c in 0..<outCols { line[c] = (1 - wx[c]) * source[base + left[c]] + wx[c] * source[base + right[c]] }
                        }
                    }
                    for r in 0..<outRows {
                        let top = y.lower[r], bottom = y.upper[r], wy = y.weight[r]
                        if top != upperSource {
                            if top == lowerSource {
                                swap(&upperRow, &lowerRow)
                                lowerSource = -1
                            } else {
                                interpolate(row: top, into: &upperRow)
                            }
                            upperSource = top
                        }
                        if bottom != lowerSource {
                            interpolate(row: bottom, into: &lowerRow)
                            lowerSource = bottom
                        }
                        upperRow.withUnsafeBufferPointer { u in
                            lowerRow.withUnsafeBufferPointer { l in
                                let out = target.baseAddress! + r * outCols
                                for c in 0..<outCols { out[c] = (1 - wy) * u[c] + wy * l[c] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Trilinear resize of one `depth x rows x cols` block.
    public static func trilinear(_ source: UnsafeBufferPointer<Float>, depth: Int, rows: Int, cols: Int,
                                 into target: UnsafeMutableBufferPointer<Float>, outDepth: Int, outRows: Int, outCols: Int) {
        precondition(source.count >= depth * rows * cols && target.count >= outDepth * outRows * outCols, "buffer too small for the resize")
        let z = LinearTaps(input: depth, output: outDepth), y = LinearTaps(input: rows, output: outRows)
        let x = LinearTaps(input: cols, output: outCols)
        let plane = rows * cols
        var out = 0
        for d in 0..<outDepth {
            let front = z.lower[d] * plane, back = z.upper[d] * plane, wz = z.weight[d]
            for r in 0..<outRows {
                let top = y.lower[r] * cols, bottom = y.upper[r] * cols, wy = y.weight[r]
                for c in 0..<outCols {
                    let left = x.lower[c], right = x.upper[c], wx = x.weight[c]
                    func lerpRow(_ base: Int) -> Float { (1 - wx) * source[base + left] + wx * source[base + right] }
                    let frontValue = (1 - wy) * lerpRow(front + top) + wy * lerpRow(front + bottom)
                    let backValue = (1 - wy) * lerpRow(back + top) + wy * lerpRow(back + bottom)
                    target[out] = (1 - wz) * frontValue + wz * backValue
                    out += 1
                }
            }
        }
    }

    /// Area resize (adaptive average pooling) of one plane: output cell i averages source cells
    /// floor(i * in / out) ..< ceil((i + 1) * in / out) along each axis.
    public static func area(_ source: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                            into target: UnsafeMutableBufferPointer<Float>, outRows: Int, outCols: Int) {
        precondition(source.count >= rows * cols && target.count >= outRows * outCols, "buffer too small for the resize")
        let yBins = (0..<outRows).map { poolWindow($0, input: rows, output: outRows) }
        let xBins = (0..<outCols).map { poolWindow($0, input: cols, output: outCols) }
        for (r, rowsRange) in yBins.enumerated() {
            for (c, colsRange) in xBins.enumerated() {
                var sum: Float = 0
                for sr in rowsRange {
                    for sc in colsRange { sum += source[sr * cols + sc] }
                }
                target[r * outCols + c] = sum / Float(rowsRange.count * colsRange.count)
            }
        }
    }

    static func poolWindow(_ index: Int, input: Int, output: Int) -> Range<Int> {
        let start = (index * input) / output
        let end = ((index + 1) * input + output - 1) / output
        return start..<end
    }
}
