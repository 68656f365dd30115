import CRNN
import CRNNFormat
import Conversion
import Kernels
import TensorCore

/// A model ready to predict: the network, its decoder and its description.
public struct LoadedModel: Sendable {
    /// The network.
    public let model: CRNNModel
    /// Greedy CTC over the model's alphabet.
    public let decoder: CTCDecoder
    /// The model's description (from the `.bin`, or made while converting a `.pt`).
    public let metadata: CRNNModelMetadata
    /// True when read from a PyTorch checkpoint rather than a `.bin`.
    public let convertedInMemory: Bool
}

/// Opens a model from a `.bin` (memory-mapped) or converts a `.pt` in memory.
public enum ModelLoader {
    /// Loads the model at `path`. A `.bin` is recognised by its magic bytes;
    /// anything else is read as a PyTorch checkpoint.
    /// - Parameter alphabet: overrides the alphabet of a `.pt` (ignored for a `.bin`, which stores its own).
    /// - Throws: the format's, reader's or model's error naming the file.
    public static func load(path: String, alphabet: String? = nil) throws -> LoadedModel {
        BLASThreads.preload()  // meanwhile, on another core
        if try CRNNFile.looksLikeCRNNFile(path: path) {
            let file = try CRNNFile.open(path: path)
            let model = try CRNNModel(stateDict: file.tensors)
            try file.checkUnchanged()  // the weights were copied from the file: it must not have changed meanwhile
            return LoadedModel(model: model, decoder: try CTCDecoder(alphabet: file.metadata.alphabet, blank: file.metadata.blankIndex),
                               metadata: file.metadata, convertedInMemory: false)
        }
        let prepared = try Converter.prepare(path: path, options: ConversionOptions(alphabet: alphabet))
        let model = try CRNNModel(stateDict: prepared.stateDict)
        try prepared.checkSourceUnchanged()
        return LoadedModel(model: model, decoder: try CTCDecoder(alphabet: prepared.metadata.alphabet),
                           metadata: prepared.metadata, convertedInMemory: true)
    }
}
