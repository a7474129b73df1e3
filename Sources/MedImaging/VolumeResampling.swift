/// 2D and 3D resizing of whole volumes, channel by channel, and resizing to a target voxel spacing.
public enum InterpolationMode: String, Sendable, Codable {
    /// Per slice, PyTorch `mode="bilinear", align_corners=False`.
    case bilinear
    /// Per slice, PyTorch `mode="area"` (adaptive average pooling): the choice for shrinking.
    case area
    /// Across slices too, PyTorch `mode="trilinear", align_corners=False`.
    case trilinear
}

extension Volume {
    /// Resizes to `depth x rows x cols`. `bilinear` and `area` work slice by slice and so keep the depth.
    public func resized(depth newDepth: Int? = nil, rows newRows: Int, cols newCols: Int, mode: InterpolationMode) -> Volume {
        precondition(newRows > 0 && newCols > 0 && (newDepth ?? 1) > 0, "target size must be positive")
        let outDepth = mode == .trilinear ? (newDepth ?? shape.depth) : shape.depth
        precondition(mode == .trilinear || newDepth == nil || newDepth == shape.depth, "\(mode) keeps the depth; use trilinear")
        let outShape = Shape(channels: shape.channels, depth: outDepth, rows: newRows, cols: newCols)
        var out = [Float](repeating: 0, count: outShape.count)
        // An empty input (a .vol without an SLO image) has nothing to interpolate from: the output stays zero.
        if shape.count > 0 { resample(into: &out, outShape: outShape, mode: mode) }
        var result = self
        result.voxels = out
        result.shape = outShape
        // The field of view is kept, so spacing grows by the shrink factor along each axis.
        let factors = [Double(shape.cols) / Double(newCols), Double(shape.rows) / Double(newRows), Double(shape.depth) / Double(outDepth)]
        result.geometry.spacing = zip(geometry.spacing, factors).map { $0 * $1 }
        return result
    }

    /// Resizes so that voxels are `spacing` apart (cols, rows, slices; same units as `geometry.spacing`). Sizes are
    /// rounded, at least 1; for `bilinear`/`area` the slice spacing is left as it is.
    public func resampled(toSpacing spacing: [Double], mode: InterpolationMode) -> Volume {
        precondition(spacing.count == 3 && spacing.allSatisfy { $0 > 0 }, "spacing needs three positive values")
        // An axis whose own spacing is unknown (0, NaN) keeps its size.
        func size(_ count: Int, _ axis: Int) -> Int {
            let ratio = geometry.spacing[axis] / spacing[axis]
            return ratio.isFinite && ratio > 0 ? max(1, Int((Double(count) * ratio).rounded())) : count
        }
        return resized(depth: mode == .trilinear ? size(shape.depth, 2) : nil, rows: size(shape.rows, 1), cols: size(shape.cols, 0), mode: mode)
    }

    private func resample(into out: inout [Float], outShape: Shape, mode: InterpolationMode) {
        let inBlock = shape.depth * shape.sliceCount, outBlock = outShape.depth * outShape.sliceCount
        voxels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for channel in 0..<shape.channels {
                    if mode == .trilinear {
                        Resample.trilinear(UnsafeBufferPointer(rebasing: source[(channel * inBlock)...]), depth: shape.depth,
                                           rows: shape.rows, cols: shape.cols,
                                           into: UnsafeMutableBufferPointer(rebasing: target[(channel * outBlock)...]),
                                           outDepth: outShape.depth, outRows: outShape.rows, outCols: outShape.cols)
                        continue
                    }
                    for slice in 0..<shape.depth {
                        let plane = channel * shape.depth + slice
                        let input = UnsafeBufferPointer(rebasing: source[(plane * shape.sliceCount)...])
                        let output = UnsafeMutableBufferPointer(rebasing: target[(plane * outShape.sliceCount)...])
                        let kernel = mode == .area ? Resample.area : Resample.bilinear
                        kernel(input, shape.rows, shape.cols, output, outShape.rows, outShape.cols)
                    }
                }
            }
        }
    }
}
