import MedEngine
import Testing
@testable import MedTrainKit

@Suite struct AugmentationTests {
    /// A 2-channel 5 x 5 ramp: value = 100 c + 10 row + col.
    static let shape = [2, 5, 5]
    static let ramp: [Float] = (0..<50).map { (i: Int) -> Float in
        let channel = i / 25, row = i % 25 / 5, col = i % 5
        return Float(channel * 100 + row * 10 + col)
    }

    @Test func identityAffineChangesNothing() {
        var values = Self.ramp
        Augment.affine(&values, shape: Self.shape, rotation: 0, scale: 1, translation: (0, 0))
        #expect(values == Self.ramp)
    }

    @Test func quarterTurnMovesPixelsExactly() {
        var values = Self.ramp
        Augment.affine(&values, shape: Self.shape, rotation: .pi / 2, scale: 1, translation: (0, 0))
        // Clockwise on screen: output (row r, col c) comes from input (row 4 - c, col r).
        for c in 0..<2 { for r in 0..<5 { for q in 0..<5 {
            #expect(values[c * 25 + r * 5 + q] == Self.ramp[c * 25 + (4 - q) * 5 + r])
        } } }
    }

    @Test func wholePixelShiftMovesAndFills() {
        var values = Self.ramp
        Augment.affine(&values, shape: Self.shape, rotation: 0, scale: 1, translation: (x: 2, y: -1), fill: -7)
        for r in 0..<5 { for q in 0..<5 {
            let (sr, sq) = (r + 1, q - 2)
            let expected: Float = sr < 5 && sq >= 0 ? Self.ramp[sr * 5 + sq] : -7
            #expect(values[r * 5 + q] == expected)
        } }
    }

    @Test func halfPixelShiftInterpolatesBilinearly() {
        var values = Self.ramp
        Augment.affine(&values, shape: Self.shape, rotation: 0, scale: 1, translation: (x: 0.5, y: 0))
        // Output column q reads input column q - 0.5: the mean of two neighbours on a ramp of slope 1.
        #expect(values[7] == 11.5 && values[24] == 43.5)
    }

    @Test func zoomAboutTheCentreKeepsTheCentre() {
        var values = Self.ramp
        Augment.affine(&values, shape: Self.shape, rotation: 0, scale: 2, translation: (0, 0))
        #expect(values[12] == Self.ramp[12])
        // Scale 2 reads input (2, 1.5) at output (2, 1): halfway between 21 and 22.
        #expect(values[11] == 21.5)
    }

    @Test func flipMirrorsColumnsAndTwiceIsIdentity() {
        var values = Self.ramp
        Augment.flipHorizontal(&values, shape: Self.shape)
        #expect(Array(values[0..<5]) == [4, 3, 2, 1, 0] && Array(values[25..<30]) == [104, 103, 102, 101, 100])
        Augment.flipHorizontal(&values, shape: Self.shape)
        #expect(values == Self.ramp)
    }

    @Test func jitterShiftsAndSpreadsAroundTheMean() {
        var values: [Float] = [1, 2, 3, 6]
        Augment.jitter(&values, brightness: 0.5, contrast: 2)
        // Mean 3: (x - 3) * 2 + 3 + 0.5.
        #expect(values == [-0.5, 1.5, 3.5, 9.5])
    }

    @Test func specIsSeededAndFlipsOnlyWhenAllowed() {
        let spec = AugmentationSpec(rotationDegrees: 15, minScale: 0.9, maxScale: 1.1, translation: 0.1, brightness: 0.1, contrast: 0.1)
        func run(_ spec: AugmentationSpec, seed: UInt64) -> [Float] {
            var values = Self.ramp, rng = SeededRandom(seed: seed)
            spec.apply(to: &values, shape: Self.shape, using: &rng)
            return values
        }
        #expect(run(spec, seed: 5) == run(spec, seed: 5))
        #expect(run(spec, seed: 5) != run(spec, seed: 6))
        #expect(run(.none, seed: 5) == Self.ramp)
        let flips = AugmentationSpec(horizontalFlip: true)
        var mirrored = Self.ramp
        Augment.flipHorizontal(&mirrored, shape: Self.shape)
        let outcomes = (0..<40).map { run(flips, seed: UInt64($0)) }
        #expect(outcomes.allSatisfy { $0 == Self.ramp || $0 == mirrored })
        #expect(outcomes.contains(Self.ramp) && outcomes.contains(mirrored))
        let noFlips = AugmentationSpec(horizontalFlip: false)
        #expect((0..<40).allSatisfy { run(noFlips, seed: UInt64($0)) == Self.ramp })
    }
}
