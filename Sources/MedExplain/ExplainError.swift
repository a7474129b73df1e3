/// Why an explanation could not be made. Every case names what to change.
public enum ExplainError: Error, Equatable, CustomStringConvertible {
    case batch([Int])
    case inputShape(found: [Int], spatialDims: Int)
    case unknownLayer(String)
    case layerNotOnPath(String)
    case target(Int, labels: Int)
    case labels(given: Int, model: Int)
    case original(String)
    case occlusionWindow(String)
    case render(String)

    public var description: String {
        switch self {
        case let .batch(shape): return "explain one sample at a time: the input is \(shape), not 1×C×…"
        case let .inputShape(found, dims):
            return "input \(found) does not fit a \(dims)D model: it takes 1×C×\(dims == 2 ? "H×W" : "D×H×W")"
        case let .unknownLayer(name):
            return "the model records no activation named \(name) (ResNet: layer1…layer4, DenseNet: features, "
                + "features.denseblockN, VGG: features, SmallCNN: conv1…conv3)"
        case let .layerNotOnPath(name): return "the logits do not depend on \(name)"
        case let .target(target, labels): return "target \(target) is outside 0..<\(labels)"
        case let .labels(given, model): return "\(given) label names for a model with \(model) outputs"
        case let .original(reason): return "the original scan does not fit the input: \(reason)"
        case let .occlusionWindow(reason): return "occlusion: \(reason)"
        case let .render(reason): return "cannot render the overlay: \(reason)"
        }
    }
}
