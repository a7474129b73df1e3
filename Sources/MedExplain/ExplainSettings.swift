/// The explanation methods a scan can get.
public enum ExplanationMethod: String, Sendable, Codable, CaseIterable {
    case gradCAM = "gradcam"
    case hiResCAM = "hirescam"
    case gradCAMPlusPlus = "gradcampp"
    /// Gradient-free: one sweep of occluded copies explains every target.
    case occlusion

    /// The gradient weighting, nil for occlusion.
    public var cam: CAMMethod? { CAMMethod(rawValue: rawValue) }
}

/// What to compute and draw. The defaults are the product's; `compat` reproduces pytorch-grad-cam 1.5.7.
public struct ExplainSettings: Sendable, Equatable {
    public var method: ExplanationMethod
    /// The named activation (ResNet `layer4`, …); nil: `ClassActivation.defaultLayer(forArchitecture:)`.
    public var layer: String?
    /// How a 3D map reaches the scan's grid (2D maps are always bilinear, half-pixel centres).
    public var volumeResampling: MapResampling
    public var overlay: OverlayStyle
    public var occlusion: OcclusionSettings
    /// Whether to encode PNGs; off, the maps and statistics are still computed.
    public var renderImages: Bool
    /// Volumes: overlays of the slices where the map peaks (the highest per-slice maxima first).
    public var sliceOverlays: Int
    /// Volumes: at most this many evenly spaced slices in the mosaic.
    public var mosaicSlices: Int
    /// Volumes: the longer side of a mosaic tile, in pixels.
    public var mosaicTile: Int

    public init(method: ExplanationMethod = .gradCAM, layer: String? = nil, volumeResampling: MapResampling = .linear,
                overlay: OverlayStyle = .standard, occlusion: OcclusionSettings = OcclusionSettings(),
                renderImages: Bool = true, sliceOverlays: Int = 3, mosaicSlices: Int = 25, mosaicTile: Int = 256) {
        self.method = method; self.layer = layer; self.volumeResampling = volumeResampling; self.overlay = overlay
        self.occlusion = occlusion; self.renderImages = renderImages; self.sliceOverlays = sliceOverlays
        self.mosaicSlices = mosaicSlices; self.mosaicTile = mosaicTile
    }

    /// pytorch-grad-cam 1.5.7's conventions: cubic B-spline 3D resize and `show_cam_on_image` (jet, weight 0.5).
    public static func compat(method: ExplanationMethod = .gradCAM, layer: String? = nil) -> ExplainSettings {
        ExplainSettings(method: method, layer: layer, volumeResampling: .cubicSplineCompat, overlay: .compat)
    }
}
