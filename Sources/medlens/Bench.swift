import ArgumentParser
import Dispatch
import Foundation
import MedImaging

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure decoding speed: header parse + pixel decode + modality transform, per slice.")

    @Option(name: .long, help: "A DICOM file or folder to decode.") var decode: String
    @Option(name: .long, help: "Decode the inputs this many times; the median pass is reported.") var repeats = 5
    @Option(name: .long, help: "Name of the case in the JSON output.") var name = "decode"

    func run() throws {
        let url = URL(fileURLWithPath: decode)
        var passes: [Double] = []
        var slices = 0, bytes = 0
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = ScanReader.read(url)
            passes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            guard result.failures.isEmpty, !result.volumes.isEmpty else {
                throw ValidationError("cannot decode \(decode): \(result.failures.first?.message ?? "nothing read")")
            }
            slices = result.volumes.reduce(0) { $0 + $1.shape.depth }
            bytes = result.volumes.reduce(0) { $0 + $1.voxels.count * MemoryLayout<Float>.size }
        }
        let median = passes.sorted()[passes.count / 2]
        let report: [String: Any] = [
            "case": name, "slices": slices, "ms_per_slice": median / Double(slices),
            "mb_per_s": Double(bytes) / 1e6 / (median / 1e3), "passes": passes.count,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
