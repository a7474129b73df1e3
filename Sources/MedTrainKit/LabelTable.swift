import CSV
import Foundation

/// One image's row of a label table: labels and mask hold one value per label name (mask 0: uncertain, ignored).
public struct LabelEntry: Sendable, Equatable {
    public var image: String
    public var patient: String
    public var labels: [Float]
    public var mask: [Float]
    /// Spreadsheet row number (header = 1), for messages.
    public var row: Int
}

/// A label table read with a `LabelTableSpec`: one entry per image, in the table's order.
public struct LabelTable: Sendable {
    public var labelNames: [String]
    public var entries: [LabelEntry]

    public static func read(_ url: URL, spec: LabelTableSpec) throws(LabelTableError) -> LabelTable {
        // Read whole, then parsed from the string: CSV.swift's InputStream path fails on Linux Foundation
        // (cannotReadFile), and even NIH's full table (112k rows) is only 8 MB.
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(csv: text, spec: spec, path: url.path)
    }

    /// `path` only names the table in messages.
    public static func parse(csv text: String, spec: LabelTableSpec, path: String = "<text>") throws(LabelTableError) -> LabelTable {
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw .malformedCSV(path: path, reason: "\(error)")
        }
        return try parse(reader, spec: spec, path: path)
    }

    private static func parse(_ reader: CSVReader, spec: LabelTableSpec, path: String) throws(LabelTableError) -> LabelTable {
        let header = reader.headerRow ?? []
        func column(_ name: String) throws(LabelTableError) -> Int {
            guard let index = header.firstIndex(of: name) else { throw .missingColumn(name, available: header) }
            return index
        }
        let imageColumn = try column(spec.imageColumn)
        let patientColumn = try spec.patientColumn.map { name throws(LabelTableError) in try column(name) }
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        if let error = reader.error { throw .malformedCSV(path: path, reason: "\(error)") }

        let decoder: RowLabelDecoder
        switch spec.labels {
        case let .columns(names: names):
            guard !names.isEmpty else { throw .noLabels }
            var indices: [Int] = []
            for name in names { indices.append(try column(name)) }
            decoder = .columns(names: names, indices: indices)
        case let .delimited(name, separator, labels, noFinding):
            let index = try column(name)
            let names = labels ?? Self.discoverNames(rows.map { $0.count > index ? $0[index] : "" }, separator: separator, noFinding: noFinding)
            guard !names.isEmpty else { throw .noLabels }
            decoder = .delimited(column: name, index: index, separator: separator, names: names, noFinding: noFinding)
        }

        var entries: [LabelEntry] = []
        var firstRow: [String: Int] = [:]
        for (offset, fields) in rows.enumerated() {
            let row = offset + 2
            func cell(_ index: Int, _ name: String) throws(LabelTableError) -> String {
                let value = index < fields.count ? fields[index].trimmingCharacters(in: .whitespaces) : ""
                guard !value.isEmpty else { throw .emptyCell(row: row, column: name) }
                return value
            }
            let image = try cell(imageColumn, spec.imageColumn)
            if let first = firstRow[image] { throw .duplicateImage(row: row, image: image, firstRow: first) }
            firstRow[image] = row
            let patient = try patientColumn.map { index throws(LabelTableError) in try cell(index, spec.patientColumn ?? "") } ?? image
            let raw = try decoder.decode(fields, row: row)
            var labels = [Float](repeating: 0, count: raw.count), mask = [Float](repeating: 1, count: raw.count)
            for (i, value) in raw.enumerated() {
                switch (value, spec.uncertain) {
                case let (.some(known), _): labels[i] = known ? 1 : 0
                case (nil, .mask): mask[i] = 0
                case (nil, .zeros): labels[i] = 0
                case (nil, .ones): labels[i] = 1
                }
            }
            entries.append(LabelEntry(image: image, patient: patient, labels: labels, mask: mask, row: row))
        }
        return LabelTable(labelNames: decoder.names, entries: entries)
    }

    private static func discoverNames(_ cells: [String], separator: String, noFinding: String?) -> [String] {
        let names = cells.flatMap { $0.components(separatedBy: separator) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != noFinding }
        return Array(Set(names)).sorted()
    }
}

/// Turns one row's label cells into true/false/uncertain (nil) per label.
private enum RowLabelDecoder {
    case columns(names: [String], indices: [Int])
    case delimited(column: String, index: Int, separator: String, names: [String], noFinding: String?)

    var names: [String] {
        switch self {
        case let .columns(names, _), let .delimited(_, _, _, names, _): return names
        }
    }

    func decode(_ fields: [String], row: Int) throws(LabelTableError) -> [Bool?] {
        func field(_ index: Int) -> String { index < fields.count ? fields[index].trimmingCharacters(in: .whitespaces) : "" }
        switch self {
        case let .columns(names, indices):
            var values: [Bool?] = []
            for (name, index) in zip(names, indices) {
                switch field(index) {
                case "1", "1.0": values.append(true)
                case "0", "0.0": values.append(false)
                case "", "-1", "-1.0": values.append(nil)
                case let other: throw .unknownValue(row: row, column: name, value: other)
                }
            }
            return values
        case let .delimited(column, index, separator, names, noFinding):
            let text = field(index)
            if text.isEmpty { return names.map { _ in nil } }
            if text == noFinding { return names.map { _ in false } }
            var values = names.map { _ -> Bool? in false }
            for finding in text.components(separatedBy: separator).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let position = names.firstIndex(of: finding) else {
                    throw .unknownValue(row: row, column: column, value: finding)
                }
                values[position] = true
            }
            return values
        }
    }
}
