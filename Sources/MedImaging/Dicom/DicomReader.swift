import Dispatch
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
        let (channels, photometric) = DicomPixelDecoder.outputLayout(info: info, header: first)
        let plane = info.rows * info.cols
        var warnings = plan.warnings
        // Consecutive slices from one file are decoded with one open; files are decoded in parallel.
        var runs: [(file: Int, start: Int, frames: [Int])] = []
        for (index, slice) in plan.slices.enumerated() {
            if let last = runs.last, last.file == slice.file, last.start + last.frames.count == index {
                runs[runs.count - 1].frames.append(slice.frame)
            } else {
                runs.append((slice.file, index, [slice.frame]))
            }
        }
        var voxels = [Float](repeating: 0, count: channels * depth * plane)
        let firstError = FirstError()
        voxels.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: runs.count) { r in
                let run = runs[r]
                do {
                    let header = plan.headers[run.file]
                    let decoded = try DicomPixelDecoder.decode(file: try DicomFile(url: header.url), header: header,
                                                               frames: run.frames, limits: limits)
                    guard decoded.channels == channels, decoded.voxels.count == channels * run.frames.count * plane else {
                        throw IntakeError(.inconsistentSeries, "slice \(run.start) has \(decoded.channels) channels or another size than the series")
                    }
                    decoded.voxels.withUnsafeBufferPointer { source in
                        for c in 0..<channels {
                            let count = run.frames.count * plane
                            (out.baseAddress! + (c * depth + run.start) * plane)
                                .update(from: source.baseAddress! + c * count, count: count)
                        }
                    }
                } catch {
                    firstError.record(error)
                }
            }
        }
        if let error = firstError.error { throw error }
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

/// The first error raised by any of several concurrent workers.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func record(_ error: Error) {
        lock.lock(); defer { lock.unlock() }
        if stored == nil { stored = error }
    }
}
