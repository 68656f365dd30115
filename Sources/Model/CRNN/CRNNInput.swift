/// One RGB image as the model reads it: three planes (R, G, B) of
/// `height` x `width` float32 values, byte / 255, no normalisation.
public struct CRNNInput: Sendable {
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// `[3, height, width]` row-major.
    public let planes: [Float]

    /// An image from its planes.
    /// - Throws: `CRNNError.inputSize` when a size is below 1 or `planes`
    ///   does not hold 3 x height x width values.
    public init(height: Int, width: Int, planes: [Float]) throws {
        let (area, o1) = height.multipliedReportingOverflow(by: width)
        let (count, o2) = area.multipliedReportingOverflow(by: 3)
        guard height >= 1, width >= 1, !o1, !o2, planes.count == count else {
            throw CRNNError.inputSize(height: height, width: width, values: planes.count)
        }
        self.height = height
        self.width = width
        self.planes = planes
    }
}

/// The model's output for one image: a score per class per time step (the
/// `[T, 1, C]` CTC-layout tensor of PyTorch with the batch axis dropped).
public struct Logits: Sendable, Equatable {
    /// Time steps (T), one per 16 image columns.
    public let timeSteps: Int
    /// Classes per step (C), the blank included.
    public let classes: Int
    /// `[T, C]` row-major.
    public let values: [Float]

    /// Logits from their values.
    /// - Throws: `CRNNError.logitsShape` when a size is below 1 or `values`
    ///   does not hold timeSteps x classes numbers.
    public init(timeSteps: Int, classes: Int, values: [Float]) throws {
        let (count, overflow) = timeSteps.multipliedReportingOverflow(by: classes)
        guard timeSteps >= 1, classes >= 1, !overflow, values.count == count else {
            throw CRNNError.logitsShape(timeSteps: timeSteps, classes: classes, values: values.count)
        }
        self.timeSteps = timeSteps
        self.classes = classes
        self.values = values
    }

    /// The best class of every step, as `torch.argmax`: the first maximum wins
    /// (and a NaN counts as the maximum, the first one winning).
    public var bestClasses: [Int] {
        (0..<timeSteps).map { t in
            let row = values[(t * classes)..<((t + 1) * classes)]
            var best = row.startIndex
            for i in row.indices {
                if row[best].isNaN { break }
                if row[i].isNaN || row[i] > row[best] { best = i }
            }
            return best - row.startIndex
        }
    }
}
