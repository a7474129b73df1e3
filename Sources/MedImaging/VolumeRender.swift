/// 8-bit pictures of a volume for `medlens render` and overlays: a middle slice, and a projection through it.
/// Grey maps through the volume's first window when it has one, else its own min...max; 3 channels render as RGB,
/// other channel counts show their first channel. Spectralis reflectivity (kind `oct-vol`) is shown as its 4th
/// root first, as Heidelberg's viewer does: linear, nearly all of it would be black.
public enum VolumeRender {
    public enum Projection: String, Sendable, Codable { case mean, max }

    /// The axis a projection collapses: `depth` gives a rows x cols picture (CT maximum-intensity projection);
    /// `rows` gives depth x cols, the en-face view of an OCT volume whose rows are the axial (A-scan) direction.
    public enum Axis: String, Sendable, Codable { case depth, rows }

    public static func middleSlice(of volume: Volume) -> RasterImage {
        let shape = volume.shape, middle = shape.depth / 2
        let channels = shape.channels == 3 ? 3 : 1
        var planes: [[Float]] = []
        for channel in 0..<channels {
            let start = (channel * shape.depth + middle) * shape.sliceCount
            planes.append(Array(volume.voxels[start..<(start + shape.sliceCount)]))
        }
        return raster(planes, width: shape.cols, height: shape.rows, window: volume.metadata.windows.first,
                      power: displayExponent(volume))
    }

    static func displayExponent(_ volume: Volume) -> Float? { volume.metadata.kind == "oct-vol" ? 0.25 : nil }

    /// En-face view: the default axis is `rows` for OCT volumes (kind `oct-*` or `bscan-folder`), else `depth`.
    public static func projection(of volume: Volume, _ projection: Projection = .mean, along axis: Axis? = nil) -> RasterImage {
        let shape = volume.shape
        let kind = volume.metadata.kind
        let along = axis ?? (kind.hasPrefix("oct") || kind == "bscan-folder" ? .rows : .depth)
        let (height, width) = along == .depth ? (shape.rows, shape.cols) : (shape.depth, shape.cols)
        let channels = shape.channels == 3 ? 3 : 1
        var planes: [[Float]] = []
        for channel in 0..<channels {
            var plane = [Float](repeating: projection == .max ? -Float.infinity : 0, count: height * width)
            volume.voxels.withUnsafeBufferPointer { voxels in
                plane.withUnsafeMutableBufferPointer { out in
                    for d in 0..<shape.depth {
                        for r in 0..<shape.rows {
                            let source = ((channel * shape.depth + d) * shape.rows + r) * shape.cols
                            let target = (along == .depth ? r : d) * width
                            for c in 0..<shape.cols {
                                let v = voxels[source + c]
                                out[target + c] = projection == .max ? max(out[target + c], v) : out[target + c] + v
                            }
                        }
                    }
                    if projection == .mean {
                        let count = Float(along == .depth ? shape.depth : shape.rows)
                        for i in out.indices { out[i] /= count }
                    }
                }
            }
            planes.append(plane)
        }
        // A projection's range differs from a slice's, so it is scaled to its own min...max, not the window.
        return raster(planes, width: width, height: height, window: nil, power: displayExponent(volume))
    }

    /// Maps planes to interleaved 8-bit: through the window (DICOM linear) or the planes' joint min...max.
    static func raster(_ planes: [[Float]], width: Int, height: Int, window: Window?, power: Float? = nil) -> RasterImage {
        var grey = Volume(voxels: Array(planes.joined()), shape: Volume.Shape(channels: planes.count, rows: height, cols: width))
        if let power { try? IntensityStep.power(exponent: power).apply(to: &grey) }
        let step: IntensityStep = window.map { .window(center: $0.center, width: $0.width) } ?? .minMax
        // Only an explicit window below width 1 can fail; fall back to min...max for it.
        if (try? step.apply(to: &grey)) == nil { try? IntensityStep.minMax.apply(to: &grey) }
        let plane = width * height, channels = planes.count
        var pixels = [UInt8](repeating: 0, count: plane * channels)
        grey.voxels.withUnsafeBufferPointer { values in
            for c in 0..<channels {
                for i in 0..<plane { pixels[i * channels + c] = UInt8((min(max(values[c * plane + i], 0), 1) * 255).rounded()) }
            }
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
