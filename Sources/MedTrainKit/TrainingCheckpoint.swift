import Foundation
import MedEngine

/// One finished epoch.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationMAP: Double?
    public var validationMeanAUROC: Double?
    /// What early stopping compares: mAP, else mean AUROC, else −validation loss.
    public var score: Double
    public var learningRate: Float
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// Where a run stands: enough, with the tensors of a checkpoint, to continue it exactly.
public struct TrainerState: Codable, Sendable, Equatable {
    /// The epoch under way (0-based) and the next batch of it.
    public var epoch = 0
    public var batch = 0
    /// The epoch so far: loss sum over its batches, batches, images and seconds.
    public var lossSum = 0.0
    public var lossBatches = 0
    public var images = 0
    public var seconds = 0.0
    public var history: [EpochRecord] = []
    public var bestEpoch: Int?
    public var bestScore: Double?
    /// All epochs ran or early stopping ended the run.
    public var finished = false
    public var stoppedEarly = false

    public init() {}
}

/// Who a checkpoint belongs to: a resumed run must have the same configuration and data.
public struct RunIdentity: Codable, Sendable, Equatable {
    public var run: String
    public var version: String
    public var configDigest: String
    public var dataDigests: [String: String]
    public var started: Date

    public init(run: String, version: String, configDigest: String, dataDigests: [String: String], started: Date) {
        self.run = run
        self.version = version
        self.configDigest = configDigest
        self.dataDigests = dataDigests
        self.started = started
    }
}

/// A resumable snapshot in one safetensors file, written atomically (a kill at any moment leaves the previous
/// checkpoint or this one): the model under `model.<name>`, the best epoch's weights under `best.<name>`, AdamW's
/// moments under `adamw.exp_avg.<name>` / `adamw.exp_avg_sq.<name>`, and the state as JSON in the header metadata.
public struct TrainingCheckpoint: Sendable {
    public var identity: RunIdentity
    public var state: TrainerState
    public var optimizerStep: Int
    public var model: [String: Tensor]
    public var best: [String: Tensor]?
    /// Parameter name → (first, second) moment.
    public var moments: [String: (m: Tensor, v: Tensor)]

    static let identityKey = "medtrain.run", stateKey = "medtrain.state", stepKey = "medtrain.optimizer_step"

    public func write(to url: URL) throws(TrainingError) {
        var tensors: [String: Tensor] = [:]
        for (name, t) in model { tensors["model.\(name)"] = t }
        for (name, t) in best ?? [:] { tensors["best.\(name)"] = t }
        for (name, pair) in moments {
            tensors["adamw.exp_avg.\(name)"] = pair.m
            tensors["adamw.exp_avg_sq.\(name)"] = pair.v
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let metadata = [Self.identityKey: String(decoding: try encoder.encode(identity), as: UTF8.self),
                            Self.stateKey: String(decoding: try encoder.encode(state), as: UTF8.self),
                            Self.stepKey: String(optimizerStep)]
            try SafeTensors.encode(tensors, metadata: metadata).write(to: url, options: .atomic)
        } catch { throw .io("cannot write checkpoint \(url.path): \(error)") }
    }

    public static func read(from url: URL) throws(TrainingError) -> TrainingCheckpoint {
        let contents: (tensors: [String: Tensor], metadata: [String: String])
        do { contents = try SafeTensors.read(from: url) } catch { throw .checkpoint("\(url.path) is not a checkpoint: \(error)") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let identityJSON = contents.metadata[identityKey], let stateJSON = contents.metadata[stateKey],
              let step = contents.metadata[stepKey].flatMap(Int.init),
              let identity = try? decoder.decode(RunIdentity.self, from: Data(identityJSON.utf8)),
              let state = try? decoder.decode(TrainerState.self, from: Data(stateJSON.utf8))
        else { throw .checkpoint("\(url.path) has no medtrain state in its header") }
        var model: [String: Tensor] = [:], best: [String: Tensor] = [:]
        var first: [String: Tensor] = [:], second: [String: Tensor] = [:]
        for (key, tensor) in contents.tensors {
            for (prefix, apply) in [("model.", { model[$0] = tensor }), ("best.", { best[$0] = tensor }),
                                    ("adamw.exp_avg.", { first[$0] = tensor }), ("adamw.exp_avg_sq.", { second[$0] = tensor })]
            where key.hasPrefix(prefix) {
                apply(String(key.dropFirst(prefix.count)))
            }
        }
        var moments: [String: (m: Tensor, v: Tensor)] = [:]
        for (name, m) in first {
            guard let v = second[name] else { throw .checkpoint("\(url.path): moment exp_avg_sq of \(name) is missing") }
            moments[name] = (m, v)
        }
        return TrainingCheckpoint(identity: identity, state: state, optimizerStep: step, model: model,
                                  best: best.isEmpty ? nil : best, moments: moments)
    }
}
