import Foundation
import MedImaging
import Testing
@testable import MedLensCore

struct RouterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures")

    static func volume(_ path: String) throws -> Volume {
        try #require(ScanReader.read(fixtures.appendingPathComponent(path)).volumes.first)
    }

    static let router = Router(rules: [
        RoutingRule(name: "chest", modalities: ["CR", "DX"], channels: 1, models: ["chest-pneumonia", "chest-nih14"]),
        RoutingRule(name: "oct", kinds: ["oct-vol", "bscan-folder"], models: ["oct-kermany"]),
        RoutingRule(name: "volumes", minDepth: 8, models: ["volume-3d"]),
        RoutingRule(name: "ultrasound", modalities: ["US"], hold: true),
    ], fallback: ["fundus-odir"])

    @Test func firstMatchingRuleWins() throws {
        #expect(Self.router.route(try Self.volume("dicom/fo-dicom/CR-MONO1-10-chest"))
                == .run(models: ["chest-pneumonia", "chest-nih14"], rule: "chest"))
        #expect(Self.router.route(try Self.volume("oct/Willis_B_716_0.vol")) == .run(models: ["oct-kermany"], rule: "oct"))
        #expect(Self.router.route(try Self.volume("dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag"))
                == .run(models: ["volume-3d"], rule: "volumes"))
    }

    @Test func holdAndFallback() throws {
        let photo = try Self.volume("photo/1410_left.jpg")
        #expect(Self.router.route(photo) == .run(models: ["fundus-odir"], rule: "fallback"))
        let usRule = Router(rules: [RoutingRule(name: "rgb", channels: 3, hold: true)])
        #expect(usRule.route(photo) == .hold(rule: "rgb"))
        #expect(Router(rules: []).route(photo) == .hold(rule: "fallback"))
    }

    @Test func decodesConfigurationKeysAndValidates() throws {
        let json = #"{"rules":[{"name":"a","modalities":["CR"],"min_depth":4,"max_depth":2,"models":["m"],"hold":true},{"name":"a"}],"fallback":[]}"#
        let router = try JSONDecoder().decode(Router.self, from: Data(json.utf8))
        #expect(router.rules[0].minDepth == 4)
        #expect(router.validationErrors() == [
            "rule a: give either models or hold = true",
            "rule a: min_depth 4 exceeds max_depth 2",
            "rule a: the name is used twice",
            "rule a: give either models or hold = true",
        ])
    }
}
