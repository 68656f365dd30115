import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

/// The writer streams the file in pieces; these pin the pieces to the
/// one-shot definitions (`Checksum.crc` and the in-memory encoding).
@Suite("CRNN-BIN streaming writer")
struct StreamingTests {
    @Test("the running checksum equals the one-shot checksum however the bytes are split")
    func runningChecksumAnySplit() throws {
        let bytes = try Samples.smallFile()
        let whole = bytes.withUnsafeBytes { Checksum.crc(of: $0) }
        // Two-piece splits at every position up to past the checksum field, then uneven pieces.
        for split in 0...40 {
            var running = Checksum.Running()
            bytes.withUnsafeBytes { raw in
                running.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                running.update(UnsafeRawBufferPointer(rebasing: raw[split...]))
            }
            #expect(running.value == whole, "split at \(split)")
        }
        var running = Checksum.Running()
        var start = 0
        var size = 1
        bytes.withUnsafeBytes { raw in
            while start < raw.count {
                let end = min(raw.count, start + size)
                running.update(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
                size += 3
            }
        }
        #expect(running.value == whole)
    }

    @Test("the file written to disk equals the in-memory encoding, byte for byte")
    func writtenEqualsEncoded() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.bin")
        for floatType in [DType.float32, .float16] {
            let tensors = try Samples.mixedTensors()
            try CRNNFileWriter.write(metadata: Samples.metadata(floatType), tensors: tensors, floatType: floatType, to: url)
            let written = try [UInt8](Data(contentsOf: url))
            #expect(written == (try Samples.fileBytes(tensors, floatType: floatType)), "\(floatType)")
            let stored = written[FileHeader.checksumRange].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.1) << (8 * $1.0) }
            #expect(stored == written.withUnsafeBytes { Checksum.crc(of: $0) })
        }
    }

    @Test("tensor data that does not fill its entry is refused")
    func shortTensorData() throws {
        let layout = FileLayout(metadataJSON: Array("{}".utf8), tensors: [("w", .float32, [2], 8)])
        #expect(throws: FileLayout.DataLengthMismatch.self) {
            _ = try layout.encode { _, emit in try [UInt8](repeating: 0, count: 4).withUnsafeBytes(emit) }
        }
    }

    @Test("a file of several early-sync intervals, in pieces large and small, is written exactly")
    func largeFileWithEarlySyncs() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("large.bin")
        var expected = [UInt8]()
        var generator = SplitMix64(seed: 7)
        let sizes = [3, 1 << 20, 17, 5 << 20, 64, 3 << 20, 1 << 16, 1]
        try AtomicFile.write(to: url.path) { output throws(AtomicFile.Failure) in
            for size in sizes {
                let piece = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                expected.append(contentsOf: piece)
                let failure: AtomicFile.Failure? = piece.withUnsafeBytes { raw in
                    do throws(AtomicFile.Failure) { try output.append(raw) } catch { return error }
                    return nil
                }
                if let failure { throw failure }
            }
        }
        #expect(expected.count > 2 * AtomicFile.Output.earlySyncInterval)
        #expect(try [UInt8](Data(contentsOf: url)) == expected)
    }
}
