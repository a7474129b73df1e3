/// Where a label table keeps its image names, patient ids and labels. Codable, so a training config file holds it:
/// `{"imageColumn": "Image Index", "patientColumn": "Patient ID", "uncertain": "mask",
///   "labels": {"delimited": {"column": "Finding Labels", "separator": "|", "noFinding": "No Finding"}}}`.
public struct LabelTableSpec: Codable, Sendable, Equatable {
    public enum Labels: Codable, Sendable, Equatable {
        /// One column per label holding 1, 0, or blank/-1 for uncertain (ODIR's N..O, CheXpert's findings).
        case columns(names: [String])
        /// One column of label names joined by `separator` (NIH's `Finding Labels`). `labels` fixes the order and
        /// the allowed names; nil takes every name found, sorted. `noFinding` means all labels negative; a blank
        /// cell means all uncertain.
        case delimited(column: String, separator: String, labels: [String]?, noFinding: String?)
    }

    public var imageColumn: String
    /// nil: every image is its own patient.
    public var patientColumn: String?
    public var labels: Labels
    public var uncertain: UncertainLabelPolicy

    public init(imageColumn: String, patientColumn: String?, labels: Labels, uncertain: UncertainLabelPolicy = .mask) {
        self.imageColumn = imageColumn
        self.patientColumn = patientColumn
        self.labels = labels
        self.uncertain = uncertain
    }

    /// NIH ChestX-ray14's `Data_Entry_2017*.csv`.
    public static let nihChestXray14 = LabelTableSpec(
        imageColumn: "Image Index", patientColumn: "Patient ID",
        labels: .delimited(column: "Finding Labels", separator: "|", labels: nihFindings, noFinding: "No Finding"))

    /// ODIR-5K's `full_df.csv`: one row per image (`filename`); the labels are per patient (`ID`).
    public static let odir5k = LabelTableSpec(
        imageColumn: "filename", patientColumn: "ID", labels: .columns(names: ["N", "D", "G", "C", "A", "H", "M", "O"]))

    public static let nihFindings = [
        "Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Effusion", "Emphysema", "Fibrosis", "Hernia",
        "Infiltration", "Mass", "Nodule", "Pleural_Thickening", "Pneumonia", "Pneumothorax",
    ]
}

/// What an uncertain label (blank or -1) becomes: CheXpert's U-Ignore, U-Zeros and U-Ones.
public enum UncertainLabelPolicy: String, Codable, Sendable, CaseIterable {
    /// Excluded from the loss and the metrics: mask 0.
    case mask
    case zeros
    case ones
}
