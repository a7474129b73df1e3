import Foundation
import MedImaging
import NumPyFormat
import Testing

/// Compares our resampling with PyTorch's F.interpolate outputs written by tools/imaging/make_resample_refs.py.
@Suite struct ResampleTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var mode: String
        var size: [Int]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        struct Cases: Decodable { var cases: [Case] }
        guard let data = try? Data(contentsOf: Fixtures.url("imaging/cases.json")),
              let decoded = try? JSONDecoder().decode(Cases.self, from: data) else { return [] }
        return decoded.cases
    }()

    @Test func referenceCasesArePresent() {
        #expect(Self.cases.count == 8)
        #expect(Set(Self.cases.map(\.mode)) == ["bilinear", "area", "trilinear"])
    }

    @Test(arguments: cases)
    func matchesPyTorchInterpolate(_ reference: Case) throws {
        let input = Fixtures.volume(try Fixtures.npy("imaging/\(reference.name)_input.npy"))
        let expected = try Fixtures.npy("imaging/\(reference.name)_expected.npy")
        let mode = try #require(InterpolationMode(rawValue: reference.mode))
        let output = reference.size.count == 3
            ? input.resized(depth: reference.size[0], rows: reference.size[1], cols: reference.size[2], mode: mode)
            : input.resized(rows: reference.size[0], cols: reference.size[1], mode: mode)
        #expect(output.shape.array == expected.shape)
        #expect(Fixtures.maxDifference(output.voxels, expected.data) < 1e-5)
    }

    @Test func resizingKeepsTheFieldOfView() {
        var volume = Volume(voxels: [Float](repeating: 1, count: 4 * 10 * 20), shape: Volume.Shape(depth: 4, rows: 10, cols: 20))
        volume.geometry.spacing = [0.5, 0.25, 2]
        let out = volume.resized(depth: 8, rows: 5, cols: 40, mode: .trilinear)
        #expect(out.geometry.spacing == [0.25, 0.5, 1])
        #expect(out.voxels.allSatisfy { abs($0 - 1) < 1e-6 })
    }

    @Test func degenerateInputsDoNotTrap() {
        let empty = Volume(voxels: [], shape: Volume.Shape(rows: 0, cols: 0))
        #expect(empty.resized(rows: 3, cols: 2, mode: .bilinear).voxels == [0, 0, 0, 0, 0, 0])
        var unknown = Volume(voxels: [1, 2, 3, 4], shape: Volume.Shape(rows: 2, cols: 2))
        unknown.geometry.spacing = [0, .nan, 1]  // no PixelSpacing: sizes stay as they are
        #expect(unknown.resampled(toSpacing: [0.5, 0.5, 1], mode: .bilinear).shape == unknown.shape)
    }

    @Test func resamplesToSpacing() throws {
        let scan = try SpectralisVolReader().read(Fixtures.url("oct/test_volume.vol"))
        // 50 A-scans at 0.011819 mm -> 0.02 mm gives round(29.5475) = 30 columns; 40 rows at 0.003872 -> 0.004 mm gives 39.
        let out = scan.bscans.resampled(toSpacing: [0.02, 0.004, 0.0314], mode: .area)
        #expect(out.shape == Volume.Shape(channels: 1, depth: 10, rows: 39, cols: 30))
        let three = scan.bscans.resampled(toSpacing: [0.02, 0.004, 0.0157], mode: .trilinear)
        #expect(three.shape.depth == 20)
        // Area averaging preserves the mean closely; it must stay within the input's range.
        let inMean = scan.bscans.voxels.reduce(0, +) / Float(scan.bscans.voxels.count)
        let outMean = out.voxels.reduce(0, +) / Float(out.voxels.count)
        #expect(abs(inMean - outMean) < 2)
        #expect(out.voxels.allSatisfy { (0...254).contains($0) })
    }
}
