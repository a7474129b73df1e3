import ArgumentParser

@main
struct MedLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medlens",
        abstract: "MedLens administration and one-shot tools: read scans, export and render them.",
        subcommands: [Inspect.self, Export.self, Render.self, RunModel.self, Explain.self, ExplainQA.self, Bench.self, DaemonBench.self,
                      Classify.self, Quarantine.self, Status.self, Backends.self])
}
