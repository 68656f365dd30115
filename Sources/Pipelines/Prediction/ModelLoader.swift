import CRNN
import CRNNFormat
import Conversion
import Kernels
import TensorCore
import TorchCheckpoint

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
    /// For a checkpoint converted in memory, its floating-point tensors
    /// holding a NaN or an infinity (a `.bin` was checked when converted).
    public var nonFiniteTensors: [String] = []
}

/// Opens a model from a `.bin` (memory-mapped) or converts a `.pt` in memory.
public enum ModelLoader {
    /// Loads the model at `path`. A `.bin` is recognised by its magic bytes;
    /// anything else is read as a PyTorch checkpoint.
    /// - Parameter alphabet: the alphabet of a `.pt` (overriding any it
    ///   stores); refused for a `.bin`, which stores its own.
    /// - Throws: `KernelError.unknownVectorUnit` for a `CRNN_VECTOR_UNIT`
    ///   naming no unit; `PredictionError.alphabetGivenForBin` for an alphabet
    ///   with a `.bin`; `PredictionError.badModel` when a `.bin`'s tensors are
    ///   not a CRNN; `ConversionError.metadataContradictsTensors` when its
    ///   metadata disagrees with its tensors, `.emptyModelFile` or
    ///   `.unknownModelFormat` for a file that is neither format; else the
    ///   format's, reader's or model's error naming the file.
    public static func load(path: String, alphabet: String? = nil) throws -> LoadedModel {
        try VectorUnit.checkEnvironment()
        BLASThreads.preload()  // meanwhile, on another core
        if try ConversionError.isCRNNFile(path) {
            if alphabet != nil { throw PredictionError.alphabetGivenForBin(file: path) }
            let file = try CRNNFile.open(path: path)
            let configuration: CRNNConfiguration
            do { configuration = try CRNNLayers.check(file.tensors) } catch let error as CRNNError {
                throw PredictionError.badModel(file: path, reason: error.summary)
            }
            if let contradiction = file.metadata.contradiction(with: configuration) {
                throw ConversionError.metadataContradictsTensors(file: path, contradiction: contradiction)
            }
            let model = try CRNNModel(stateDict: file.tensors)
            try file.checkUnchanged()  // the weights were copied from the file: it must not have changed meanwhile
            let decoder = try CTCDecoder(
                alphabet: file.metadata.alphabet, blank: file.metadata.blankIndex, vocabularySize: configuration.vocabularySize)
            return LoadedModel(model: model, decoder: decoder, metadata: file.metadata, convertedInMemory: false)
        }
        let prepared: Converter.PreparedModel
        do { prepared = try Converter.prepare(path: path, options: ConversionOptions(alphabet: alphabet)) } catch let error as CheckpointError {
            throw ConversionError.namingTheBinAlternative(error)
        }
        let model = try CRNNModel(stateDict: prepared.stateDict)
        try prepared.checkSourceUnchanged()
        return LoadedModel(model: model, decoder: try CTCDecoder(alphabet: prepared.metadata.alphabet),
                           metadata: prepared.metadata, convertedInMemory: true, nonFiniteTensors: prepared.nonFiniteTensors)
    }
}
