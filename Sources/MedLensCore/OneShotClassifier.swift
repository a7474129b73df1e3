import Foundation
import MedImaging

/// `medlens classify`: the daemon's pipeline run once over files or folders given by hand, without a spool.
public struct OneShotClassifier {
    public var analyzer: ScanAnalyzer
    /// Routing rules, or nil when one model was asked for.
    public var router: Router?
    public var forced: LoadedModel?
    public var models: (String) -> LoadedModel?

    public init(analyzer: ScanAnalyzer, router: Router?, forced: LoadedModel?, models: @escaping (String) -> LoadedModel?) {
        self.analyzer = analyzer; self.router = router; self.forced = forced; self.models = models
    }

    public struct Outcome {
        public var documents: [(document: FindingsDocument, overlays: [(name: String, contents: Data)])] = []
        public var failures: [InputFailure] = []
        /// Volumes no model ran on: held by a rule, or routed to models that are not available.
        public var notRun: [String] = []
    }

    public func classify(_ url: URL, bscanFolder: Bool = false, limits: IntakeLimits = .default) -> Outcome {
        var outcome = Outcome()
        let started = ScanAnalyzer.now()
        let scan = ScanReader.read(url, limits: limits, bscanFolder: bscanFolder)
        let readMs = ScanAnalyzer.milliseconds(since: started)
        outcome.failures = scan.failures
        for volume in scan.volumes {
            let files = max(1, volume.metadata.sopInstanceUIDs.count)
            let context = AnalysisContext(jobID: "classify-" + UUID().uuidString.prefix(8).lowercased(), files: files,
                                          completeness: files == 1 && volume.shape.depth == 1 ? .single : .asGiven,
                                          timings: ["read": readMs])
            let decision: Router.Decision
            if let forced { decision = .run(models: [forced.name], rule: "model") } else {
                decision = (router ?? Router(rules: [])).route(volume)
            }
            let provider: (String) -> LoadedModel? = { name in forced.flatMap { $0.name == name ? $0 : nil } ?? models(name) }
            switch analyzer.analyse(volume, decision: decision, models: provider, context: context) {
            case let .findings(document, overlays): outcome.documents.append((document, overlays))
            case .held(let rule): outcome.notRun.append("\(url.lastPathComponent): \(volume.metadata.kind) volume held by rule \(rule)")
            case let .unavailable(names, rule):
                outcome.notRun.append("\(url.lastPathComponent): rule \(rule) routes to \(names.joined(separator: ", ")), none of which is available")
            }
        }
        return outcome
    }
}
