import Foundation
import MedImaging
import Testing

@Suite struct OCTAndPhotoReaderTests {
    /// Every OCT and photo fixture is recognised and either decodes or fails with a reason code.
    @Test func everyFixtureDecodesOrGivesAReason() throws {
        var outcomes: [String: String] = [:]
        for folder in ["oct", "oct/heyex_xml", "photo", "photo/png"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.url(folder).path) {
                let url = Fixtures.url("\(folder)/\(name)")
                guard let kind = OCTAndPhotoReader.kind(of: url) else { continue }
                do {
                    let volumes = try OCTAndPhotoReader.volumes(at: url, kind: kind)
                    outcomes["\(folder)/\(name)"] = volumes.map(\.metadata.kind).joined(separator: "+")
                } catch {
                    outcomes["\(folder)/\(name)"] = error.reason.rawValue
                }
            }
        }
        #expect(outcomes["oct/Willis_B_716_0.vol"] == "oct-vol+oct-vol-slo")
        #expect(outcomes["oct/test_volume.vol"] == "oct-vol+oct-vol-slo")
        #expect(outcomes["oct/invalid.vol"] == "empty")
        #expect(outcomes["oct/heyex_xml/B7.tif"] == "tiff")
        #expect(outcomes["photo/1681_left.jpg"] == "jpeg" && outcomes["photo/DME-9603124-1.jpeg"] == "jpeg")
        #expect(outcomes["photo/png/rgb16.png"] == "png")
        #expect(outcomes["photo/png/truncated.png"] == "decode_failed" && outcomes["photo/png/bad_crc.png"] == "decode_failed")
        // 3 .vol + 12 TIFF + 3 JPEG + 7 PNG; the XML, .npy and .md files are not ours.
        #expect(outcomes.count == 25)
        #expect(OCTAndPhotoReader.kind(of: Fixtures.url("oct/heyex_xml/test_dummy.xml")) == nil)
        #expect(OCTAndPhotoReader.kind(of: Fixtures.url("imaging/cases.json")) == nil)
    }
}
