import Foundation
import MedImaging
import NumPyFormat

extension LabelledDataset {
    /// One split of a MedMNIST `.npz` (`<split>_images`, `<split>_labels`), held in memory.
    ///
    /// Images are `(n, H, W)` grey, `(n, H, W, 3)` RGB, or `(n, D, H, W)` volumes (MedMNIST3D, always cubic).
    /// Labels `(n, 1)` are binary when they hold only 0 and 1 and `classCount` is not above 2, otherwise class
    /// indices made one-hot; labels `(n, L)` with L > 1 are multi-label (ChestMNIST). A binary set has one output,
    /// named "1" (the positive class) unless named.
    public static func medMNIST(npz url: URL, split: String, labelNames: [String]? = nil,
                                classCount: Int? = nil) throws(DatasetError) -> LabelledDataset {
        let archive = try NPZArchive(url: url)
        let images = try archive.array("\(split)_images"), labels = try archive.array("\(split)_labels")
        func fail(_ reason: String) -> DatasetError { .npz(path: url.path, reason: reason) }
        guard let count = images.shape.first, images.shape.count >= 3, labels.shape.first == count else {
            throw fail("\(split)_images \(images.shape) and \(split)_labels \(labels.shape) do not match")
        }
        let shape: Volume.Shape
        let dims = Array(images.shape.dropFirst())
        let isRGB = dims.count == 3 && dims[2] == 3 && !(dims[0] == dims[1] && dims[1] == dims[2])
        switch dims.count {
        case 2: shape = Volume.Shape(rows: dims[0], cols: dims[1])
        case 3 where isRGB: shape = Volume.Shape(channels: 3, rows: dims[0], cols: dims[1])
        case 3: shape = Volume.Shape(depth: dims[0], rows: dims[1], cols: dims[2])
        default: throw fail("\(split)_images has unsupported shape \(images.shape)")
        }

        let width = labels.shape.count > 1 ? labels.shape.dropFirst().reduce(1, *) : 1
        let maxLabel = Int(labels.data.max() ?? 0)
        let task: LabelTask = width > 1 ? .multiLabel : (maxLabel <= 1 && (classCount ?? 2) <= 2) ? .binary : .multiClass
        let outputs = task == .multiClass ? max(classCount ?? 0, maxLabel + 1) : width
        let names = labelNames ?? (task == .binary ? ["1"] : (0..<outputs).map(String.init))
        guard names.count == outputs else { throw fail("\(names.count) label names for \(outputs) outputs") }

        var samples: [Sample] = []
        samples.reserveCapacity(count)
        let block = shape.count
        for index in 0..<count {
            var voxels = Array(images.data[(index * block)..<((index + 1) * block)])
            if isRGB { voxels = Self.planar(interleaved: voxels, channels: 3) }
            let row = Array(labels.data[(index * width)..<((index + 1) * width)])
            var target = row
            if task == .multiClass {
                target = [Float](repeating: 0, count: outputs)
                target[Int(row[0])] = 1
            }
            let volume = Volume(voxels: voxels, shape: shape)
            samples.append(Sample(source: .memory(volume), patient: "\(split)-\(index)", labels: target))
        }
        return LabelledDataset(labelNames: names, task: task, samples: samples)
    }

    /// HWC to CHW.
    static func planar(interleaved: [Float], channels: Int) -> [Float] {
        let pixels = interleaved.count / channels
        var out = [Float](repeating: 0, count: interleaved.count)
        for pixel in 0..<pixels {
            for channel in 0..<channels { out[channel * pixels + pixel] = interleaved[pixel * channels + channel] }
        }
        return out
    }
}
