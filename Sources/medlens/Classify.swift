import ArgumentParser
import Foundation
import MedEngine
import MedImaging
import MedLensCore
import MedLensDaemon

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon's model pipeline once on files or folders and print the findings (a JSON array, one document per series or volume).",
        discussion: """
            Without --model, scans are routed as the configuration's [[route]] rules say, to models in its store \
            (--models overrides the store). --model takes a model name in the store, or a package folder.
            """)

    @Argument(help: "Scan files (DICOM, Spectralis .vol, PNG, JPEG, TIFF) or folders (a folder of DICOM files is read as series).")
    var paths: [String]

    @Option(help: "A model in the store, or a model package folder: run it on every scan instead of routing.")
    var model: String?

    @Option(help: "The daemon configuration: routing rules, model store, [pipeline] settings.")
    var config: String = "/etc/medlens/medlens.toml"

    @Option(help: "The model store (models/<name>/<version>/ with a current link each), over the configuration's.")
    var models: String?

    @Flag(help: "Explain every finding (Grad-CAM), not only what the configuration's [pipeline] explain says.")
    var explain = false

    @Option(help: "Also write each result as OUT/<StudyUID>/<SeriesUID>/findings.json with its overlays.")
    var out: String?

    @Flag(name: .long, help: "Read each folder as one OCT volume of B-scan images in name order.")
    var bscanFolder = false

    @Option(help: "CPU threads (default: all cores).")
    var threads: Int?

    @Option(help: "auto, cpu or cuda (default: the configuration's engine.backend, else auto).")
    var backend: String?

    func run() throws {
        if let threads { CPUBackend.setThreads(threads) }
        let daemonConfig: DaemonConfig? = FileManager.default.fileExists(atPath: config) || model == nil
            ? loadConfig() : nil
        Engine.backend = try selectBackend(backend ?? daemonConfig?.backend.rawValue ?? BackendPreference.auto.rawValue)
        var settings = daemonConfig?.pipeline ?? PipelineSettings()
        settings.patientKey = .omitted
        if explain { settings.explain = .all }
        let storePath = models ?? daemonConfig?.modelStore ?? "/var/lib/medlens/models"
        let store = ModelStore(root: URL(fileURLWithPath: storePath))
        let backendName = Engine.backend.name
        var cache: [String: LoadedModel] = [:]
        var refusals: [String] = []
        let provider: (String) -> LoadedModel? = { name in
            if let hit = cache[name] { return hit }
            do {
                let loaded = try LoadedModel.loadCurrent(name, store: store, backend: backendName)
                cache[name] = loaded
                return loaded
            } catch {
                refusals.append("\(name): \(error)")
                return nil
            }
        }
        var forced: LoadedModel?
        if let model {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: model + "/model.json", isDirectory: &isDirectory) {
                do { forced = try LoadedModel.load(directory: URL(fileURLWithPath: model), backend: backendName) } catch {
                    fail("cannot load model \(model): \(error)", status: 1)
                }
            } else {
                guard let loaded = provider(model) else { fail("no model \(model) in \(storePath): \(refusals.joined(separator: "; "))", status: 1) }
                forced = loaded
            }
        }
        let classifier = OneShotClassifier(analyzer: ScanAnalyzer(settings: settings, inference: DirectInference()),
                                           router: daemonConfig?.router, forced: forced, models: provider)
        var documents: [FindingsDocument] = []
        var failed = false
        for path in paths {
            let outcome = classifier.classify(URL(fileURLWithPath: path), bscanFolder: bscanFolder, limits: daemonConfig?.limits ?? .default)
            for failure in outcome.failures {
                FileHandle.standardError.write(Data("\(failure.path): \(failure.reason.rawValue): \(failure.message)\n".utf8))
            }
            for note in outcome.notRun { FileHandle.standardError.write(Data("\(note)\n".utf8)) }
            if outcome.documents.isEmpty { failed = true }
            for (document, overlays) in outcome.documents {
                documents.append(document)
                if let out { try write(document, overlays, under: out, index: documents.count - 1) }
            }
        }
        for refusal in Set(refusals) { FileHandle.standardError.write(Data("model unavailable: \(refusal)\n".utf8)) }
        try printJSON(documents)
        if failed { throw ExitCode(2) }
    }

    private func loadConfig() -> DaemonConfig {
        let loaded: DaemonConfig
        do { loaded = try ConfigLoader.load(file: config) } catch {
            fail("invalid configuration\n\(error)\n(give --model NAME|PKG to classify without one)", status: 78)
        }
        return models.map { loaded.placingModels(at: $0) } ?? loaded
    }

    /// OUT/<StudyUID>/<SeriesUID>/ (UIDs checked as the daemon checks them), or OUT/unassigned/<n>/.
    private func write(_ document: FindingsDocument, _ overlays: [(name: String, contents: Data)], under root: String, index: Int) throws {
        var folder = root + "/unassigned/\(index + 1)"
        if let study = DicomUID(document.study.studyInstanceUID), let series = DicomUID(document.study.seriesInstanceUID) {
            folder = root + "/\(study)/\(series)"
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, contents) in overlays { try contents.write(to: URL(fileURLWithPath: folder + "/" + name)) }
        try document.encoded().write(to: URL(fileURLWithPath: folder + "/findings.json"))
    }
}
