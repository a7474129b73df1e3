import Dispatch
import Foundation
import MedEngine
import MedImaging

/// Where a map peaks, in the original scan's pixels (0-based; `slice` only for volumes).
public struct PeakLocation: Sendable, Equatable, Codable {
    public var column: Int
    public var row: Int
    public var slice: Int?

    public init(column: Int, row: Int, slice: Int? = nil) { self.column = column; self.row = row; self.slice = slice }
}

/// One PNG of an explanation, with a file name safe on any file system.
public struct ExplanationImage: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The heat map over the scan (2D).
        case overlay
        /// The map alone as 8-bit grey (2D: the whole map; volumes: its maximum along the en-face axis).
        case map
        /// Volumes: one slice where the map peaks.
        case slice
        /// Volumes: evenly spaced slices side by side.
        case mosaic
        /// Volumes: the maximum of the map along the axial direction over the mean projection of the scan.
        case enFace = "enface"
    }

    public var fileName: String
    public var data: Data
    public var kind: Kind
    /// The slice shown, for `slice`.
    public var slice: Int?
}

/// The explanation of one target of one scan.
public struct ScanExplanation: Sendable {
    public var target: Int
    public var label: String
    /// From the explanation's own forward pass.
    public var logit: Float
    public var method: ExplanationMethod
    /// The named activation; nil for occlusion.
    public var layer: String?
    /// The final map on the original scan's grid: [rows, cols] or [depth, rows, cols], values in 0...1.
    /// `map.raw` holds the signed raw map's statistics, `map.isEmpty` / `map.lowSignal` its flags.
    public var map: ActivationMap
    /// nil when the map is empty.
    public var peak: PeakLocation?
    /// How the map reached the original's grid (2D maps: always `.linear`).
    public var resampling: MapResampling
    /// The sweep, for occlusion.
    public var occlusion: OcclusionRun?
    /// Empty when the map is empty or rendering is off.
    public var images: [ExplanationImage]

    public var isEmpty: Bool { map.isEmpty }
    public var raw: RawStatistics { map.raw }

    /// The `explanation` object of docs/findings.schema.json, with `overlays` the image file names as given.
    public var record: ExplanationRecord {
        ExplanationRecord(method: method, targetLayer: layer ?? "input", mapMin: raw.min, mapMax: raw.max, mapMean: raw.mean,
                          empty: isEmpty, peak: peak.map { [$0.column, $0.row] + ($0.slice.map { [$0] } ?? []) },
                          overlays: images.map(\.fileName))
    }
}

/// An occlusion sweep's geometry: window and stride per spatial axis, fill value, forward passes (the first one
/// unoccluded).
public struct OcclusionRun: Sendable, Equatable, Codable {
    public var window: [Int]
    public var stride: [Int]
    public var baseline: Float
    public var passes: Int
}

/// A finding's `explanation` in findings.json (docs/findings.schema.json): the method, the target layer ("input"
/// for occlusion), the signed raw map's min/max/mean, whether it is empty (nothing drawn), the peak as
/// [column, row(, slice)] in original pixels, and the overlay files.
public struct ExplanationRecord: Sendable, Equatable, Codable {
    public var method: ExplanationMethod
    public var targetLayer: String
    public var mapMin: Float
    public var mapMax: Float
    public var mapMean: Float
    public var empty: Bool
    public var peak: [Int]?
    public var overlays: [String]
}

/// The entry point: explain several targets of one model on one scan.
public enum Explainer {
    /// - Parameters:
    ///   - architecture: the manifest's architecture name; it picks the default layer.
    ///   - input: 1×C×H×W or 1×C×D×H×W, as preprocessed (`InputSpec.tensor(from:name:)`).
    ///   - original: the scan as read, before preprocessing. The input was resized from it without cropping, so
    ///     maps are resized to its rows × cols (× depth) and drawn over its windowed picture.
    ///   - targets: output indices to explain (e.g. the positive findings).
    ///   - labels: one name per model output; file names derive from them.
    /// One forward pass serves every target (Grad-CAM family: one backward pass each, down to the layer only;
    /// occlusion: one sweep).
    public static func explain(model: any Model, architecture: String, input: Tensor, original: Volume,
                               targets: [Int], labels: [String],
                               settings: ExplainSettings = ExplainSettings()) throws(ExplainError) -> [ScanExplanation] {
        let grid = try originalGrid(original, spatialDims: model.spatialDims)
        let computed = try lowResolutionMaps(model: model, architecture: architecture, input: input, targets: targets,
                                             settings: settings)
        guard labels.count == computed.logits.count else { throw .labels(given: labels.count, model: computed.logits.count) }
        let resampling: MapResampling = grid.count == 3 ? settings.volumeResampling : .linear
        var names = Set<String>()
        var result: [ScanExplanation] = []
        for (target, low) in zip(targets, computed.maps) {
            let map = low.resized(to: grid, resampling: resampling)
            var peak: PeakLocation?
            if !map.isEmpty {
                let at = map.coordinates(of: map.peakIndex)
                peak = grid.count == 3 ? PeakLocation(column: at[2], row: at[1], slice: at[0]) : PeakLocation(column: at[1], row: at[0])
            }
            result.append(ScanExplanation(target: target, label: labels[target], logit: computed.logits[target],
                                          method: settings.method, layer: computed.layer, map: map, peak: peak,
                                          resampling: resampling, occlusion: computed.occlusion, images: []))
        }
        let drawn = result.indices.filter { !result[$0].isEmpty }
        guard settings.renderImages, !drawn.isEmpty else { return result }
        var stems: [String] = []
        for e in result {
            var stem = safeFileStem(e.label, target: e.target)
            if !names.insert(stem).inserted { stem += "-\(e.target)" }
            stems.append(stem)
        }
        // PNG encoding dominates: the targets are drawn in parallel over the pictures they share.
        let renderer = ExplanationRenderer(original: original, settings: settings)
        let rendered = ConcurrentResults<Result<[ExplanationImage], ExplainError>>(count: drawn.count)
        DispatchQueue.concurrentPerform(iterations: drawn.count) { k in
            let i = drawn[k]
            rendered.set(k, Result { () throws(ExplainError) in try renderer.images(map: result[i].map, stem: stems[i]) })
        }
        for (k, i) in drawn.enumerated() { result[i].images = try rendered.values[k]!.get() }
        return result
    }

    /// Final maps on the input's grid (what pytorch-grad-cam returns), or on `size` when given.
    public static func maps(model: any Model, architecture: String, input: Tensor, targets: [Int],
                            settings: ExplainSettings = ExplainSettings(), size: [Int]? = nil) throws(ExplainError) -> [ActivationMap] {
        let computed = try lowResolutionMaps(model: model, architecture: architecture, input: input, targets: targets,
                                             settings: settings)
        let grid = size ?? Array(input.shape.dropFirst(2))
        return computed.maps.map { $0.resized(to: grid, resampling: grid.count == 3 ? settings.volumeResampling : .linear) }
    }

    struct Computed {
        var logits: [Float]
        /// On the layer's grid (Grad-CAM family) or the input's (occlusion), normalised once.
        var maps: [ActivationMap]
        var layer: String?
        var occlusion: OcclusionRun?
    }

    static func lowResolutionMaps(model: any Model, architecture: String, input: Tensor, targets: [Int],
                                  settings: ExplainSettings) throws(ExplainError) -> Computed {
        guard input.shape.count == model.spatialDims + 2 else { throw .inputShape(found: input.shape, spatialDims: model.spatialDims) }
        guard input.shape[0] == 1 else { throw .batch(input.shape) }
        guard let cam = settings.method.cam else {
            let sweep = try Occlusion.sweep(model: model, input: input, targets: targets, settings: settings.occlusion)
            let record = OcclusionRun(window: sweep.window, stride: sweep.stride, baseline: settings.occlusion.baseline,
                                      passes: sweep.passes)
            return Computed(logits: sweep.logits, maps: sweep.maps.map { ActivationMap(raw: $0, shape: sweep.shape) },
                            layer: nil, occlusion: record)
        }
        let layer = settings.layer ?? ClassActivation.defaultLayer(forArchitecture: architecture)
        let pass = try GradientPass(model: model, input: input, layer: layer)
        var maps: [ActivationMap] = []
        for target in targets { maps.append(try pass.map(target: target, method: cam)) }
        return Computed(logits: pass.logits.value.scalars, maps: maps, layer: layer, occlusion: nil)
    }

    static func originalGrid(_ original: Volume, spatialDims: Int) throws(ExplainError) -> [Int] {
        let s = original.shape
        guard s.rows > 0, s.cols > 0, s.depth > 0 else { throw .original("it has no pixels (\(s))") }
        if spatialDims == 3 { return [s.depth, s.rows, s.cols] }
        guard s.depth == 1 else { throw .original("a 2D model explains one image, and this scan has \(s.depth) slices") }
        return [s.rows, s.cols]
    }

    /// Letters, digits, '-' and '_' (ASCII) from the label, other characters as '_'; "finding-K" if none is left.
    public static func safeFileStem(_ label: String, target: Int) -> String {
        let mapped = String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        let trimmed = mapped.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        return trimmed.isEmpty ? "finding-\(target)" : String(trimmed.prefix(80))
    }
}

/// One slot per iteration of a concurrent loop, written under a lock.
final class ConcurrentResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [T?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) {
        lock.lock(); defer { lock.unlock() }
        values[index] = value
    }
}
