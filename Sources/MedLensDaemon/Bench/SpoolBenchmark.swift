import Foundation
import Glibc
import MedEngine
import MedImaging

/// `medlens bench-daemon`: the real medlensd on a temporary spool with full-size seeded models (ResNet-18 at
/// 224×224 for chest radiographs, a 3D ResNet-18 at 64³ for series), measuring what a user waits for: from the
/// moment a file is complete in the inbox (renamed in) to the moment its findings.json appears, with the
/// stages the findings report, and the throughput of a burst of distinct images.
public struct SpoolBenchmark {
    public struct Options {
        public var daemon: URL
        public var radiograph: URL
        public var series: URL
        public var repeats = 5
        public var burst = 24
        public var settleSeconds = 0.5
        public var quietSeconds = 2.0
        public var threads = 0
        public init(daemon: URL, radiograph: URL, series: URL) { self.daemon = daemon; self.radiograph = radiograph; self.series = series }
    }

    public struct Case: Codable {
        public var name: String
        public var images: Int
        /// close-write → findings.json, milliseconds: median, min, max over the repeats.
        public var latencyMs: [Double]
        /// Median milliseconds per stage as the findings report them (queue, read, preprocess, inference).
        public var stagesMs: [String: Double]
        /// What the configuration makes the daemon wait (settle, and the quiet period of a series without a count).
        public var configuredWaitMs: Double
    }

    public struct Report: Codable {
        public var cases: [Case]
        public var burstImages: Int
        public var burstSeconds: Double
        public var imagesPerSecond: Double
        public var settleSeconds: Double
        public var quietSeconds: Double
    }

    let options: Options
    let root: URL
    public init(_ options: Options) {
        self.options = options
        root = FileManager.default.temporaryDirectory.appendingPathComponent("medlens-bench-\(UUID().uuidString)")
    }

    public func run(progress: (String) -> Void) throws -> Report {
        defer { try? FileManager.default.removeItem(at: root) }
        progress("models: ResNet-18 (224x224, 14 labels), 3D ResNet-18 (64^3, 3 labels)")
        let store = root.appendingPathComponent("models")
        try publish(name: "chest-bench", arch: "resnet18", input: InputSpec(size: [224, 224], channels: 3, channelPolicy: .greyToRGB,
                    intensity: IntensityPipeline([.percentileClip(lower: 0.5, upper: 99.5), .minMax,
                                                  .normalize(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])])),
                    labels: 14, into: store)
        try publish(name: "volume-bench", arch: "resnet18_3d", input: InputSpec(size: [64, 64, 64], channels: 1,
                    intensity: IntensityPipeline([.zScore(perChannel: false)])), labels: 3, into: store)
        let spool = root.appendingPathComponent("spool")
        let config = root.appendingPathComponent("medlens.toml")
        try """
            [spool]
            outbox = "/o"
            quarantine = "/q"
            archive = "/a"
            state = "/s"

            [[inbox]]
            name = "default"
            path = "/i"

            [intake]
            settle_seconds = \(options.settleSeconds)

            [series]
            quiet_seconds = \(options.quietSeconds)

            [models]
            store = "\(store.path)"

            [engine]
            threads = \(options.threads)

            [[route]]
            name = "chest"
            modalities = ["CR", "DX"]
            max_depth = 1
            models = ["chest-bench"]

            [[route]]
            name = "volume"
            min_depth = 8
            models = ["volume-bench"]
            """.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = options.daemon
        process.arguments = ["--config", config.path, "--spool", spool.path]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() } }
        let inbox = spool.appendingPathComponent("inbox"), outbox = spool.appendingPathComponent("outbox")
        guard wait(30, { FileManager.default.fileExists(atPath: spool.appendingPathComponent("state/models.json").path) }) else {
            throw SpoolError("medlensd did not start")
        }
        usleep(500_000)

        let radiograph = try Data(contentsOf: options.radiograph)
        var crRuns: [(Double, [String: Double])] = []
        for index in 0..<(options.repeats + 1) {  // the first run warms caches and is not counted
            let copy = try Self.uniqueCopy(radiograph, index: index)
            let measured = try drop([("cr-\(index).dcm", copy)], into: inbox, outbox: outbox, expect: 1)
            if index > 0 { crRuns.append(measured) }
            progress("radiograph \(index): \(Int(measured.0)) ms")
        }
        let slices = try FileManager.default.contentsOfDirectory(atPath: options.series.path).sorted()
        var seriesRuns: [(Double, [String: Double])] = []
        for index in 0..<max(2, options.repeats / 2 + 1) {
            let files = try slices.enumerated().map { i, name in
                ("series-\(index)/\(i).dcm", try Self.uniqueCopy(Data(contentsOf: options.series.appendingPathComponent(name)), index: index + 1000, sop: false))
            }
            let measured = try drop(files, into: inbox, outbox: outbox, expect: 1)
            if index > 0 { seriesRuns.append(measured) }
            progress("series \(index): \(Int(measured.0)) ms")
        }
        // A burst of distinct radiographs at once: images per second through the whole spool.
        let burst = try (0..<options.burst).map { ("burst-\($0).dcm", try Self.uniqueCopy(radiograph, index: 5000 + $0)) }
        let started = Date()
        _ = try drop(burst, into: inbox, outbox: outbox, expect: options.burst, timeout: 900)
        let seconds = Date().timeIntervalSince(started)
        progress("burst: \(options.burst) radiographs in \(String(format: "%.1f", seconds)) s")
        return Report(cases: [summary("cr-\(Self.dims(options.radiograph))", 1, crRuns, wait: options.settleSeconds * 1000),
                              summary("series-\(slices.count)-slices", slices.count, seriesRuns,
                                      wait: (options.settleSeconds + options.quietSeconds) * 1000)],
                      burstImages: options.burst, burstSeconds: seconds, imagesPerSecond: Double(options.burst) / seconds,
                      settleSeconds: options.settleSeconds, quietSeconds: options.quietSeconds)
    }

    private func publish(name: String, arch: String, input: InputSpec, labels: Int, into store: URL) throws {
        let model = try ModelZoo.make(arch: arch, inChannels: input.channels, labels: labels, seed: 7)
        let manifest = ModelManifest(name: name, version: "1", architecture: .init(name: arch), input: input,
                                     labels: (0..<labels).map { "label\($0)" }, provenance: ["made_by": "medlens bench-daemon (seeded)"])
        let staging = root.appendingPathComponent("staging-\(name)")
        try ModelPackage(manifest: manifest, model: model).write(to: staging)
        try ModelStore(root: store).publish(packageAt: staging)
    }

    /// Writes each file under a hidden name and renames it in (that instant is "close-write"), then waits for
    /// `expect` new findings.json files. Returns the latency from the last rename and the stages of the last one.
    private func drop(_ files: [(String, Data)], into inbox: URL, outbox: URL, expect: Int, timeout: Double = 300) throws
        -> (Double, [String: Double]) {
        let before = Set(findings(in: outbox))
        var last = DispatchTime.now().uptimeNanoseconds
        for (name, data) in files {
            let target = inbox.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let hidden = target.deletingLastPathComponent().appendingPathComponent(".incoming-\(UUID().uuidString)")
            try data.write(to: hidden)
            try FileManager.default.moveItem(at: hidden, to: target)
            last = DispatchTime.now().uptimeNanoseconds
        }
        var fresh: [String] = []
        guard wait(timeout, {
            fresh = findings(in: outbox).filter { !before.contains($0) }
            return fresh.count >= expect
        }) else { throw SpoolError("no findings.json within \(timeout) s") }
        let latency = Double(DispatchTime.now().uptimeNanoseconds - last) / 1e6
        let stages = fresh.last.flatMap { FileManager.default.contents(atPath: outbox.appendingPathComponent($0).path) }
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["timings"] as? [String: Double] ?? [:]
        return (latency, stages)
    }

    private func findings(in outbox: URL) -> [String] {
        let walker = FileManager.default.enumerator(atPath: outbox.path)
        var found: [String] = []
        while let name = walker?.nextObject() as? String {
            if name.hasSuffix("/findings.json") && !name.hasPrefix(".") { found.append(name) }
        }
        return found
    }

    private func summary(_ name: String, _ images: Int, _ runs: [(Double, [String: Double])], wait: Double) -> Case {
        let latencies = runs.map(\.0).sorted()
        let stageNames = Set(runs.flatMap { $0.1.keys })
        let stages = Dictionary(uniqueKeysWithValues: stageNames.map { stage in
            (stage, runs.compactMap { $0.1[stage] }.sorted()[runs.count / 2])
        })
        return Case(name: name, images: images, latencyMs: [latencies[latencies.count / 2], latencies.first ?? 0, latencies.last ?? 0],
                    stagesMs: stages, configuredWaitMs: wait)
    }

    private func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    static func dims(_ url: URL) -> String {
        guard let header = try? DicomReader.header(at: url), let p = header.pixels else { return "image" }
        return "\(p.cols)x\(p.rows)"
    }

    /// A copy with its own SOP Instance and Series Instance UIDs (the last digits replaced, same length), so that
    /// each copy is a new image of a new series rather than a resend of the same one.
    /// Slices of a series keep their SOP Instance UIDs (`sop: false`): only the series is new.
    static func uniqueCopy(_ data: Data, index: Int, sop: Bool = true) throws -> Data {
        var bytes = [UInt8](data)
        let tags: [[UInt8]] = (sop ? [[0x08, 0x00, 0x18, 0x00]] : []) + [[0x20, 0x00, 0x0E, 0x00]]
        for tag in tags {
            guard let at = find(tag + [0x55, 0x49], in: bytes) else { throw SpoolError("no explicit-VR UID \(tag) to vary") }
            let length = Int(bytes[at + 6]) | Int(bytes[at + 7]) << 8
            var value = Array(bytes[(at + 8)..<(at + 8 + length)])
            while value.last == 0 || value.last == 0x20 { value.removeLast() }
            let digits = Array(String(format: "%06d", index % 1_000_000).utf8)
            // The tail of the UID's longest component (so it keeps a non-zero first digit).
            var best = (start: 0, count: 0), start = 0
            for (i, byte) in (value + [UInt8(ascii: ".")]).enumerated() where byte == UInt8(ascii: ".") {
                if i - start > best.count { best = (start, i - start) }
                start = i + 1
            }
            guard best.count > digits.count else { throw SpoolError("UID too short to vary") }
            for (i, d) in digits.enumerated() { bytes[at + 8 + best.start + best.count - digits.count + i] = d }
        }
        return Data(bytes)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
