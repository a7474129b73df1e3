import Foundation
@testable import MedImaging
import Testing

/// Corrupted copies of the real fixtures must end in a volume or an IntakeError, never a crash: every reader is
/// fed byte flips, cuts and overwritten header fields from a fixed-seed generator.
@Suite struct MalformedInputTests {
    /// SplitMix64: a small deterministic generator, so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutations(of original: Data, count: Int, headerBytes: Int, seed: UInt64) -> [Data] {
        var generator = Generator(state: seed)
        return (0..<count).map { _ in
            var bytes = [UInt8](original)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:  // flip a few bytes, mostly in the header where the structure lives
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<min(headerBytes, bytes.count), using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            case 1:  // cut the file short
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &generator))
            default:  // a header word set to an extreme value
                let at = Int.random(in: 0..<(min(headerBytes, bytes.count) - 4), using: &generator)
                let word: UInt32 = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000].randomElement(using: &generator)!
                for b in 0..<4 { bytes[at + b] = UInt8(truncatingIfNeeded: word >> (8 * UInt32(b))) }
            }
            return Data(bytes)
        }
    }

    @Test func corruptedPhotosNeverCrash() throws {
        for file in ["photo/png/palette_trns.png", "photo/png/rgb16.png", "photo/DME-9603124-1.jpeg"] {
            for data in Self.mutations(of: try Data(contentsOf: Fixtures.url(file)), count: 150, headerBytes: 200, seed: 1) {
                _ = Fixtures.reason { try PhotoReader().read(data: data) }
            }
        }
    }

    @Test func corruptedVolFilesNeverCrash() throws {
        let original = try Data(contentsOf: Fixtures.url("oct/test_volume.vol"))
        // Header bytes: the file header, and the first B-scan header after the 50 x 50 SLO.
        var reasons: Set<IntakeError.Reason> = []
        for data in Self.mutations(of: original, count: 300, headerBytes: 2048 + 2500 + 64, seed: 2) {
            if let reason = Fixtures.reason({ try SpectralisVolReader().read(data: data) }) { reasons.insert(reason) }
        }
        #expect(reasons.contains(.truncated))
        #expect(reasons.isSubset(of: [.truncated, .invalidAttribute, .unsupportedFormat, .tooLarge, .empty]))
    }

    @Test func corruptedTIFFsNeverCrash() throws {
        let original = try Data(contentsOf: Fixtures.url("oct/heyex_xml/B3.tif"))
        for data in Self.mutations(of: original, count: 300, headerBytes: 256, seed: 3) {
            _ = Fixtures.reason { try TIFFDecoder.decode(data, limits: .default) }
        }
    }

    @Test func implausibleVolSizesAreInvalidAttributes() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.url("oct/test_volume.vol")))
        var zeroWidth = bytes
        zeroWidth[12..<16] = [0, 0, 0, 0]  // SizeX = 0
        #expect(Fixtures.reason { try SpectralisVolReader().read(data: Data(zeroWidth)) } == .invalidAttribute)
        bytes[24..<32] = [0, 0, 0, 0, 0, 0, 0xF8, 0x7F]  // ScaleX = NaN
        #expect(Fixtures.reason { try SpectralisVolReader().read(data: Data(bytes)) } == .invalidAttribute)
    }
}
