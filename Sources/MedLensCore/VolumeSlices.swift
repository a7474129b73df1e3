import MedImaging

extension Volume {
    /// Slice `index` as a one-slice volume with every channel, for 2D models looking at a volume.
    public func slice(_ index: Int) -> Volume {
        precondition(index >= 0 && index < shape.depth)
        let plane = shape.sliceCount
        var voxels = [Float]()
        voxels.reserveCapacity(shape.channels * plane)
        self.voxels.withUnsafeBufferPointer { all in
            for c in 0..<shape.channels {
                let start = (c * shape.depth + index) * plane
                voxels += all[start..<(start + plane)]
            }
        }
        var geometry = self.geometry
        if geometry.origin.count == 3, geometry.direction.count == 3, geometry.spacing.count == 3 {
            let step = geometry.spacing[2] * Double(index)
            geometry.origin = (0..<3).map { geometry.origin[$0] + geometry.direction[2][$0] * step }
        }
        return Volume(voxels: voxels, shape: Shape(channels: shape.channels, depth: 1, rows: shape.rows, cols: shape.cols),
                      geometry: geometry, metadata: metadata, patient: patient)
    }

    /// The `count` slices around the middle (all of them when there are fewer), in order.
    public func centralSliceIndices(_ count: Int) -> [Int] {
        let n = min(max(1, count), shape.depth)
        let start = (shape.depth - n) / 2
        return Array(start..<(start + n))
    }
}
