import ArgumentParser
import Foundation
import MedImaging
import NumPyFormat

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the decoded Float32 voxels (after the modality LUT, before VOI) as NumPy .npy, shape (C, D, H, W).")

    @OptionGroup var input: InputOptions
    @Option(name: .long, help: "Output .npy file. With several volumes, -1, -2, ... is added before the extension.") var out: String

    func run() throws {
        let volumes = try input.readVolumes()
        for (i, volume) in volumes.enumerated() {
            let url = try outputURL(out, index: i, of: volumes.count, defaultExtension: "npy")
            try NPYArray(shape: volume.shape.array, data: volume.voxels).write(to: url)
            print(url.path)
        }
    }
}
