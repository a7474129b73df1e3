import ArgumentParser
import Foundation
import MedLensDaemon

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The spool's queue depth, jobs by state and latest quarantine reasons (JSON on stdout).")

    @OptionGroup var spool: SpoolOptions

    @Option(help: "How many of the latest quarantine reasons to show.")
    var lastErrors = 10

    func run() throws {
        let admin = try spool.admin()
        do {
            try printJSON(try admin.status(lastErrors: lastErrors))
        } catch let error as SpoolError {
            fail("\(error)", status: 1)
        }
    }
}
