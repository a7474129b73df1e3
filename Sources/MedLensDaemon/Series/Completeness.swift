import Foundation
import MedLensCore

/// Judges whether a series has all its images, from what the members' headers say: a multi-frame object holds
/// all its frames; ImagesInAcquisition announces the count; NumberOfTemporalPositions times the slice positions
/// seen gives one after the quiet period; slice positions show gaps. Without a count, the quiet period decides.
enum Completeness {
    struct Verdict: Codable, Equatable {
        var completeness: InputDescription.Completeness
        var evidence: CompletenessEvidence
    }

    /// Nil while the series should wait for more images.
    /// - Parameter singleImageModalities: projection modalities (CR, DX, ...) whose images stand alone: they are
    ///   processed on arrival, not after the quiet period.
    static func judge(_ probes: [InputProbe], quietFor quiet: Double, quietSeconds: Double, single: Bool,
                      singleImageModalities: Set<String> = []) -> Verdict? {
        let distinct = Dictionary(probes.map { ($0.sopUID ?? UUID().uuidString, $0) }, uniquingKeysWith: { a, _ in a }).values
        let received = distinct.count
        if single {
            let frames = probes.first?.frames ?? 1
            return Verdict(completeness: frames > 1 ? .complete : .single,
                           evidence: CompletenessEvidence(source: frames > 1 ? "NumberOfFrames" : nil, expected: frames > 1 ? frames : nil,
                                                          received: frames > 1 ? frames : 1))
        }
        if distinct.allSatisfy({ $0.frames == 1 && singleImageModalities.contains(($0.modality ?? "").uppercased()) }) {
            return Verdict(completeness: received == 1 ? .single : .complete,
                           evidence: CompletenessEvidence(source: "Modality", expected: received, received: received))
        }
        let gaps = positionGaps(distinct.compactMap(\.position))
        if distinct.allSatisfy({ $0.frames > 1 }) {
            let frames = distinct.reduce(0) { $0 + $1.frames }
            return Verdict(completeness: .complete, evidence: CompletenessEvidence(source: "NumberOfFrames", expected: frames, received: frames))
        }
        if let expected = distinct.compactMap(\.imagesInAcquisition).max(), expected > 0 {
            if received >= expected {
                return Verdict(completeness: .complete,
                               evidence: CompletenessEvidence(source: "ImagesInAcquisition", expected: expected, received: received, gaps: gaps))
            }
            guard quiet >= quietSeconds else { return nil }
            return Verdict(completeness: .partial, evidence: CompletenessEvidence(source: "ImagesInAcquisition", expected: expected,
                                                                                  received: received, quietSeconds: quiet, gaps: gaps))
        }
        guard quiet >= quietSeconds else { return nil }
        if let temporal = distinct.compactMap(\.temporalPositions).max(), temporal > 1 {
            let positions = Set(distinct.compactMap { $0.position.map { ($0 * 1000).rounded() } }).count
            let expected = positions * temporal
            return Verdict(completeness: received >= expected && gaps == 0 ? .complete : .partial,
                           evidence: CompletenessEvidence(source: "NumberOfTemporalPositions", expected: expected, received: received,
                                                          quietSeconds: quiet, gaps: gaps))
        }
        return Verdict(completeness: (gaps ?? 0) > 0 ? .partial : .quietPeriod,
                       evidence: CompletenessEvidence(source: nil, expected: nil, received: received, quietSeconds: quiet, gaps: gaps))
    }

    /// Steps between neighbouring distinct slice positions larger than 1.5 × the median step; nil without positions.
    static func positionGaps(_ positions: [Double]) -> Int? {
        let sorted = Array(Set(positions.map { ($0 * 1000).rounded() / 1000 })).sorted()
        guard sorted.count >= 3 else { return sorted.isEmpty ? nil : 0 }
        let steps = zip(sorted.dropFirst(), sorted).map { $0 - $1 }
        let median = steps.sorted()[steps.count / 2]
        return steps.filter { $0 > 1.5 * median }.count
    }
}
