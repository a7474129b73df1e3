/// Why a label table could not be used. Rows count as a spreadsheet does: the header is row 1.
public enum LabelTableError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformedCSV(path: String, reason: String)
    case missingColumn(String, available: [String])
    case unknownValue(row: Int, column: String, value: String)
    case emptyCell(row: Int, column: String)
    case duplicateImage(row: Int, image: String, firstRow: Int)
    case noLabels

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read label table \(path): \(reason)"
        case let .malformedCSV(path, reason): return "label table \(path) is not valid CSV: \(reason)"
        case let .missingColumn(name, available):
            return "label table has no column \"\(name)\" (columns: \(available.map { "\"\($0)\"" }.joined(separator: ", ")))"
        case let .unknownValue(row, column, value): return "row \(row), column \"\(column)\": unknown value \"\(value)\""
        case let .emptyCell(row, column): return "row \(row), column \"\(column)\": empty"
        case let .duplicateImage(row, image, firstRow): return "row \(row): image \"\(image)\" already listed in row \(firstRow)"
        case .noLabels: return "label table spec names no labels"
        }
    }
}
