import ArgumentParser
import Foundation
import MedImaging

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a file or folder and print, as JSON, what was read or why it could not be.")

    @Argument(help: "A scan file or a folder of them.") var path: String

    func run() throws {
        let result = ScanReader.read(URL(fileURLWithPath: path))
        print(ScanSummary(result).json())
        if result.volumes.isEmpty { throw ExitCode(2) }
    }
}
