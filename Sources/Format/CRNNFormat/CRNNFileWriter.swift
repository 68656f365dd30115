#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
package import TensorCore

/// What `CRNNFileWriter.write` produced.
package struct CRNNFileSummary: Equatable, Sendable {
    /// The file's size in bytes.
    package let bytesWritten: Int
    /// How many tensors it holds.
    package let tensorCount: Int
    /// The total number of elements over all tensors.
    package let parameterCount: Int
}

/// Writes CRNN-BIN files (`formats/CRNN-BIN.md`).
package enum CRNNFileWriter {
    /// Writes `tensors` (in order) and `metadata` to `url`.
    ///
    /// Writes atomically: to a temporary file in the destination's folder,
    /// fsync, then rename over `url`; on any error the temporary file is
    /// removed and nothing at `url` changes. Float tensors are stored as
    /// `floatType` (.float32 or .float16), converted with round-to-nearest-even
    /// straight from the source value (float16, bfloat16, float32 and float64
    /// sources alike); integer and bool tensors are kept as they are. Every
    /// tensor is stored contiguously, whatever its strides.
    /// - Throws: `CRNNFormatError.unsupportedFloatType` for another float
    ///   type; `.badMetadata` when the metadata breaks a documented constraint
    ///   or its `storedFloatType` differs from `floatType`;
    ///   `.duplicateTensorName`, `.badDirectory` (empty or too long name) and
    ///   `.badShape` (rank above 8) for tensors the format cannot hold;
    ///   `.writeFailed` when the file system refuses.
    @discardableResult
    package static func write(
        metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, to url: URL
    ) throws(CRNNFormatError) -> CRNNFileSummary {
        do {
            return try write(metadata: metadata, tensors: tensors, floatType: floatType, to: url, check: { _ in })
        } catch let error as CRNNFormatError {
            throw error
        } catch {
            // Unreachable: only `check` throws other errors, and this one does not throw.
            throw .writeFailed(file: url.path, reason: "\(error)")
        }
    }

    /// Writes like `write(metadata:tensors:floatType:to:)`, and calls
    /// `check(temporaryPath)` once the complete file is in its temporary
    /// place, before it replaces `url`; `check` runs while another thread
    /// syncs the file to disk, so reading the file back there costs no
    /// extra wall time. Files `check` opens should be named after `url` in
    /// its errors (see `CRNNFile.open(path:name:)`).
    /// The destination must be a new name, a regular file (the new file keeps
    /// its permission bits) or a symbolic link (replaced itself; its target
    /// is left alone).
    /// - Throws: the errors of `write`, or what `check` throws, unchanged;
    ///   `.destinationNotRegularFile` for a folder, FIFO, socket or device at
    ///   `url`, `.destinationNamesFolder` for a `url` whose path is a
    ///   directory path (`hasDirectoryPath`, a trailing `/`); either way
    ///   nothing at `url` changes.
    @discardableResult
    package static func write(
        metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, to url: URL,
        check: (_ temporaryPath: String) throws -> Void
    ) throws -> CRNNFileSummary {
        let path = url.path
        let plan = try Plan(metadata: metadata, tensors: tensors, floatType: floatType, file: path)
        do {
            // `url.path` drops a trailing slash; the destination check must see it.
            try AtomicFile.write(to: url.hasDirectoryPath ? path + "/" : path, check: check) { output throws(AtomicFile.Failure) in
                let crc: UInt32
                do {
                    crc = try plan.layout.stream({ try output.append($0) }, tensorData: plan.emitData)
                } catch let failure as AtomicFile.Failure {
                    throw failure
                } catch {
                    throw AtomicFile.Failure(reason: "\(error)")
                }
                try output.overwrite(FileLayout.checksumBytes(crc), at: FileHeader.checksumRange.lowerBound)
            }
        } catch {
            if let checkError = error.checkError { throw checkError }
            switch error.refusal {
            case let .notARegularFile(kind): throw CRNNFormatError.destinationNotRegularFile(file: path, kind: kind)
            case .folderName: throw CRNNFormatError.destinationNamesFolder(file: path)
            case nil: throw CRNNFormatError.writeFailed(file: path, reason: error.reason)
            }
        }
        return CRNNFileSummary(
            bytesWritten: plan.layout.fileSize, tensorCount: tensors.count,
            parameterCount: tensors.reduce(0) { $0 + $1.tensor.elementCount })
    }

    /// The complete file bytes `write` would store; `file` names the
    /// destination in errors.
    /// - Throws: the same content errors as `write`.
    static func encode(
        metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, file: String
    ) throws(CRNNFormatError) -> [UInt8] {
        let plan = try Plan(metadata: metadata, tensors: tensors, floatType: floatType, file: file)
        do {
            return try plan.layout.encode(tensorData: plan.emitData)
        } catch {
            // Unreachable: the plan's lengths are the stored bytes' own.
            throw .writeFailed(file: file, reason: "\(error)")
        }
    }

    /// A checked file to be written: the layout, and each tensor with the
    /// dtype it is stored as.
    struct Plan {
        let layout: FileLayout
        private let tensors: [(tensor: Tensor, storedType: DType)]

        /// Checks metadata and tensors against the format and lays them out.
        /// - Throws: the content errors listed at `write`.
        init(
            metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, file: String
        ) throws(CRNNFormatError) {
            guard floatType == .float32 || floatType == .float16 else {
                throw .unsupportedFloatType(file: file, requested: floatType)
            }
            guard metadata.storedFloatType == floatType else {
                throw .badMetadata(file: file, reason: "storedFloatType \(metadata.storedFloatType.rawValue) differs from the requested float type \(floatType.rawValue)")
            }
            if let violation = metadata.violation { throw .badMetadata(file: file, reason: violation) }
            let json: [UInt8]
            do { json = try MetadataCoding.encode(metadata) } catch {
                throw .badMetadata(file: file, reason: "cannot encode: \(error)")
            }
            guard json.count <= FormatLimits.maxMetadataLength else {
                throw .badMetadata(file: file, reason: "\(json.count) bytes of JSON exceed \(FormatLimits.maxMetadataLength)")
            }
            var seen = Set<String>()
            var items: [(name: String, dtype: DType, shape: [Int], byteLength: Int)] = []
            for (name, tensor) in tensors {
                let nameLength = name.utf8.count
                guard nameLength >= 1, nameLength <= FormatLimits.maxNameLength else {
                    throw .badDirectory(file: file, reason: "tensor name '\(name)' has \(nameLength) bytes, allowed 1...\(FormatLimits.maxNameLength)")
                }
                guard seen.insert(name).inserted else { throw .duplicateTensorName(file: file, name: name) }
                guard tensor.shape.count <= FormatLimits.maxRank else {
                    throw .badShape(file: file, tensor: name, shape: tensor.shape, reason: "rank above \(FormatLimits.maxRank)")
                }
                let dtype = tensor.dtype.isFloatingPoint ? floatType : tensor.dtype
                guard DTypeCode.code(for: dtype) != nil else {
                    throw .dtypeNotStorable(file: file, tensor: name, dtype: dtype)
                }
                items.append((name, dtype, tensor.shape, tensor.elementCount * dtype.byteWidth))
            }
            layout = FileLayout(metadataJSON: json, tensors: items)
            self.tensors = zip(tensors, items).map { ($0.tensor, $1.dtype) }
        }

        /// Emits the stored bytes of tensor `index`: its own bytes when it
        /// is kept as it is (no copy when contiguous), else converted.
        func emitData(_ index: Int, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
            let (tensor, storedType) = tensors[index]
            if tensor.dtype == storedType {
                try tensor.withContiguousBytes(emit)
            } else {
                try storedBytes(of: tensor, as: storedType).withUnsafeBytes(emit)
            }
        }
    }

    /// The tensor's elements packed row-major as `dtype` (its own dtype, or
    /// float32/float16 for a float tensor), little-endian.
    static func storedBytes(of tensor: Tensor, as dtype: DType) -> [UInt8] {
        if tensor.dtype == dtype { return tensor.contiguousBytes() }
        var out = ByteAppender()
        switch dtype {
        case .float16:
            tensor.forEachElement { out.append(HalfPrecision.bits(from: $0)) }
        default:  // .float32, the only other stored float type
            tensor.forEachElement { out.append(Float($0).bitPattern) }
        }
        return out.bytes
    }
}
