/// Builds models by architecture name: the names `model.json` and the commands use.
public enum ModelZoo {
    public static let architectures = ["small_cnn", "small_cnn3d", "resnet18", "resnet34", "resnet50", "resnet18_28",
                                       "resnet50_28", "resnet18_3d", "r3d_18", "densenet121", "vgg16"]

    /// - Parameter width: the first stage's width for ResNets (64), the small CNN's base width (16),
    ///   or nil for the standard size.
    public static func make(arch: String, inChannels: Int, labels: Int, width: Int? = nil, seed: UInt64 = 0)
        throws(ModelError) -> any Model {
        switch arch {
        case "small_cnn": return SmallCNN(inChannels: inChannels, labels: labels, width: width ?? 16, seed: seed)
        case "small_cnn3d": return SmallCNN(inChannels: inChannels, labels: labels, width: width ?? 16, spatialDims: 3, seed: seed)
        case "resnet18", "resnet34", "resnet50", "resnet18_28", "resnet50_28", "resnet18_3d":
            let deep = arch.hasPrefix("resnet34") || arch.hasPrefix("resnet50")
            return ResNet(blocks: deep ? [3, 4, 6, 3] : [2, 2, 2, 2], bottleneck: arch.hasPrefix("resnet50"),
                          inChannels: inChannels, labels: labels, stem: arch.hasSuffix("_28") || arch.hasSuffix("_3d") ? .small : .imagenet,
                          spatialDims: arch.hasSuffix("_3d") ? 3 : 2, width: width ?? 64, seed: seed)
        case "r3d_18":
            return ResNet(blocks: [2, 2, 2, 2], bottleneck: false, inChannels: inChannels, labels: labels, stem: .video,
                          width: width ?? 64, seed: seed)
        case "densenet121": return DenseNet(inChannels: inChannels, labels: labels, seed: seed)
        case "vgg16": return VGG(inChannels: inChannels, labels: labels, seed: seed)
        default: throw .unknownArchitecture(arch)
        }
    }
}
