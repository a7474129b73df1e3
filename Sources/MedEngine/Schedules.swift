import Foundation

/// Learning-rate schedules, stepped once per epoch as in torch.optim.lr_scheduler.
public enum LearningRateSchedule: Sendable {
    /// lr·gamma^(epoch / stepSize)
    case step(stepSize: Int, gamma: Float)
    /// eta_min + (lr − eta_min)·(1 + cos(π·epoch/T))/2
    case cosine(period: Int, minimum: Float)

    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case let .step(stepSize, gamma): return base * powf(gamma, Float(epoch / stepSize))
        case let .cosine(period, minimum):
            return minimum + (base - minimum) * (1 + cosf(Float.pi * Float(epoch) / Float(period))) / 2
        }
    }
}

/// torch.optim.lr_scheduler.ReduceLROnPlateau in "min" mode with a relative threshold.
public struct ReduceOnPlateau: Sendable {
    public var factor: Float
    public var patience: Int
    public var threshold: Float
    public var cooldown: Int
    public var minimumRate: Float
    private var best = Float.infinity
    private var badEpochs = 0
    private var cooldownLeft = 0

    public init(factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4, cooldown: Int = 0, minimumRate: Float = 0) {
        self.factor = factor; self.patience = patience; self.threshold = threshold; self.cooldown = cooldown
        self.minimumRate = minimumRate
    }

    /// Feeds one epoch's metric (lower is better) and returns the learning rate to use next.
    public mutating func step(metric: Float, rate: Float) -> Float {
        if metric < best * (1 - threshold) { best = metric; badEpochs = 0 } else { badEpochs += 1 }
        if cooldownLeft > 0 { cooldownLeft -= 1; badEpochs = 0 }
        guard badEpochs > patience else { return rate }
        cooldownLeft = cooldown
        badEpochs = 0
        return max(rate * factor, minimumRate)
    }
}
