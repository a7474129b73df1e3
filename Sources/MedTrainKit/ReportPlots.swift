import Foundation

/// The PNG plots of a report: per label, its ROC curve (with the operating point of its threshold) beside its
/// precision-recall curve; and the training curves (losses, validation mAP and mean AUROC per epoch).
public enum ReportPlots {
    public struct Files: Sendable {
        /// Label name → file name, relative to the report's folder.
        public var validation: [String: String] = [:]
        public var test: [String: String] = [:]
        public var training = ""
    }

    /// Writes `<prefix>-<label>.png` for every label with both classes into `folder`; returns label → path
    /// relative to `relativeTo`.
    public static func curves(_ scored: ScoredLabels, evaluation: Evaluation, title: String, prefix: String, folder: URL,
                              relativeTo base: URL) throws(TrainingError) -> [String: String] {
        var files: [String: String] = [:]
        for (index, label) in evaluation.labels.enumerated() {
            let outcomes = scored.outcomes(label: index)
            guard outcomes.hasBothClasses else { continue }
            var canvas = Canvas(width: 900, height: 430)
            let roc = outcomes.rocCurve().map { (x: $0.fpr, y: $0.tpr) }
            var marker: (x: Double, y: Double)?
            if let threshold = label.threshold {
                let c = outcomes.confusion(at: threshold)
                marker = (1 - c.specificity, c.sensitivity)
            }
            let aurocText = label.auroc.map { String(format: "AUROC %.3f", $0) } ?? "AUROC -"
            let ci = label.aurocInterval.map { String(format: " (%.3f-%.3f)", $0.lower, $0.upper) } ?? ""
            Chart(title: "\(title) \(label.name): ROC", xLabel: "1 - specificity", yLabel: "sensitivity", xRange: 0...1, yRange: 0...1,
                  series: [.init(name: aurocText + ci, points: roc, color: Chart.palette[0], marker: marker)], diagonal: true)
                .draw(into: &canvas, x: 0, y: 0, width: 450, height: 430)
            let pr = outcomes.precisionRecallCurve()
            var points = pr.map { (x: $0.recall, y: $0.precision) }
            if let first = points.first { points.insert((x: 0, y: first.y), at: 0) }
            let prevalence = Double(outcomes.positiveCount) / Double(outcomes.scores.count)
            let apText = label.averagePrecision.map { String(format: "AP %.3f", $0) } ?? "AP -"
            Chart(title: "\(label.name): precision-recall", xLabel: "recall (sensitivity)", yLabel: "precision", xRange: 0...1, yRange: 0...1,
                  series: [.init(name: apText, points: points, color: Chart.palette[1], steps: true),
                           .init(name: String(format: "prevalence %.2f", prevalence), points: [(0, prevalence), (1, prevalence)], color: (150, 150, 150))])
                .draw(into: &canvas, x: 450, y: 0, width: 450, height: 430)
            let url = folder.appendingPathComponent("\(prefix)-\(fileName(label.name)).png")
            try write(canvas, to: url)
            files[label.name] = relative(url, to: base)
        }
        return files
    }

    /// Losses and validation scores per epoch; the kept (best) epoch is marked.
    public static func training(_ history: [EpochRecord], bestEpoch: Int, title: String, to url: URL) throws(TrainingError) {
        var canvas = Canvas(width: 900, height: 430)
        let epochs = history.map { Double($0.epoch) }
        let xRange = 1...max(2, epochs.last ?? 2)
        let losses = history.flatMap { [$0.trainLoss, $0.validationLoss] }.filter(\.isFinite)
        let top = max(losses.max() ?? 1, 1e-3) * 1.05
        let best = history.first { $0.epoch == bestEpoch }
        Chart(title: "\(title): loss", xLabel: "epoch", yLabel: "BCE loss", xRange: xRange, yRange: 0...top,
              series: [.init(name: "train (class-weighted)", points: history.map { (Double($0.epoch), $0.trainLoss) }, color: Chart.palette[0]),
                       .init(name: "validation", points: history.map { (Double($0.epoch), $0.validationLoss) }, color: Chart.palette[1],
                             marker: best.map { (Double($0.epoch), $0.validationLoss) })], legendAtBottom: false, integerX: true)
            .draw(into: &canvas, x: 0, y: 0, width: 450, height: 430)
        let maps = history.compactMap { r in r.validationMAP.map { (x: Double(r.epoch), y: $0) } }
        let aurocs = history.compactMap { r in r.validationMeanAUROC.map { (x: Double(r.epoch), y: $0) } }
        // From a round value below the lowest score, so that curves near 1 stay apart.
        let low = max(0, (((maps + aurocs).map(\.y).min() ?? 0.5) * 20 - 0.5).rounded(.down) / 20)
        Chart(title: "validation", xLabel: "epoch", yLabel: "score", xRange: xRange, yRange: low...1,
              series: [.init(name: "mAP", points: maps, color: Chart.palette[2],
                             marker: best.flatMap { b in b.validationMAP.map { (Double(b.epoch), $0) } }),
                       .init(name: "mean AUROC", points: aurocs, color: Chart.palette[3])], integerX: true)
            .draw(into: &canvas, x: 450, y: 0, width: 450, height: 430)
        try write(canvas, to: url)
    }

    static func write(_ canvas: Canvas, to url: URL) throws(TrainingError) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try canvas.png().write(to: url, options: .atomic)
        } catch { throw .io("cannot write plot \(url.path): \(error)") }
    }

    /// Label names become file names: letters, digits, '-' and '_' kept, the rest '_'.
    static func fileName(_ label: String) -> String {
        String(label.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" ? Character($0) : "_" })
    }

    static func relative(_ url: URL, to base: URL) -> String {
        let path = url.standardizedFileURL.path, root = base.standardizedFileURL.path + "/"
        return path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
    }
}
