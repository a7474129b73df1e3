import Foundation

/// The text of `medtrain train`'s progress: a bar per batch, a summary per epoch.
public enum ProgressLine {
    /// `epoch 3/20 [#######.............] 120/245 loss 0.3412  412 img/s  ETA 4:05`
    public static func batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, imagesPerSecond: Double,
                             remaining: TimeInterval, width: Int = 20) -> String {
        let filled = batches > 0 ? min(width, width * batch / batches) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "epoch \(epoch)/\(epochs) [\(bar)] \(batch)/\(batches) loss \(String(format: "%.4f", loss))  "
            + "\(String(format: "%.0f", imagesPerSecond)) img/s  ETA \(duration(remaining))"
    }

    /// `epoch 3/20: train loss 0.3412, val loss 0.2901, val mAP 0.951, mean AUROC 0.962, lr 1.0e-03 (12.3 s, 315 img/s) best`
    public static func epoch(_ r: EpochRecord, epochs: Int, best: Bool) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
        return "epoch \(r.epoch)/\(epochs): train loss \(String(format: "%.4f", r.trainLoss)), val loss \(String(format: "%.4f", r.validationLoss)), "
            + "val mAP \(f(r.validationMAP)), mean AUROC \(f(r.validationMeanAUROC)), lr \(String(format: "%.1e", r.learningRate)) "
            + "(\(String(format: "%.1f", r.seconds)) s, \(String(format: "%.0f", r.imagesPerSecond)) img/s)\(best ? " best" : "")"
    }

    /// `42s`, `4:05`, `1:02:03`.
    public static func duration(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%d:%02d", s / 60, s % 60) }
        return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }
}
