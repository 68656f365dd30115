import TensorCore

/// What `crnn-inspect` reports about a file: its format, facts about it, and
/// every tensor. The JSON form is a stable interface (see README.md).
public struct InspectionReport: Codable, Equatable, Sendable {
    /// One tensor of the file.
    public struct TensorSummary: Codable, Equatable, Sendable {
        /// The state_dict name.
        public var name: String
        /// PyTorch's dtype name (`float32`, `bfloat16`, `int64`, ...).
        public var dtype: String
        /// The shape; empty for a scalar.
        public var shape: [Int]
        /// The number of elements.
        public var elements: Int
        /// Bytes the elements take when packed.
        public var bytes: Int
        /// Present with `--stats` (for a quantized tensor, over its stored
        /// integers; for a sparse one, over its stored values).
        public var stats: TensorStatistics?
        /// `sparse_coo`, `sparse_csr`, `sparse_csc`, `sparse_bsr` or
        /// `sparse_bsc` for a sparse tensor (whose `bytes` are those of its
        /// parts); absent for a dense one.
        public var layout: String?
        /// A sparse tensor's number of stored values (blocks for BSR, BSC).
        public var storedValues: Int?
        /// A quantized tensor's scheme and parameters.
        public var quantization: QuantizationSummary?
    }

    /// How a quantized tensor's stored integers map to values,
    /// `(q - zeroPoint) * scale`.
    public struct QuantizationSummary: Codable, Equatable, Sendable {
        /// `per_tensor_affine`, `per_channel_affine` or `per_channel_affine_float_qparams`.
        public var scheme: String
        /// Per-tensor schemes: the scale and zero point.
        public var scale: Double?
        /// Per-tensor schemes: the stored integer that stands for 0.
        public var zeroPoint: Int?
        /// Per-channel schemes: the dimension the parameters run along, and
        /// the dtypes of the scale and zero-point tensors.
        public var axis: Int?
        /// Per-channel schemes: the dtype of the scales tensor.
        public var scalesDType: String?
        /// Per-channel schemes: the dtype of the zero-points tensor.
        public var zeroPointsDType: String?
        /// Per-channel schemes: one scale and zero point per index along `axis`.
        public var scales: [Double]?
        /// Per-channel schemes: the zero points, one per index along `axis`.
        public var zeroPoints: [Double]?
    }

    /// What a tensor's record adds to its summary (sparse layout, quantization, stored bytes).
    struct Extra {
        var layout: String?
        var storedValues: Int?
        var quantization: QuantizationSummary?
        var storedBytes: Int?
    }

    /// The tensors sharing a layer prefix (the name up to its last dot).
    public struct LayerSummary: Codable, Equatable, Sendable {
        /// The prefix (`resnet.4.0.conv1`); empty for names without a dot.
        public var name: String
        /// How many tensors have it.
        public var tensors: Int
        /// Their elements together.
        public var elements: Int
        /// Their bytes together, at their stored dtypes.
        public var bytes: Int
    }

    /// A tensor anywhere in the file, by its path in the pickled object.
    public struct LocatedTensorSummary: Codable, Equatable, Sendable {
        /// Dict keys and list positions joined by `.` (`optimizer.state.0.exp_avg`).
        public var path: String
        /// PyTorch's dtype name.
        public var dtype: String
        /// The shape; empty for a scalar.
        public var shape: [Int]
        /// Whether it is one of the state_dict's tensors (the table's rows).
        public var inStateDict: Bool
    }

    /// The tensors the state_dict leaves out, and where they are.
    public struct Outside: Codable, Equatable, Sendable {
        /// One top-level key (or list position) and how many of them it holds.
        public struct Place: Codable, Equatable, Sendable {
            /// The key, or the position for a list.
            public var key: String
            /// How many tensors outside the state_dict are under it.
            public var count: Int
        }
        /// How many tensors are outside the state_dict.
        public var count: Int
        /// Where they are, in file order.
        public var under: [Place]
    }

    /// Totals over the table's tensors (the state_dict).
    public struct Totals: Codable, Equatable, Sendable {
        /// How many tensors.
        public var tensors: Int
        /// Their elements together.
        public var elements: Int
        /// Their bytes together, at their stored dtypes.
        public var bytes: Int
    }

    /// The path inspected.
    public var file: String
    /// `pytorch-zip`, `pytorch-legacy`, `safetensors` or `crnn-bin`.
    public var format: String
    /// Facts about the file in a fixed order (layout, pickle protocol, ...).
    public var details: [Detail]
    /// The state_dict's tensors, in file order.
    public var tensors: [TensorSummary]
    /// The same tensors grouped by layer prefix, each layer once, in the
    /// order of its first tensor.
    public var layers: [LayerSummary]
    /// Totals over `tensors`.
    public var total: Totals
    /// The file's tensors outside the state_dict (an optimizer's state, an
    /// EMA copy, tensors in lists, a TorchScript module's plain tensor
    /// attributes); `nil` for a `.bin` or safetensors file, whose tensors are
    /// all the state_dict.
    public var outsideStateDict: Outside?
    /// Other dicts of tensors that could have been the state_dict and were
    /// not chosen, by path.
    public var passedOver: [String] = []
    /// Every tensor in the file by its path (`crnn-inspect --all`); `nil`
    /// unless asked for.
    public var allTensors: [LocatedTensorSummary]?

    /// A named fact about the file.
    public struct Detail: Codable, Equatable, Sendable {
        /// What the fact is (`layout`, `pickle protocol`, ...).
        public var key: String
        /// Its value, as shown.
        public var value: String
    }

    /// Builds the summaries and totals from named tensors.
    init(file: String, format: String, details: [(String, String)], tensors: [(name: String, dtype: DType, shape: [Int])],
         statistics: [TensorStatistics]?, extras: [Extra]? = nil) {
        self.file = file
        self.format = format
        self.details = details.map { Detail(key: $0.0, value: $0.1) }
        var summaries = [TensorSummary]()
        for (index, tensor) in tensors.enumerated() {
            let elements = tensor.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            let extra = extras?[index]
            summaries.append(TensorSummary(
                name: tensor.name, dtype: tensor.dtype.rawValue, shape: tensor.shape, elements: elements,
                bytes: extra?.storedBytes ?? elements &* tensor.dtype.byteWidth, stats: statistics?[index],
                layout: extra?.layout, storedValues: extra?.storedValues, quantization: extra?.quantization))
        }
        self.tensors = summaries
        var layers = [LayerSummary]()
        var positions = [String: Int]()
        for summary in summaries {
            let layer = InspectionReport.layerName(of: summary.name)
            if let position = positions[layer] {
                layers[position].tensors += 1
                layers[position].elements += summary.elements
                layers[position].bytes += summary.bytes
            } else {
                positions[layer] = layers.count
                layers.append(LayerSummary(name: layer, tensors: 1, elements: summary.elements, bytes: summary.bytes))
            }
        }
        self.layers = layers
        total = Totals(tensors: summaries.count, elements: summaries.reduce(0) { $0 &+ $1.elements },
                       bytes: summaries.reduce(0) { $0 &+ $1.bytes })
    }

    /// `resnet.4.0.conv1.weight` -> `resnet.4.0.conv1`; a name without a dot is its own layer.
    public static func layerName(of tensorName: String) -> String {
        guard let dot = tensorName.lastIndex(of: ".") else { return tensorName }
        return String(tensorName[..<dot])
    }
}
