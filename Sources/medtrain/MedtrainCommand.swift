import ArgumentParser

@main
struct Main: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medtrain",
        abstract: "Train, evaluate, import and publish MedLens model packages.",
        subcommands: [Train.self, Evaluate.self, Publish.self, Rollback.self, List.self, ImportTorch.self, Bench.self])
}
