public import TorchCheckpoint

extension CheckpointLayout {
    /// The report's `format` for this layout: `pytorch-zip`, `pytorch-legacy`
    /// or `safetensors`.
    public var formatName: String {
        switch self {
        case .zip: "pytorch-zip"
        case .legacy: "pytorch-legacy"
        case .safetensors: "safetensors"
        }
    }

    /// The layout in words, for the report's `layout` detail.
    public var summary: String {
        switch self {
        case .zip: "zip archive (PyTorch >= 1.6)"
        case .legacy: "legacy pickle stream"
        case .safetensors: "safetensors (JSON header, then the tensors' bytes)"
        }
    }
}
