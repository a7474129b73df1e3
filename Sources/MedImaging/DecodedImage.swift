/// One decoded 2D raster in planar Float samples `[channel][row][col]` (0...255 or 0...65535 as stored),
/// before it becomes a `Volume` or a slice of one.
struct DecodedImage {
    var width: Int
    var height: Int
    var channels: Int
    var bitDepth: Int
    var planes: [Float]
    var warnings: [String] = []

    /// Converts interleaved samples to planar Floats, keeping at most `keptChannels` leading channels
    /// (alpha, when present, is the last channel and is dropped by the callers that pass a smaller count).
    init<T: BinaryInteger>(interleaved: UnsafeBufferPointer<T>, width: Int, height: Int, channels: Int, keptChannels: Int,
                           bitDepth: Int) {
        let plane = width * height
        self.width = width; self.height = height; self.channels = keptChannels; self.bitDepth = bitDepth
        planes = [Float](unsafeUninitializedCapacity: plane * keptChannels) { out, initialized in
            for c in 0..<keptChannels {
                var source = c
                for i in 0..<plane {
                    out[c * plane + i] = Float(interleaved[source])
                    source += channels
                }
            }
            initialized = plane * keptChannels
        }
    }
}
