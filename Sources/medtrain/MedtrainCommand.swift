import ArgumentParser

@main
struct Main: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medtrain",
        abstract: "Train, import and publish MedLens model packages.",
        subcommands: [ImportTorch.self])
}
