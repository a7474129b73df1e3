import MedEngine
/// Shares of the samples for training, validation and test.
public struct SplitFractions: Codable, Sendable, Equatable {
    public var train: Double
    public var validation: Double
    public var test: Double

    public init(train: Double, validation: Double, test: Double = 0) {
        precondition(train >= 0 && validation >= 0 && test >= 0 && train + validation + test > 0, "fractions must be non-negative")
        let total = train + validation + test
        self.train = train / total
        self.validation = validation / total
        self.test = test / total
    }

    var all: [Double] { [train, validation, test] }
}

/// Sample indices per split, and what each split holds.
public struct PatientSplit: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]
    public var report: SplitReport

    /// Iterative stratification (Sechidis, Tsoumakas & Vlahavas, 2011) over patients, not images: every image of a
    /// patient goes to the same split. Labels are dealt out rarest first (fewest positives among unplaced patients,
    /// ties to the label rarest overall); each patient carrying the current label goes to the split that still wants
    /// most of it, then to the one with the greatest remaining demand for all of the patient's positives (each label
    /// weighted by its rarity), then the one wanting most samples, then a seeded choice. Patients without any
    /// positive label fill the splits by wanted sample count.
    public init(_ dataset: LabelledDataset, fractions: SplitFractions, seed: UInt64) {
        var byPatient: [String: [Int]] = [:]
        var order: [String] = []
        for (index, sample) in dataset.samples.enumerated() {
            if byPatient[sample.patient] == nil { order.append(sample.patient) }
            byPatient[sample.patient, default: []].append(index)
        }
        var rng = SeededRandom(seed: seed)
        order.shuffle(using: &rng)
        let labelCount = dataset.labelNames.count
        let patientPositives: [[Int]] = order.map { patient in
            var counts = [Int](repeating: 0, count: labelCount)
            for index in byPatient[patient]! {
                let s = dataset.samples[index]
                for label in 0..<labelCount where s.mask[label] > 0 && s.labels[label] > 0 { counts[label] += 1 }
            }
            return counts
        }
        let fractions = fractions.all
        var wantedSamples = fractions.map { $0 * Double(dataset.samples.count) }
        let totals = (0..<labelCount).map { label in patientPositives.reduce(0) { $0 + $1[label] } }
        var wantedLabels = fractions.map { f in totals.map { f * Double($0) } }
        var assignment = [Int?](repeating: nil, count: order.count)

        func assign(_ patient: Int, to split: Int) {
            assignment[patient] = split
            wantedSamples[split] -= Double(byPatient[order[patient]]!.count)
            for label in 0..<labelCount { wantedLabels[split][label] -= Double(patientPositives[patient][label]) }
        }
        // How much a split still wants this patient's positives, each label weighted by its rarity, so that a
        // patient carrying a rare label and a common one is placed for the rare one too.
        func demand(_ split: Int, _ patient: Int) -> Double {
            var sum = 0.0
            for label in 0..<labelCount where patientPositives[patient][label] > 0 {
                sum += Double(patientPositives[patient][label]) * wantedLabels[split][label] / Double(totals[label])
            }
            return sum
        }
        func best(_ keys: (Int) -> [Double]) -> Int {
            // Highest key wins; exact ties are broken by the seeded generator.
            let candidates = fractions.indices.filter { fractions[$0] > 0 }
            let top = candidates.map(keys).max { $0.lexicographicallyPrecedes($1) }!
            let tied = candidates.filter { keys($0) == top }
            return tied[Int(rng.next() % UInt64(tied.count))]
        }

        while true {
            var remaining = [Int](repeating: 0, count: labelCount)
            for patient in order.indices where assignment[patient] == nil {
                for label in 0..<labelCount { remaining[label] += patientPositives[patient][label] }
            }
            guard let label = (0..<labelCount).filter({ remaining[$0] > 0 })
                .min(by: { (remaining[$0], totals[$0]) < (remaining[$1], totals[$1]) }) else { break }
            for patient in order.indices where assignment[patient] == nil && patientPositives[patient][label] > 0 {
                assign(patient, to: best { split in [wantedLabels[split][label], demand(split, patient), wantedSamples[split]] })
            }
        }
        for patient in order.indices where assignment[patient] == nil {
            assign(patient, to: best { [wantedSamples[$0]] })
        }

        var splits: [[Int]] = [[], [], []]
        for (patient, split) in assignment.enumerated() { splits[split!] += byPatient[order[patient]]! }
        splits = splits.map { $0.sorted() }
        train = splits[0]
        validation = splits[1]
        test = splits[2]
        report = SplitReport(dataset: dataset, splits: splits)
    }
}

/// Per split: samples, patients and positives per label (unmasked only).
public struct SplitReport: Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Part: Codable, Sendable, Equatable {
        public var name: String
        public var samples: Int
        public var patients: Int
        public var positives: [Int]
    }

    public var labelNames: [String]
    public var parts: [Part]

    init(dataset: LabelledDataset, splits: [[Int]]) {
        labelNames = dataset.labelNames
        parts = zip(["train", "validation", "test"], splits).map { name, indices in
            Part(name: name, samples: indices.count, patients: Set(indices.map { dataset.samples[$0].patient }).count,
                 positives: dataset.positiveCounts(indices))
        }
    }

    /// A plain-text table: one row per label, one column per split.
    public var description: String {
        let width = max(10, (labelNames.map(\.count).max() ?? 0) + 2)
        func pad(_ text: String) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        var lines = [pad("") + parts.map { pad($0.name) }.joined()]
        lines.append(pad("samples") + parts.map { pad(String($0.samples)) }.joined())
        lines.append(pad("patients") + parts.map { pad(String($0.patients)) }.joined())
        for (label, name) in labelNames.enumerated() {
            lines.append(pad(name) + parts.map { pad(String($0.positives[label])) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
