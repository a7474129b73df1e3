import Foundation

/// One volume to build from DICOM objects: which file and frame goes to each slice, in slice order,
/// and the geometry their headers give.
public struct SeriesPlan: Sendable {
    public struct Slice: Sendable, Equatable {
        public var file: Int   // index into `headers`
        public var frame: Int
    }
    public var headers: [DicomHeader]
    public var slices: [Slice]
    public var geometry: Volume.Geometry
    public var kind: String
    public var warnings: [String]
    /// How many slices the headers announce (ImagesInAcquisition, or NumberOfFrames); nil when unknown.
    public var expectedSlices: Int?

    public var seriesInstanceUID: String? { headers.first?.seriesInstanceUID }
}

/// Groups DICOM headers into volumes: by SeriesInstanceUID, then by orientation and matrix size, ordered by
/// ImagePositionPatient projected on the slice normal (InstanceNumber when positions are missing).
public enum DicomSeriesAssembler {
    /// Positions closer than this (mm) along the normal are the same slice.
    static let duplicateTolerance = 1e-3
    /// A step this much larger than the median step is reported as a gap.
    static let gapFactor = 1.5

    public static func plan(_ headers: [DicomHeader]) -> (plans: [SeriesPlan], rejected: [(URL, IntakeError)]) {
        var rejected: [(URL, IntakeError)] = []
        var usable: [DicomHeader] = []
        for header in headers {
            if header.pixels == nil {
                rejected.append((header.url, header.pixelError ?? IntakeError(.noPixelData, "no pixel data")))
            } else {
                usable.append(header)
            }
        }
        var bySeries: [String: [DicomHeader]] = [:]
        var order: [String] = []
        for header in usable {
            let key = header.seriesInstanceUID ?? "file:" + header.url.path
            if bySeries[key] == nil { order.append(key) }
            bySeries[key, default: []].append(header)
        }
        var plans: [SeriesPlan] = []
        for key in order {
            let group = bySeries[key]!
            var stacks: [[DicomHeader]] = []
            for header in group {
                if header.frames > 1 {
                    plans.append(multiFramePlan(header))
                } else if let index = stacks.firstIndex(where: { compatible($0[0], header) }) {
                    stacks[index].append(header)
                } else {
                    stacks.append([header])
                }
            }
            for stack in stacks {
                var plan = stackPlan(stack)
                if stacks.count > 1 {
                    plan.warnings.append("series has \(stacks.count) groups of different orientation or matrix size; " +
                                         "split into separate volumes (this one: \(stack.count) images)")
                }
                plans.append(plan)
            }
        }
        return (plans, rejected)
    }

    static func compatible(_ a: DicomHeader, _ b: DicomHeader) -> Bool {
        guard let p = a.pixels, let q = b.pixels, p.rows == q.rows, p.cols == q.cols, p.samples == q.samples else { return false }
        switch (a.frameOrientations.first ?? nil, b.frameOrientations.first ?? nil) {
        case (nil, nil): return true
        case (let x?, let y?): return zip(x, y).allSatisfy { abs($0 - $1) < 1e-3 }
        default: return false
        }
    }

    static func multiFramePlan(_ header: DicomHeader) -> SeriesPlan {
        // Without per-frame geometry (cine, RT dose) every frame repeats the top-level position: keep file order.
        let entries = (0..<header.frames).map { (file: 0, frame: $0, position: header.isEnhancedMultiFrame ? header.framePositions[$0] : nil,
                                                  orientation: header.frameOrientations[$0], instance: $0) }
        var plan = ordered(entries, headers: [header], kind: "dicom-multiframe")
        if plan.slices.count < header.frames {
            // Repeated positions in one object are time points or echoes, not duplicates: keep every frame.
            plan = ordered(entries.map { ($0.file, $0.frame, nil, $0.orientation, $0.instance) }, headers: [header], kind: "dicom-multiframe")
            plan.warnings = ["multi-frame object repeats slice positions (temporal or multi-echo): frames kept in stored order"]
        }
        plan.expectedSlices = header.frames
        if !header.isEnhancedMultiFrame {
            plan.warnings.removeAll { $0.hasPrefix("no ImagePositionPatient") }
            plan.warnings.append("multi-frame object without per-frame positions: frames kept in stored order")
        }
        return plan
    }

    static func stackPlan(_ headers: [DicomHeader]) -> SeriesPlan {
        let entries = headers.enumerated().map { i, h in
            (file: i, frame: 0, position: h.framePositions.first ?? nil, orientation: h.frameOrientations.first ?? nil,
             instance: h.instanceNumber ?? i)
        }
        var plan = ordered(entries, headers: headers, kind: headers.count > 1 ? "dicom-series" : "dicom")
        plan.expectedSlices = headers.first?.imagesInAcquisition
        return plan
    }

    typealias Entry = (file: Int, frame: Int, position: [Double]?, orientation: [Double]?, instance: Int)

    static func ordered(_ entries: [Entry], headers: [DicomHeader], kind: String) -> SeriesPlan {
        var warnings: [String] = []
        let first = headers[0]
        let orientation: [Double] = entries.first?.orientation.flatMap { $0 } ?? [1, 0, 0, 0, 1, 0]
        let row = Array(orientation[0..<3]), col = Array(orientation[3..<6])
        let normal = cross(row, col)
        let inPlane: [Double] = first.pixelSpacing.map { [$0.count > 1 ? $0[1] : $0[0], $0[0]] } ?? [1, 1]
        if first.pixelSpacing == nil { warnings.append("no PixelSpacing; 1 mm assumed") }

        var sorted = entries
        var sliceSpacing = first.spacingBetweenSlices ?? first.sliceThickness ?? 1
        let positioned = entries.allSatisfy { $0.position != nil }
        if entries.count > 1 && positioned {
            let depth = { (e: Entry) in dot(e.position!, normal) }
            sorted.sort { (depth($0), $0.instance) < (depth($1), $1.instance) }
            var kept: [Entry] = [sorted[0]]
            for entry in sorted.dropFirst() {
                if abs(depth(entry) - depth(kept.last!)) < duplicateTolerance {
                    warnings.append("duplicate slice position \(format(depth(entry))) mm: instance \(entry.instance) dropped")
                } else {
                    kept.append(entry)
                }
            }
            sorted = kept
            let steps = zip(sorted.dropFirst(), sorted).map { depth($0) - depth($1) }
            if let median = steps.sorted()[safe: steps.count / 2] {
                sliceSpacing = median
                for (i, step) in steps.enumerated() where step > gapFactor * median {
                    warnings.append("gap of \(format(step)) mm between slices \(i) and \(i + 1) (expected \(format(median)) mm)")
                }
            }
        } else if entries.count > 1 {
            sorted.sort { $0.instance < $1.instance }
            warnings.append("no ImagePositionPatient on every slice; ordered by InstanceNumber, slice spacing \(format(sliceSpacing)) mm from the header")
        }
        let origin: [Double] = sorted.first?.position.flatMap { $0 } ?? [0, 0, 0]
        let geometry = Volume.Geometry(spacing: inPlane + [sliceSpacing], origin: origin, direction: [row, col, normal])
        return SeriesPlan(headers: headers, slices: sorted.map { SeriesPlan.Slice(file: $0.file, frame: $0.frame) },
                          geometry: geometry, kind: kind, warnings: headers.flatMap(\.warnings) + warnings, expectedSlices: nil)
    }

    static func cross(_ a: [Double], _ b: [Double]) -> [Double] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
