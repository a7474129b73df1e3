import ArgumentParser
import Foundation
import MedLensDaemon

struct Quarantine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show and replay the daemon's quarantined inputs (JSON on stdout).",
        subcommands: [List.self, Show.self, Replay.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every quarantine record (error.json), newest first.")

        @OptionGroup var spool: SpoolOptions

        func run() throws {
            let admin = try spool.admin()
            do {
                try printJSON(try admin.quarantineList())
            } catch let error as SpoolError {
                fail("\(error)", status: 1)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job's quarantine record (its error.json).")

        @OptionGroup var spool: SpoolOptions

        @Argument(help: "The job id (a folder name under quarantine/).")
        var job: String

        func run() throws {
            let admin = try spool.admin()
            do {
                try printJSON(try admin.quarantineShow(job))
            } catch let error as SpoolError {
                fail("\(error)", status: 1)
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a quarantined input back to its inbox as replay-<job>-<name>, for a fresh job.",
            discussion: "The quarantine record moves to state/replayed/<job>/. Prints the job and the inbox path.")

        @OptionGroup var spool: SpoolOptions

        @Argument(help: "The job id (a folder name under quarantine/).")
        var job: String

        struct Replayed: Encodable {
            var job: String
            var replayedTo: String
        }

        func run() throws {
            let admin = try spool.admin()
            do {
                try printJSON(Replayed(job: job, replayedTo: try admin.quarantineReplay(job)))
            } catch let error as SpoolError {
                fail("\(error)", status: 1)
            }
        }
    }
}
