import Foundation
import MedEngine

/// What a run reports while it goes.
public enum TrainingEvent: Sendable {
    /// After every batch: the epoch's mean loss so far, throughput, and the time left if every epoch runs.
    case batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, imagesPerSecond: Double, remaining: TimeInterval)
    case epoch(EpochRecord, epochs: Int, best: Bool)
    /// Early stopping ended the run after `epoch`; the weights of `bestEpoch` are kept.
    case stoppedEarly(epoch: Int, bestEpoch: Int)
}

/// The training loop: masked, class-weighted BCE; AdamW with a cosine, plateau or constant schedule; seeded
/// augmentation (in the batch loader); validation every epoch with early stopping on mAP; a checkpoint after
/// every epoch and whenever `shouldStop` asks, from which `restore` continues exactly where it left off.
///
/// Every random draw depends only on (seed, epoch, batch or sample), so a run stopped and resumed takes the same
/// steps as one that was not.
public final class Trainer {
    public let config: TrainingConfig
    public let model: any Model
    public private(set) var state = TrainerState()
    public private(set) var best: [String: Tensor]?
    let train: LabelledDataset
    let validation: LabelledDataset
    let tensors: SampleTensors
    let selection: ParameterSelection
    let loader: BatchLoader
    let posWeight: Tensor?
    var optimizer: AdamW
    /// Linear probe without augmentation: features of the frozen network, computed once per sample.
    private var featureMemo: [Int: [Float]] = [:]

    public init(config: TrainingConfig, model: any Model, train: LabelledDataset, validation: LabelledDataset,
                tensors: SampleTensors) throws(TrainingError) {
        guard !train.samples.isEmpty else { throw .data("the training part is empty") }
        guard !validation.samples.isEmpty else { throw .data("the validation part is empty: early stopping and thresholds need one") }
        self.config = config
        self.model = model
        self.train = train
        self.validation = validation
        self.tensors = tensors
        selection = try ParameterSelection(model: model, architecture: config.architecture, mode: config.mode,
                                           trainablePrefixes: config.trainable)
        let labels = train.labelNames.count
        posWeight = config.classWeights ? Tensor(shape: [labels], data: train.positiveWeights()) : nil
        // A last batch of one sample gives batch-norm a zero variance; it is dropped (a different one each epoch).
        loader = BatchLoader(dataset: train, batchSize: config.batchSize, sampleShape: config.input.tensorShape, shuffle: true,
                             dropLast: train.samples.count % config.batchSize == 1 && train.samples.count > 1,
                             augmentation: config.augmentation, seed: config.seed, tensor: tensors.source)
        optimizer = AdamW(learningRate: config.learningRate, weightDecay: config.weightDecay)
    }

    public var batchesPerEpoch: Int { loader.plan(epoch: 0).count }

    // MARK: checkpoints

    public func checkpoint(identity: RunIdentity) -> TrainingCheckpoint {
        let trainable = selection.trainable
        let saved = optimizer.state(of: trainable.map(\.1))
        var moments: [String: (m: Tensor, v: Tensor)] = [:]
        for ((name, _), pair) in zip(trainable, saved.moments) { if let pair { moments[name] = pair } }
        return TrainingCheckpoint(identity: identity, state: state, optimizerStep: saved.step, model: model.stateDictionary(),
                                  best: best, moments: moments)
    }

    /// Continues from a checkpoint of the same configuration.
    public func restore(_ checkpoint: TrainingCheckpoint) throws(TrainingError) {
        do { try model.load(checkpoint.model) } catch { throw .checkpoint("its weights do not fit the model: \(error)") }
        state = checkpoint.state
        best = checkpoint.best
        let trainable = selection.trainable
        optimizer.restore(step: checkpoint.optimizerStep, moments: trainable.map { checkpoint.moments[$0.0] }, for: trainable.map(\.1))
    }

    // MARK: the loop

    /// Runs until every epoch is done, early stopping ends the run (true; the model then holds the best epoch's
    /// weights), or `shouldStop` returns true after a batch (false; a checkpoint of that moment was saved).
    public func run(shouldStop: () -> Bool = { false }, save: (TrainingCheckpoint) throws -> Void,
                    identity: RunIdentity, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> Bool {
        let batches = batchesPerEpoch
        var lastValidationSeconds = 0.0
        while !state.finished && state.epoch < config.epochs {
            let epoch = state.epoch
            optimizer.learningRate = learningRate(epoch: epoch)
            let plan = loader.plan(epoch: epoch)
            let stream = loader.epoch(epoch, from: state.batch)
            // Wall time, waits for batches included: images/s is what the run achieves, loading and all.
            var tick = Date()
            while let batch = try stream.next() {
                let loss = step(batch, epoch: epoch, index: state.batch)
                let now = Date()
                state.seconds += now.timeIntervalSince(tick)
                tick = now
                state.lossSum += loss
                state.lossBatches += 1
                state.images += batch.count
                state.batch += 1
                let perBatch = state.seconds / Double(state.lossBatches)
                let remaining = Double(plan.count - state.batch + (config.epochs - epoch - 1) * batches) * perBatch
                    + Double(config.epochs - epoch) * lastValidationSeconds
                onEvent(.batch(epoch: epoch + 1, epochs: config.epochs, batch: state.batch, batches: plan.count,
                               loss: state.lossSum / Double(state.lossBatches), imagesPerSecond: Double(state.images) / max(state.seconds, 1e-9),
                               remaining: remaining))
                if state.batch < plan.count, shouldStop() {
                    try save(checkpoint(identity: identity))
                    return false
                }
            }
            let validationStart = Date()
            let scores = try Scorer.score(model, dataset: validation, tensors: tensors, batchSize: max(config.batchSize, 32))
            lastValidationSeconds = Date().timeIntervalSince(validationStart)
            let evaluation = Evaluation(scores.scored, labelNames: validation.labelNames, rule: config.thresholdRule, bootstrapResamples: 0)
            let validationLoss = scores.loss
            let record = EpochRecord(
                epoch: epoch + 1, trainLoss: state.lossSum / Double(max(state.lossBatches, 1)), validationLoss: validationLoss,
                validationMAP: evaluation.meanAveragePrecision, validationMeanAUROC: evaluation.meanAUROC,
                score: evaluation.meanAveragePrecision ?? evaluation.meanAUROC ?? -validationLoss,
                learningRate: optimizer.learningRate, seconds: state.seconds + lastValidationSeconds,
                imagesPerSecond: Double(state.images) / max(state.seconds, 1e-9))
            let improved = state.bestScore.map { record.score > $0 + (config.earlyStopping?.minDelta ?? 0) } ?? true
            if improved {
                state.bestScore = record.score
                state.bestEpoch = record.epoch
                best = model.stateDictionary()
            }
            state.history.append(record)
            state.epoch += 1
            state.batch = 0
            state.lossSum = 0
            state.lossBatches = 0
            state.images = 0
            state.seconds = 0
            onEvent(.epoch(record, epochs: config.epochs, best: improved))
            if let patience = config.earlyStopping?.patience, let bestEpoch = state.bestEpoch, record.epoch - bestEpoch >= patience,
               state.epoch < config.epochs {
                state.stoppedEarly = true
                onEvent(.stoppedEarly(epoch: record.epoch, bestEpoch: bestEpoch))
            }
            state.finished = state.stoppedEarly || state.epoch >= config.epochs
            try save(checkpoint(identity: identity))
            if state.finished { break }
            if shouldStop() { return false }
        }
        if let best { try model.load(best) }
        if config.augmentation != .none && config.mode != .linearProbe { try refreshBatchNormStatistics() }
        return true
    }

    /// Re-estimates the batch-norm running statistics of the kept weights on the training images without
    /// augmentation (at least 50 batches, cycling through a small set): statistics gathered on augmented batches
    /// (resampled, hence blurred; shifted; jittered) do not fit clean images, and the probabilities of clean
    /// images come out miscalibrated (PneumoniaMNIST, docs/training.md). Weights are unchanged; frozen
    /// statistics stay as loaded.
    func refreshBatchNormStatistics() throws {
        let plain = BatchLoader(dataset: train, batchSize: config.batchSize, sampleShape: config.input.tensorShape, shuffle: false,
                                dropLast: loader.dropLast, seed: config.seed, tensor: tensors.source)
        let batches = plain.plan(epoch: 0).count
        for _ in 0..<max(1, (50 + batches - 1) / batches) {
            let stream = plain.epoch(0)
            while let batch = try stream.next() {
                _ = model.forward(Variable(Tensor(shape: batch.shape, data: batch.inputs)), ForwardContext(training: true, recordsGraph: false))
            }
        }
        for (buffer, saved) in selection.frozenBuffers { buffer.value = saved }
    }

    /// The rate for an epoch: cosine and constant are functions of the epoch; the plateau schedule replays the
    /// validation losses so far, so a resumed run gets the rate an uninterrupted one would have.
    func learningRate(epoch: Int) -> Float {
        switch config.schedule {
        case .constant:
            return config.learningRate
        case let .cosine(minimum):
            return LearningRateSchedule.cosine(period: config.epochs, minimum: minimum).rate(base: config.learningRate, epoch: epoch)
        case let .plateau(factor, patience):
            var plateau = ReduceOnPlateau(factor: factor, patience: patience)
            var rate = config.learningRate
            for record in state.history.prefix(epoch) { rate = plateau.step(metric: Float(record.validationLoss), rate: rate) }
            return rate
        }
    }

    /// One optimizer step on a batch; returns its loss.
    func step(_ batch: Batch, epoch: Int, index: Int) -> Double {
        let labels = train.labelNames.count
        let targets = Tensor(shape: [batch.count, labels], data: batch.labels)
        let mask = Tensor(shape: [batch.count, labels], data: batch.mask)
        let parameters = selection.trainable.map(\.1)
        model.zeroGradients()
        let loss: Variable
        if config.mode == .linearProbe {
            loss = probeStep(batch, targets: targets, mask: mask)
        } else {
            var rng = SeededRandom(seed: config.seed, stream: 2, UInt64(epoch), UInt64(index))
            let ctx = ForwardContext(training: true, seed: rng.next())
            let logits = model.forward(Variable(Tensor(shape: batch.shape, data: batch.inputs)), ctx)
            loss = Functional.bceWithLogits(logits, targets: targets, mask: mask, posWeight: posWeight)
            loss.backward()
        }
        if let clip = config.gradientClip { clipGradientNorm(parameters, maxNorm: clip) }
        optimizer.step(parameters)
        for (buffer, saved) in selection.frozenBuffers { buffer.value = saved }
        return Double(loss.value.scalars[0])
    }

    /// The head as a logistic regression on pooled features of the frozen network (inference path): its
    /// gradients are set directly, nothing else is back-propagated.
    private func probeStep(_ batch: Batch, targets: Tensor, mask: Tensor) -> Variable {
        let be = Engine.backend
        let features = probeFeatures(batch)
        let weight = selection.head.first { $0.0.hasSuffix("weight") }!.1, bias = selection.head.first { $0.0.hasSuffix("bias") }?.1
        var logits = be.matmul(features, weight.value, transposeA: false, transposeB: true)
        if let bias { logits = be.addRowBias(logits, bias: bias.value) }
        let output = Variable(logits, requiresGradient: true)
        let loss = Functional.bceWithLogits(output, targets: targets, mask: mask, posWeight: posWeight)
        loss.backward()
        let g = output.grad!
        weight.grad = be.matmul(g, features, transposeA: true, transposeB: false)
        bias?.grad = be.sumRows(g)
        return loss
    }

    /// The features of a training batch, computed once per sample when there is no augmentation to change them.
    private func probeFeatures(_ batch: Batch) -> Tensor {
        let cached = config.augmentation == .none
        let rows = cached ? batch.indices.compactMap { featureMemo[$0] } : []
        if rows.count == batch.count { return Tensor(shape: [batch.count, rows[0].count], data: rows.flatMap { $0 }) }
        let features = features(of: batch)
        if cached {
            let width = features.count / batch.count, values = features.scalars
            for (slot, index) in batch.indices.enumerated() { featureMemo[index] = Array(values[(slot * width)..<((slot + 1) * width)]) }
        }
        return features
    }

    /// N x C: global average pooling of the feature layer, as the network computes it before its head.
    func features(of batch: Batch) -> Tensor {
        let layer = selection.featureLayer!
        let ctx = ForwardContext(training: false, keepActivations: [layer])
        _ = model.forward(Variable(Tensor(shape: batch.shape, data: batch.inputs)), ctx)
        let activation = ctx.activations[layer]!.value
        return Engine.backend.adaptiveAvgPool(activation, outputSize: Array(repeating: 1, count: model.spatialDims)).reshaped([batch.count, -1])
    }
}
