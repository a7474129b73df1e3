import ArgumentParser
import Foundation
import MedImaging
import NumPyFormat

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the decoded Float32 voxels (after the modality LUT, before VOI) as NumPy .npy, shape (C, D, H, W).")

    @Argument(help: "A scan file or a folder of them.") var path: String
    @Option(name: .long, help: "Output .npy file. With several volumes, -1, -2, ... is added before the extension.") var out: String

    func run() throws {
        let result = ScanReader.read(URL(fileURLWithPath: path))
        for failure in result.failures {
            FileHandle.standardError.write(Data("\(failure.path): \(failure.reason.rawValue): \(failure.message)\n".utf8))
        }
        guard !result.volumes.isEmpty else { throw ExitCode(2) }
        for (i, volume) in result.volumes.enumerated() {
            let url = result.volumes.count == 1 ? URL(fileURLWithPath: out) : numbered(URL(fileURLWithPath: out), i + 1)
            try NPYArray(shape: volume.shape.array, data: volume.voxels).write(to: url)
            print(url.path)
        }
    }

    private func numbered(_ url: URL, _ n: Int) -> URL {
        let base = url.deletingPathExtension()
        let ext = url.pathExtension.isEmpty ? "npy" : url.pathExtension
        return base.deletingLastPathComponent().appendingPathComponent("\(base.lastPathComponent)-\(n).\(ext)")
    }
}
