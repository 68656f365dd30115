import Dispatch

/// The `async` faces: the same work as the blocking calls, run on a
/// Dispatch thread so that the cooperative thread pool's threads, which
/// must never block, stay free while the model computes (and while the
/// call waits for its turn on the recognizer's cores).
extension TextRecognizer {
    /// Reads the text of a PNG or JPEG file (see `recognize(file:options:)`).
    /// - Throws: as the blocking call.
    public func recognize(file path: String,
                          options: RecognitionOptions = RecognitionOptions()) async throws(RecognitionError) -> Recognition {
        try await offloaded { () throws(RecognitionError) in try self.recognize(file: path, options: options) }
    }

    /// Reads the text of a PNG or JPEG image in memory (see `recognize(encoded:name:options:)`).
    /// - Throws: as the blocking call.
    public func recognize(encoded bytes: [UInt8], name: String = "encoded image",
                          options: RecognitionOptions = RecognitionOptions()) async throws(RecognitionError) -> Recognition {
        try await offloaded { () throws(RecognitionError) in try self.recognize(encoded: bytes, name: name, options: options) }
    }

    /// Reads the text of pixels the caller handed over (see `recognize(_:name:options:)`).
    /// - Throws: as the blocking call.
    public func recognize(_ image: PixelImage, name: String = "pixels",
                          options: RecognitionOptions = RecognitionOptions()) async throws(RecognitionError) -> Recognition {
        try await offloaded { () throws(RecognitionError) in try self.recognize(image, name: name, options: options) }
    }

    /// Reads every image, one result per image in order (see `recognize(_:options:)`).
    public func recognize(_ images: [ImageSource],
                          options: RecognitionOptions = RecognitionOptions()) async -> [Result<Recognition, RecognitionError>] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: self.recognize(images, options: options))
            }
        }
    }

    /// Runs `work` on a Dispatch thread and resumes with its result.
    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(RecognitionError) -> T) async throws(RecognitionError) -> T {
        let result: Result<T, RecognitionError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(RecognitionError) in try work() })
            }
        }
        return try result.get()
    }
        }
