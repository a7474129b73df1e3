import ArgumentParser
import Foundation
import MedImaging

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a file or folder and print, as JSON, what was read or why it could not be.")

    @OptionGroup var input: InputOptions

    func run() throws {
        let result = input.read()
        print(ScanSummary(result).json())
        if result.volumes.isEmpty { throw ExitCode(2) }
    }
}
