import ArgumentParser
import Foundation
import MedEngine
import MedTrainKit

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a package into a model store unless it regresses against the current version.",
        discussion: """
        Verifies the package (sha256, self-test), scores it and the store's current version on the same validation \
        samples (--data, else the validation part the package was trained with), and refuses when it is worse by \
        more than --tolerance (exit status 3) unless --force; otherwise copies it in and flips `current`. Prints the \
        decision as JSON.
        """)

    @Argument(help: "The model package folder.") var package: String
    @Option(help: "The model store (models/<name>/<version>/ + current).") var store: String
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "The part of --data both models are compared on: train, val or test.") var split = "val"
    @Option(help: "map (mean average precision) or auroc (mean AUROC).") var metric = "map"
    @Option(help: "How much lower than the champion's the candidate's score may be.") var tolerance = 0.01
    @Flag(help: "Publish even if it regresses.") var force = false
    @OptionGroup var cacheOptions: CacheOptions

    func run() throws {
        guard let chosen = PublishMetric(rawValue: metric) else { throw ValidationError("--metric is map or auroc") }
        guard let part = DataPart(argument: split) else { throw ValidationError("--split is train, val or test") }
        let publisher = Publisher(store: ModelStore(root: URL(fileURLWithPath: store)), metric: chosen, tolerance: tolerance, force: force,
                                  cacheRoot: cacheOptions.root)
        try reportingFailures("publish") {
            var validation: LabelledDataset?
            // The candidate's labels name a .npz's outputs (its manifest only; publishing verifies the package).
            let labels = (try? JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: URL(fileURLWithPath: package).appendingPathComponent("model.json"))))?.labels
            if let spec = try dataOptions.spec(over: nil, labels: labels) {
                guard let chosenPart = try spec.load(relativeTo: URL(fileURLWithPath: "/"))[part] else {
                    throw TrainingError.data("--data has no \(part.rawValue) part")
                }
                validation = chosenPart
            }
            let decision = try publisher.publish(URL(fileURLWithPath: package), validation: validation)
            print(String(decoding: try JSONEncoder.report.encode(decision), as: UTF8.self))
            note(decision.message)
            if decision.outcome == .refused { throw ExitCode(3) }
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make current the version that was served before the current one.")

    @Argument(help: "The model name.") var name: String
    @Option(help: "The model store.") var store: String

    func run() throws {
        let modelStore = ModelStore(root: URL(fileURLWithPath: store))
        let before = modelStore.currentVersion(of: name)
        do {
            let now = try modelStore.rollback(name)
            print("\(name): current is \(now) (was \(before ?? "none"))")
        } catch {
            note("medtrain rollback: \(error)")
            throw ExitCode.failure
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models of a store, their versions and the current one.")

    @Option(help: "The model store.") var store: String
    @Flag(help: "Print JSON.") var json = false

    struct Row: Codable {
        var name: String
        var current: String?
        var versions: [String]
        var labels: [String]?
        var validationMAP: Double?
        var validationMeanAUROC: Double?
        var history: [ModelStore.Event]
    }

    func run() throws {
        let modelStore = ModelStore(root: URL(fileURLWithPath: store))
        let rows = modelStore.list().map { entry -> Row in
            // The manifest only (no weights): listing must not load every model.
            let manifest = entry.current.flatMap { version in
                try? JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: modelStore.directory(name: entry.name, version: version)
                                                                            .appendingPathComponent("model.json")))
            }
            return Row(name: entry.name, current: entry.current, versions: entry.versions, labels: manifest?.labels,
                       validationMAP: manifest?.metrics["validation.mAP"], validationMeanAUROC: manifest?.metrics["validation.mean_auroc"],
                       history: modelStore.history(of: entry.name))
        }
        if json {
            print(String(decoding: try JSONEncoder.report.encode(rows), as: UTF8.self))
            return
        }
        for row in rows {
            let scores = [row.validationMAP.map { "val mAP \(Train.format($0))" }, row.validationMeanAUROC.map { "mean AUROC \(Train.format($0))" }]
                .compactMap { $0 }.joined(separator: ", ")
            print("\(row.name)  current \(row.current ?? "-")  versions \(row.versions.joined(separator: ", "))\(scores.isEmpty ? "" : "  (\(scores))")")
        }
    }
}
