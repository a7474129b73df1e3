import Foundation
import MedEngine
import MedImaging

/// Which parameters a run trains.
public enum FineTuneMode: String, Codable, Sendable, CaseIterable {
    /// Every parameter.
    case full
    /// The last stage and the head; the rest keeps its (initial) weights and batch-norm statistics.
    case frozenBackbone = "frozen_backbone"
    /// Only the final linear layer, on features of the frozen network in eval mode (a logistic regression on
    /// its embeddings: MedFM's few-shot linear probe).
    case linearProbe = "linear_probe"
}

/// The learning rate over epochs.
public enum ScheduleSpec: Codable, Sendable, Equatable {
    case constant
    /// Cosine annealing from the base rate to `minimumRate` over the run's epochs.
    case cosine(minimumRate: Float)
    /// Multiplies the rate by `factor` when the validation loss has not improved for `patience` epochs.
    case plateau(factor: Float, patience: Int)
}

/// Stop when the validation score (mAP; mean AUROC, then −loss where mAP is undefined) has not improved by
/// `minDelta` for `patience` epochs; the best epoch's weights are kept.
public struct EarlyStopping: Codable, Sendable, Equatable {
    public var patience: Int
    public var minDelta: Double

    public init(patience: Int = 5, minDelta: Double = 1e-4) {
        self.patience = patience
        self.minDelta = minDelta
    }
}

/// Everything a training run depends on: `medtrain train --config FILE` reads it as JSON (keys as below, every
/// one but `name`, `data`, `input` and `architecture` optional), and the experiment log records it whole.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// The package's model name (the store folder the daemon routes to).
    public var name: String
    /// nil: a UTC timestamp taken when the run starts (kept across resumes).
    public var version: String?
    public var data: DataSpec
    public var input: InputSpec
    /// A `ModelZoo` name, and the first-stage width for reduced models.
    public var architecture: String
    public var width: Int?
    public var mode: FineTuneMode
    /// Weights to start from: a model package folder or a `.safetensors` state dict (torchvision names). Tensors
    /// whose shape differs (a head with other labels) keep their fresh initialisation.
    public var initialWeights: String?
    /// Parameter-name prefixes that train in `frozen_backbone` mode (default: the architecture's last stage + head).
    public var trainable: [String]?
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var schedule: ScheduleSpec
    public var earlyStopping: EarlyStopping?
    /// BCE `pos_weight` per label = negatives / positives in the training part.
    public var classWeights: Bool
    public var gradientClip: Float?
    public var augmentation: AugmentationSpec
    /// How per-label thresholds are chosen on the validation part: `youden`, `f1`, `sensitivity:0.9`, `fixed:0.5`.
    public var threshold: String
    public var bootstrapResamples: Int
    public var seed: UInt64
    /// Engine threads (default: all cores).
    public var threads: Int?

    public init(name: String, data: DataSpec, input: InputSpec, architecture: String, width: Int? = nil,
                mode: FineTuneMode = .full, epochs: Int = 20, batchSize: Int = 32, learningRate: Float = 1e-3,
                weightDecay: Float = 1e-4, schedule: ScheduleSpec = .cosine(minimumRate: 1e-5),
                earlyStopping: EarlyStopping? = EarlyStopping(), classWeights: Bool = true, gradientClip: Float? = nil,
                augmentation: AugmentationSpec = .none, threshold: String = "youden", bootstrapResamples: Int = 1000,
                seed: UInt64 = 0) {
        self.name = name
        self.data = data
        self.input = input
        self.architecture = architecture
        self.width = width
        self.mode = mode
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.earlyStopping = earlyStopping
        self.classWeights = classWeights
        self.gradientClip = gradientClip
        self.augmentation = augmentation
        self.threshold = threshold
        self.bootstrapResamples = bootstrapResamples
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case name, version, data, input, architecture, width, mode, initialWeights, trainable, epochs, batchSize, learningRate,
             weightDecay, schedule, earlyStopping, classWeights, gradientClip, augmentation, threshold, bootstrapResamples,
             seed, threads
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TrainingConfig(name: "", data: DataSpec(source: .classFolders(root: "", patients: .fileName)),
                                      input: InputSpec(size: [1, 1], channels: 1, intensity: IntensityPipeline([])), architecture: "")
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        name = try c.decode(String.self, forKey: .name)
        version = try c.decodeIfPresent(String.self, forKey: .version)
        data = try c.decode(DataSpec.self, forKey: .data)
        input = try c.decode(InputSpec.self, forKey: .input)
        architecture = try c.decode(String.self, forKey: .architecture)
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        mode = try value(.mode, defaults.mode)
        initialWeights = try c.decodeIfPresent(String.self, forKey: .initialWeights)
        trainable = try c.decodeIfPresent([String].self, forKey: .trainable)
        epochs = try value(.epochs, defaults.epochs)
        batchSize = try value(.batchSize, defaults.batchSize)
        learningRate = try value(.learningRate, defaults.learningRate)
        weightDecay = try value(.weightDecay, defaults.weightDecay)
        schedule = try value(.schedule, defaults.schedule)
        earlyStopping = c.contains(.earlyStopping) ? try c.decodeIfPresent(EarlyStopping.self, forKey: .earlyStopping) : defaults.earlyStopping
        classWeights = try value(.classWeights, defaults.classWeights)
        gradientClip = try c.decodeIfPresent(Float.self, forKey: .gradientClip)
        augmentation = try value(.augmentation, defaults.augmentation)
        threshold = try value(.threshold, defaults.threshold)
        bootstrapResamples = try value(.bootstrapResamples, defaults.bootstrapResamples)
        seed = try value(.seed, defaults.seed)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
    }

    /// Reads a config file; its relative paths (data, initial weights) are relative to its folder.
    public static func read(from url: URL) throws(TrainingError) -> TrainingConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .config("cannot read \(url.path): \(error.localizedDescription)") }
        do { return try JSONDecoder().decode(TrainingConfig.self, from: data) } catch {
            throw .config("\(url.path): \(Self.describe(error))")
        }
    }

    /// Refuses values that cannot train, with the field's name.
    public func validate() throws(TrainingError) {
        guard ModelStore.isValidComponent(name) else { throw .config("name '\(name)' must be letters, digits, '.', '_' or '-'") }
        if let version, !ModelStore.isValidComponent(version) { throw .config("version '\(version)' must be letters, digits, '.', '_' or '-'") }
        guard ModelZoo.architectures.contains(architecture) else {
            throw .config("unknown architecture '\(architecture)' (one of \(ModelZoo.architectures.joined(separator: ", ")))")
        }
        guard epochs > 0 else { throw .config("epochs must be at least 1") }
        guard batchSize > 0 else { throw .config("batchSize must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw .config("learningRate must be positive") }
        guard weightDecay >= 0 else { throw .config("weightDecay must not be negative") }
        guard bootstrapResamples >= 0 else { throw .config("bootstrapResamples must not be negative") }
        if let width, width < 1 { throw .config("width must be at least 1") }
        if let threads, threads < 1 { throw .config("threads must be at least 1") }
        if let patience = earlyStopping?.patience, patience < 1 { throw .config("earlyStopping.patience must be at least 1") }
        if case let .plateau(factor, patience) = schedule, !(factor > 0 && factor < 1) || patience < 0 {
            throw .config("plateau schedule needs 0 < factor < 1 and patience >= 0")
        }
        guard ThresholdRule(method: threshold) != nil else {
            throw .config("threshold '\(threshold)' is not youden, f1, sensitivity:<0..1> or fixed:<value>")
        }
    }

    public var thresholdRule: ThresholdRule { ThresholdRule(method: threshold) ?? .youden }

    /// SHA-256 of the canonical JSON without `threads` (how many cores run it is not what it is):
    /// a resumed run must have the same configuration.
    public var digest: String {
        var identity = self
        identity.threads = nil
        return Checksum.sha256Hex(identity.canonicalJSON)
    }

    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            return "missing \(path(context.codingPath + [key]))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case let DecodingError.dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

extension ThresholdRule {
    /// `youden`, `f1`, `sensitivity:0.9`, `fixed:0.5`: the form a config and a package manifest use.
    public init?(method: String) {
        let parts = method.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count > 1 ? Double(parts[1]) : nil) {
        case ("youden", nil) where parts.count == 1: self = .youden
        case ("f1", nil) where parts.count == 1: self = .maxF1
        case let ("sensitivity", value?) where value > 0 && value <= 1: self = .targetSensitivity(minimum: value)
        case let ("fixed", value?): self = .fixed(value: value)
        default: return nil
        }
    }

    public var method: String {
        switch self {
        case .youden: return "youden"
        case .maxF1: return "f1"
        case let .targetSensitivity(minimum): return "sensitivity:\(minimum)"
        case let .fixed(value): return "fixed:\(value)"
        }
    }
}

/// Why a run, an evaluation or a publication could not go on.
public enum TrainingError: Error, CustomStringConvertible {
    case config(String)
    case data(String)
    case model(String)
    case checkpoint(String)
    case io(String)

    public var description: String {
        switch self {
        case let .config(message): return "configuration: \(message)"
        case let .data(message): return "data: \(message)"
        case let .model(message): return "model: \(message)"
        case let .checkpoint(message): return "checkpoint: \(message)"
        case let .io(message): return message
        }
    }
}
