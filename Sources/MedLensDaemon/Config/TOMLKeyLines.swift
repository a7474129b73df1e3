import Foundation

/// Maps key paths (`intake.settle_seconds`, `inbox[1].path`) to the line that defines them.
/// TOMLKit reports positions only for syntax errors, so validation messages get their lines from this scan
/// of the (already parsed, hence well-formed) text.
struct TOMLKeyLines {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table = ""
        var arrayCounts: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let number = index + 1
            if line.hasPrefix("[["), let end = line.range(of: "]]") {
                let name = Self.unquote(String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]))
                let n = arrayCounts[name, default: 0]
                arrayCounts[name] = n + 1
                table = "\(name)[\(n)]"
                record(table, number)
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                table = Self.unquote(String(line[line.index(after: line.startIndex)..<end]))
                record(table, number)
            } else if !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                let key = Self.unquote(String(line[..<eq]))
                guard !key.isEmpty else { continue }
                record(table.isEmpty ? key : "\(table).\(key)", number)
            }
        }
    }

    func line(of keyPath: String) -> Int? { lines[keyPath] }

    private mutating func record(_ path: String, _ line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    private static func unquote(_ key: String) -> String {
        key.split(separator: ".").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }.joined(separator: ".")
    }
}
