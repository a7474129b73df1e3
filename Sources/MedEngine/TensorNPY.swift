import NumPyFormat

// Tensors cross process boundaries (run-model, references from PyTorch) as NumPy .npy files.
extension NPYArray {
    public init(_ tensor: Tensor) { self.init(shape: tensor.shape, data: tensor.scalars) }
    public var tensor: Tensor { Tensor(shape: shape, data: data) }
}
