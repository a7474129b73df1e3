import ArgumentParser
import Foundation
import MedImaging

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a scan as PNG: the middle slice, and for volumes also an en-face projection (OUT-enface.png).")

    @OptionGroup var input: InputOptions
    @Option(name: .long, help: "Output .png file. With several volumes, -1, -2, ... is added before the extension.") var out: String
    @Option(name: .long, help: "Projection for volumes: mean or max.") var projection: VolumeRender.Projection = .mean

    func run() throws {
        let volumes = try input.readVolumes()
        for (i, volume) in volumes.enumerated() {
            let slice = try outputURL(out, index: i, of: volumes.count, defaultExtension: "png")
            try PNGWriter.write(VolumeRender.middleSlice(of: volume), to: slice)
            print(slice.path)
            if volume.shape.depth > 1 {
                let enFace = try outputURL(out, index: i, of: volumes.count, suffix: "-enface", defaultExtension: "png")
                try PNGWriter.write(VolumeRender.projection(of: volume, projection), to: enFace)
                print(enFace.path)
            }
        }
    }
}

extension VolumeRender.Projection: ExpressibleByArgument {}
