import MedEngine

/// Which of a model's parameters train in each `FineTuneMode`, by their torchvision names.
struct ParameterSelection {
    /// The final linear layer: the parameters sharing the last parameter's module prefix (`fc.`, `classifier.`,
    /// `classifier.6.`).
    let head: [(String, Parameter)]
    /// Parameters the optimizer steps.
    let trainable: [(String, Parameter)]
    /// Buffers (batch-norm statistics) of the frozen part, restored after every step so they stay as loaded.
    let frozenBuffers: [(Parameter, Tensor)]
    /// The recorded activation that global average pooling turns into the head's input (linear probe).
    let featureLayer: String?

    init(model: any Model, architecture: String, mode: FineTuneMode, trainablePrefixes: [String]?) throws(TrainingError) {
        let named = model.namedParameters()
        guard let last = named.last(where: { !$0.1.isBuffer })?.0 else { throw .model("\(architecture) has no parameters") }
        let headPrefix = String(last[...(last.lastIndex(of: ".") ?? last.startIndex)])
        head = named.filter { $0.0.hasPrefix(headPrefix) && !$0.1.isBuffer }
        featureLayer = Self.featureLayers.first { architecture.hasPrefix($0.key) }?.value
        switch mode {
        case .full:
            trainable = named.filter { !$0.1.isBuffer }
            frozenBuffers = []
        case .linearProbe:
            guard featureLayer != nil else { throw .config("linear_probe is not available for \(architecture) (its head is not one linear layer)") }
            trainable = head
            frozenBuffers = []
        case .frozenBackbone:
            let prefixes = trainablePrefixes ?? (Self.lastStages.first { architecture.hasPrefix($0.key) }?.value ?? []) + [headPrefix]
            func trains(_ name: String) -> Bool { prefixes.contains { name.hasPrefix($0) } }
            trainable = named.filter { !$0.1.isBuffer && trains($0.0) }
            guard !trainable.isEmpty else { throw .config("no parameter of \(architecture) starts with \(prefixes)") }
            frozenBuffers = named.filter { $0.1.isBuffer && !trains($0.0) }.map { ($0.1, $0.1.value) }
        }
    }

    /// The last stage of each architecture family: what `frozen_backbone` trains besides the head.
    static let lastStages: [String: [String]] = [
        "resnet": ["layer4."], "r3d_18": ["layer4."], "small_cnn": ["conv3.", "bn3."],
        "densenet": ["features.denseblock4.", "features.norm5."], "vgg": ["features.24.", "features.26.", "features.28."],
    ]

    static let featureLayers: [String: String] = ["resnet": "layer4", "r3d_18": "layer4", "small_cnn": "conv3", "densenet": "features"]
}
