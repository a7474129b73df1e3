import Foundation

/// Reads a folder of B-scan images (PNG, JPEG or uncompressed TIFF, as OCT viewers export them) as one volume:
/// depth = files in natural name order (B2 before B10), each image one slice. All slices must agree in size
/// and channel count. When the folder also holds other images (a HEYEX export's NIR1.tif fundus beside
/// B1...B11.tif), the series is the largest group of files sharing a name stem; the rest are named in warnings.
public struct BScanFolderReader: Sendable {
    public var limits: IntakeLimits

    public init(limits: IntakeLimits = .default) { self.limits = limits }

    public func read(_ folder: URL) throws(IntakeError) -> Volume {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw IntakeError(.notFound, "cannot list \(folder.lastPathComponent): \(error.localizedDescription)")
        }
        // Only the leading bytes are read here, so that other files (XML, notes, half-written files) cost nothing.
        var images: [(name: String, url: URL, format: ImageFormat)] = []
        for name in names where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let format = ImageFormat(sniffing: url) else { continue }
            images.append((name, url, format))
        }
        guard !images.isEmpty else { throw IntakeError(.empty, "\(folder.lastPathComponent) holds no PNG, JPEG or TIFF images") }

        let groups = Dictionary(grouping: images, by: { NaturalOrder.stem($0.name) }).values.sorted { $0.count > $1.count }
        guard groups.count == 1 || groups[0].count > groups[1].count else {
            throw IntakeError(.inconsistentSeries, "no single B-scan series: \(groups.count) equally large groups of file names")
        }
        let series = groups[0].sorted { NaturalOrder.areInIncreasingOrder($0.name, $1.name) }
        var warnings: [String] = []
        let ignored = groups.dropFirst().flatMap { $0.map(\.name) }.sorted(by: NaturalOrder.areInIncreasingOrder)
        if !ignored.isEmpty { warnings.append("ignored \(ignored.count) image(s) outside the B-scan series: \(ignored.joined(separator: ", "))") }

        var voxels: [Float] = []
        var first: DecodedImage?
        for item in series {
            let image: DecodedImage
            do { image = try ImageCodec.decode(limits.readFile(item.url), format: item.format, limits: limits) } catch {
                throw IntakeError(error.reason, "\(item.name): \(error.message)")
            }
            if let first {
                guard image.width == first.width, image.height == first.height, image.channels == first.channels else {
                    throw IntakeError(.inconsistentSeries, "\(item.name) is \(image.channels)x\(image.height)x\(image.width), "
                                      + "\(series[0].name) is \(first.channels)x\(first.height)x\(first.width)")
                }
            } else {
                first = image
                try limits.checkVoxels(Volume.Shape(channels: image.channels, depth: series.count, rows: image.height, cols: image.width))
                voxels.reserveCapacity(image.planes.count * series.count)
            }
            warnings += image.warnings.map { "\(item.name): \($0)" }
            voxels += image.planes
        }
        guard let first else { throw IntakeError(.empty, "no B-scans") }
        let shape = Volume.Shape(channels: first.channels, depth: series.count, rows: first.height, cols: first.width)
        var metadata = ImageMetadata()
        metadata.kind = "bscan-folder"
        metadata.photometric = first.channels == 1 ? "MONOCHROME2" : "RGB"
        metadata.bitsStored = first.bitDepth
        metadata.warnings = warnings
        // Files carry [slice][channel] planes; the volume wants channels outermost.
        return Volume(voxels: Self.channelsFirst(voxels, shape: shape), shape: shape, metadata: metadata)
    }

    private static func channelsFirst(_ sliceMajor: [Float], shape: Volume.Shape) -> [Float] {
        guard shape.channels > 1 else { return sliceMajor }
        let plane = shape.sliceCount
        var out = [Float](repeating: 0, count: sliceMajor.count)
        for d in 0..<shape.depth {
            for c in 0..<shape.channels {
                let source = (d * shape.channels + c) * plane, target = (c * shape.depth + d) * plane
                out[target..<(target + plane)] = sliceMajor[source..<(source + plane)]
            }
        }
        return out
    }
}
