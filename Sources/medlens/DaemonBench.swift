import ArgumentParser
import Foundation
import MedLensDaemon

struct DaemonBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-daemon",
        abstract: "Start medlensd on a temporary spool with full-size seeded models and measure close-write → findings.json latency per stage, and images/s.")

    @Option(help: "A radiograph (DICOM CR/DX).") var radiograph: String
    @Option(help: "A folder with one DICOM series (copied in file by file).") var series: String
    @Option(help: "Measured radiographs (after one warm-up).") var repeats = 5
    @Option(help: "Distinct radiographs dropped at once for the throughput figure.") var burst = 24
    @Option(help: "intake.settle_seconds for the run.") var settle = 0.5
    @Option(help: "series.quiet_seconds for the run.") var quiet = 2.0
    @Option(help: "CPU threads (0: all cores).") var threads = 0

    func run() throws {
        let daemon = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("medlensd")
        var options = SpoolBenchmark.Options(daemon: daemon, radiograph: URL(fileURLWithPath: radiograph), series: URL(fileURLWithPath: series))
        options.repeats = repeats; options.burst = burst; options.settleSeconds = settle; options.quietSeconds = quiet; options.threads = threads
        let report = try SpoolBenchmark(options).run { FileHandle.standardError.write(Data(("bench-daemon: " + $0 + "\n").utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
