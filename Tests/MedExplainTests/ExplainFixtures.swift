import Foundation
import MedEngine
import NumPyFormat
@testable import MedExplain

/// fixtures/explain (tools/explain/make_parity_fixtures.py), found relative to this source file.
enum ExplainFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = root.appendingPathComponent("fixtures/explain")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func npy(_ name: String) throws -> NPYArray { try NPYArray.read(from: url(name)) }

    struct Case {
        var name: String
        var architecture: String
        var width: Int
        var input: [Int]
        var labels: Int
        var layer: String
        var gradCAMEmpty: [Bool]
        var occlusionWindow: [Int]
        var occlusionStride: [Int]
    }

    static let metadata: [String: Any] = {
        let data = try! Data(contentsOf: url("cases.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static let cases: [Case] = {
        let all = metadata["cases"] as! [String: [String: Any]]
        return all.keys.sorted().map { name in
            let c = all[name]!
            return Case(name: name, architecture: c["architecture"] as! String, width: c["width"] as! Int,
                        input: c["input"] as! [Int], labels: c["labels"] as! Int, layer: c["layer"] as! String,
                        gradCAMEmpty: c["gradcam_empty"] as! [Bool], occlusionWindow: c["occlusion_window"] as! [Int],
                        occlusionStride: c["occlusion_stride"] as! [Int])
        }
    }()

    /// The case's model with the PyTorch weights loaded, and its input.
    static func model(_ c: Case) throws -> (any Model, Tensor) {
        let model = try ModelZoo.make(arch: c.architecture, inChannels: c.input[1], labels: c.labels, width: c.width)
        try model.load(try SafeTensors.read(from: url("\(c.name).weights.safetensors")).tensors)
        return (model, try npy("\(c.name).input.npy").tensor)
    }

    /// Row `i` of a targets × … array.
    static func row(_ a: NPYArray, _ i: Int) -> [Float] {
        let per = a.data.count / a.shape[0]
        return Array(a.data[(i * per)..<((i + 1) * per)])
    }
}

/// The parity gate's statistics between our map and a reference.
struct MapComparison: CustomStringConvertible {
    var maxAbs: Float
    var meanAbs: Float
    var pearson: Double
    var sameArgmax: Bool

    /// - Parameter cell: the size of one cell of the layer's grid in map pixels, per axis: an argmax elsewhere counts
    ///   as the same when the reference ties there (within 1e-5 of its maximum) and it lies within one cell.
    init(_ ours: [Float], _ reference: [Float], shape: [Int], cell: [Double]) {
        precondition(ours.count == reference.count)
        var worst: Float = 0, total = 0.0
        for (a, b) in zip(ours, reference) { worst = max(worst, abs(a - b)); total += Double(abs(a - b)) }
        maxAbs = worst
        meanAbs = Float(total / Double(ours.count))
        pearson = MapSimilarity.pearson(ours.map(Double.init), reference.map(Double.init)) ?? (ours == reference ? 1 : 0)
        let mine = Self.argmax(ours), theirs = Self.argmax(reference)
        let grid = ActivationMap(raw: reference, shape: shape)
        let near = zip(zip(grid.coordinates(of: mine), grid.coordinates(of: theirs)), cell).allSatisfy { Double(abs($0.0 - $0.1)) <= $1 }
        sameArgmax = mine == theirs || (reference[mine] >= reference[theirs] - 1e-5 && near)
    }

    static func argmax(_ v: [Float]) -> Int { ActivationMap(raw: v, shape: [v.count]).peakIndex }

    var passesGate: Bool { maxAbs <= 1e-3 && meanAbs <= 1e-4 && pearson >= 0.9999 && sameArgmax }

    var description: String {
        String(format: "max abs %.2e, mean abs %.2e, Pearson %.8f, argmax %@", maxAbs, meanAbs, pearson, sameArgmax ? "same" : "DIFFERENT")
    }
}
