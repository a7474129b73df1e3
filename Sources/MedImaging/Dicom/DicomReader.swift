import Foundation

/// Reads DICOM files into volumes: headers first (cheap), then series plans, then pixels per plan.
public enum DicomReader {
    /// Reads one header; files that are not DICOM or cannot be parsed throw IntakeError.
    public static func header(at url: URL) throws -> DicomHeader {
        let file = try DicomFile(url: url)
        return DicomHeader(file: file, url: url)
    }

    /// Decodes every slice of a plan into one volume `[channel][slice][row][col]`.
    public static func volume(for plan: SeriesPlan, limits: IntakeLimits = .default) throws -> Volume {
        guard let first = plan.headers.first, let info = first.pixels else {
            throw IntakeError(.noPixelData, "empty series plan")
        }
        let depth = plan.slices.count
        if info.rows * info.cols * info.samples * depth > limits.maxPixels {
            throw IntakeError(.tooLarge, "\(depth) slices of \(info.cols)x\(info.rows)x\(info.samples) exceed the limit of \(limits.maxPixels) samples")
        }
        var voxels: [Float] = []
        var channels = 0
        var photometric = ""
        var warnings = plan.warnings
        // Consecutive slices from the same file are decoded with one open.
        var index = 0
        while index < depth {
            let fileIndex = plan.slices[index].file
            var frames: [Int] = []
            while index < depth && plan.slices[index].file == fileIndex { frames.append(plan.slices[index].frame); index += 1 }
            let header = plan.headers[fileIndex]
            let file = try DicomFile(url: header.url)
            let decoded = try DicomPixelDecoder.decode(file: file, header: header, frames: frames, limits: limits)
            if channels == 0 {
                channels = decoded.channels
                photometric = decoded.photometric
                voxels = [Float](repeating: 0, count: channels * depth * info.rows * info.cols)
            } else if decoded.channels != channels {
                throw IntakeError(.inconsistentSeries, "slice \(index) has \(decoded.channels) channels, the series \(channels)")
            }
            let plane = info.rows * info.cols
            let start = index - frames.count
            for c in 0..<channels {
                let source = c * frames.count * plane
                let target = (c * depth + start) * plane
                voxels.replaceSubrange(target..<(target + frames.count * plane), with: decoded.voxels[source..<(source + frames.count * plane)])
            }
        }
        if let expected = plan.expectedSlices, expected > depth {
            warnings.append("header announces \(expected) slices, \(depth) present")
        }
        var metadata = ImageMetadata()
        metadata.kind = plan.kind
        metadata.studyInstanceUID = first.studyInstanceUID
        metadata.seriesInstanceUID = first.seriesInstanceUID
        metadata.sopInstanceUIDs = plan.headers.compactMap(\.sopInstanceUID)
        metadata.sopClassUID = first.sopClassUID
        metadata.modality = first.modality
        metadata.bodyPart = first.bodyPart
        metadata.laterality = first.laterality
        metadata.transferSyntax = first.transferSyntax
        metadata.photometric = first.photometric ?? photometric
        metadata.bitsStored = info.bitsStored
        metadata.windows = first.windows
        metadata.voiLUT = first.voiLUT
        if photometric == "MONOCHROME1" {
            // The voxels were inverted (v' = lo + hi - v), so a window given on the stored scale is mirrored with them.
            let stored = DicomPixelDecoder.storedRange(info)
            let (lo, hi) = (first.frameTransforms.first ?? .identity).outputRange(storedMin: stored.0, storedMax: stored.1)
            metadata.windows = first.windows.map { Window(center: lo + hi - $0.center, width: $0.width, explanation: $0.explanation) }
            if metadata.voiLUT != nil {
                metadata.voiLUT = nil
                warnings.append("VOI LUT of a MONOCHROME1 image dropped: it applies to the uninverted values")
            }
        }
        metadata.warnings = warnings
        return Volume(voxels: voxels, shape: .init(channels: channels, depth: depth, rows: info.rows, cols: info.cols),
                      geometry: plan.geometry, metadata: metadata, patient: first.patient)
    }
}
