import ArgumentParser
import Foundation
import MedTrainKit

/// Where the samples come from: the same flags for train, evaluate and publish.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A data spec (.json), a MedMNIST .npz, a label table (.csv, with --images), or a folder of class folders.",
        discussion: "A .npz is read through its <split>_images and <split>_labels keys; other sources are split by patient."))
    var data: String?
    @Option(help: "The images a .csv table names (default: the table's folder).") var images: String?
    @Option(help: "A known table layout: nih14 (NIH ChestX-ray14, Finding Labels) or odir8 (ODIR-5K, columns N..O).") var preset: String?
    @Option(help: "The table's image column.") var imageColumn: String?
    @Option(help: "The table's patient column (default: every image its own patient).") var patientColumn: String?
    @Option(help: "Label columns holding 1/0 (blank or -1: uncertain), comma-separated.") var labelColumns: String?
    @Option(help: "One column of label names joined by --separator (NIH's 'Finding Labels').") var labelColumn: String?
    @Option(help: "Separator of --label-column.") var separator = "|"
    @Option(help: "The --label-column value meaning no label is positive.") var noFinding: String?
    @Option(help: "Label names, comma-separated: the order of --label-column's labels, or names for a .npz's classes (evaluate, publish: the package's labels).")
    var classNames: String?
    @Option(help: "Uncertain labels: mask (left out), zeros or ones.") var uncertain: String?
    @Option(help: "Table rows whose image is missing: fail or skip.") var missing = "fail"
    @Option(help: "Class folders: the patient id is field INDEX of the file name split at SEP, as SEP:INDEX (Kermany: -:1).")
    var patientField: String?
    @Option(help: "Train, validation and test fractions of a patient split, e.g. 0.7,0.15,0.15.") var splitFractions: String?
    @Option(help: "Seed of the patient split.") var splitSeed: UInt64?

    var given: Bool { data != nil }

    /// The spec the flags describe, over `base` (a config's data) for the split settings; paths are made absolute.
    /// `labels` names a `.npz`'s outputs when `--class-names` does not (a package's own labels).
    func spec(over base: DataSpec?, labels: [String]? = nil) throws -> DataSpec? {
        guard var spec = try source(labels: labels).map({ DataSpec(source: $0.source, validation: $0.validation, test: $0.test, split: base?.split ?? SplitSettings()) }) ?? base
        else { return nil }
        if let splitFractions {
            let values = splitFractions.split(separator: ",").compactMap { Double($0) }
            guard values.count == 3 || values.count == 2, values.allSatisfy({ $0 >= 0 }), values.reduce(0, +) > 0 else {
                throw ValidationError("--split-fractions \(splitFractions) is not TRAIN,VALIDATION[,TEST]")
            }
            spec.split.fractions = SplitFractions(train: values[0], validation: values[1], test: values.count == 3 ? values[2] : 0)
        }
        if let splitSeed { spec.split.seed = splitSeed }
        return spec
    }

    private func source(labels: [String]?) throws -> DataSpec? {
        guard let data else { return nil }
        let url = URL(fileURLWithPath: data).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw ValidationError("--data \(data) does not exist") }
        let names = classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if isDirectory.boolValue {
            var rule = PatientIDRule.fileName
            if let patientField {
                let parts = patientField.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let index = Int(parts[1]), !parts[0].isEmpty else { throw ValidationError("--patient-field \(patientField) is not SEP:INDEX") }
                rule = .field(separator: String(parts[0]), index: index)
            }
            return DataSpec(source: .classFolders(root: url.path, patients: rule))
        }
        switch url.pathExtension.lowercased() {
        case "npz":
            let outputs = names ?? labels
            return DataSpec(source: .medMNIST(npz: url.path, split: "train", labelNames: outputs, classCount: outputs?.count))
        case "json":
            let bytes: Data
            do { bytes = try Data(contentsOf: url) } catch { throw ValidationError("cannot read \(data): \(error.localizedDescription)") }
            let folder = url.deletingLastPathComponent()
            if let spec = try? JSONDecoder().decode(DataSpec.self, from: bytes) { return spec.absolute(relativeTo: folder) }
            do { return DataSpec(source: try JSONDecoder().decode(DataSource.self, from: bytes)).absolute(relativeTo: folder) } catch {
                throw ValidationError("\(data) is neither a data spec ({\"source\": ...}) nor a data source: \(error)")
            }
        case "csv":
            let imagesFolder = images.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? url.deletingLastPathComponent().path
            guard let policy = LabelledDataset.MissingImagePolicy(rawValue: missing) else { throw ValidationError("--missing is fail or skip") }
            return DataSpec(source: .imageFolder(images: imagesFolder, table: url.path, spec: try tableSpec(names: names), missing: policy))
        default:
            throw ValidationError("--data \(data): expected a .json spec, a .npz, a .csv table or a folder")
        }
    }

    private func tableSpec(names: [String]?) throws -> LabelTableSpec {
        var spec: LabelTableSpec
        switch preset {
        case "nih14": spec = .nihChestXray14
        case "odir8": spec = .odir5k
        case nil:
            guard let imageColumn else { throw ValidationError("a .csv table needs --image-column (or --preset nih14|odir8)") }
            let labels: LabelTableSpec.Labels
            if let labelColumns {
                labels = .columns(names: labelColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            } else if let labelColumn {
                labels = .delimited(column: labelColumn, separator: separator, labels: names, noFinding: noFinding)
            } else {
                throw ValidationError("a .csv table needs --label-columns A,B,... or --label-column COLUMN")
            }
            spec = LabelTableSpec(imageColumn: imageColumn, patientColumn: patientColumn, labels: labels)
        case let other?:
            throw ValidationError("unknown --preset \(other) (nih14 or odir8)")
        }
        if preset != nil {
            if let imageColumn { spec.imageColumn = imageColumn }
            if let patientColumn { spec.patientColumn = patientColumn }
        }
        if let uncertain {
            guard let policy = UncertainLabelPolicy(rawValue: uncertain) else { throw ValidationError("--uncertain is mask, zeros or ones") }
            spec.uncertain = policy
        }
        return spec
    }
}

/// The preprocessing cache: --cache, else $MEDTRAIN_CACHE, else systemd's $CACHE_DIRECTORY, else ~/.cache/medtrain.
struct CacheOptions: ParsableArguments {
    @Option(help: "Folder of cached preprocessed arrays (default: $MEDTRAIN_CACHE, $CACHE_DIRECTORY or ~/.cache/medtrain).")
    var cache: String?
    @Flag(help: "Keep no preprocessed arrays on disk.") var noCache = false

    var root: URL? {
        if noCache { return nil }
        let environment = ProcessInfo.processInfo.environment
        if let path = cache ?? environment["MEDTRAIN_CACHE"] ?? environment["CACHE_DIRECTORY"] { return URL(fileURLWithPath: path) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/medtrain")
    }
}

/// Writes a line to standard error.
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Runs a command's work; a training or data error becomes its message on standard error and exit status 1.
func reportingFailures<T>(_ command: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as TrainingError {
        note("medtrain \(command): \(error)")
        throw ExitCode.failure
    } catch let error as DatasetError {
        note("medtrain \(command): \(error)")
        throw ExitCode.failure
    }
}
