import Foundation
@testable import CRNNFormat
import TensorCore
import Testing
import TestSupport

@Suite("CRNN-BIN rejects damaged files")
struct CorruptionTests {
    /// The error `body` throws, or `nil` if it succeeds.
    private func error(_ bytes: [UInt8]) -> CRNNFormatError? {
        do { _ = try Samples.open(bytes); return nil } catch { return error }
    }

    @Test("every truncation is reported as truncated, with the sizes")
    func truncation() throws {
        let bytes = try Samples.smallFile()
        for length in 0..<bytes.count {
            let expected = length < 64 ? 64 : bytes.count
            #expect(error(Array(bytes[0..<length])) == .truncated(file: "test.bin", expectedSize: expected, actualSize: length),
                    "cut at \(length)")
        }
    }

    @Test("trailing bytes are a size mismatch")
    func trailingBytes() throws {
        let bytes = try Samples.smallFile()
        #expect(error(bytes + [0]) == .sizeMismatch(file: "test.bin", declaredSize: bytes.count, actualSize: bytes.count + 1))
    }

    @Test("flipping any single byte anywhere is detected")
    func everySingleByteFlip() throws {
        let bytes = try Samples.smallFile()
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = bytes
                damaged[position] ^= mask
                #expect(error(damaged) != nil, "byte \(position) ^ \(mask) was accepted")
            }
        }
    }

    @Test("a flipped data byte is a checksum mismatch naming both CRCs")
    func checksumMismatch() throws {
        var bytes = try Samples.smallFile()
        let stored = UInt32(bytes[24]) | UInt32(bytes[25]) << 8 | UInt32(bytes[26]) << 16 | UInt32(bytes[27]) << 24
        bytes[bytes.count - 1] ^= 0x40
        guard case let .checksumMismatch(_, reported, computed) = error(bytes) else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error(bytes)))")
            return
        }
        #expect(reported == stored)
        #expect(computed != stored)
    }

    @Test("wrong magic reports the bytes found")
    func wrongMagic() throws {
        var bytes = try Samples.smallFile()
        bytes.replaceSubrange(0..<8, with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(error(bytes) == .notACRNNFile(file: "test.bin", foundMagic: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(error(Array("PK\u{3}\u{4}".utf8)) == .notACRNNFile(file: "test.bin", foundMagic: [0x50, 0x4B, 3, 4]))
    }

    @Test("a future or zero major version is unsupported, even with a valid checksum")
    func unsupportedMajor() throws {
        let bytes = try Samples.smallFile()
        #expect(error(Samples.patched(bytes, at: 8, UInt16(2)))
                == .unsupportedVersion(file: "test.bin", major: 2, minor: 0, supportedMajor: 1))
        #expect(error(Samples.patched(bytes, at: 8, UInt16(0)))
                == .unsupportedVersion(file: "test.bin", major: 0, minor: 0, supportedMajor: 1))
        // A short file of another major still says which version it is.
        var short = Array(bytes[0..<12])
        short[8] = 3
        #expect(error(short) == .unsupportedVersion(file: "test.bin", major: 3, minor: 0, supportedMajor: 1))
    }

    @Test("header regions outside the file are rejected")
    func badRegions() throws {
        let bytes = try Samples.smallFile()
        let metadataLength = Samples.u64(bytes, at: 40)
        guard case .badHeader(_, "metadata_offset", _)? = error(Samples.patched(bytes, at: 32, UInt64(8))) else {
            Issue.record("metadata inside the header accepted"); return
        }
        guard case .badHeader(_, "metadata_length", _)? = error(Samples.patched(bytes, at: 40, UInt64(1 << 40))) else {
            Issue.record("huge metadata length accepted"); return
        }
        guard case .badHeader(_, "directory_offset", _)? = error(Samples.patched(bytes, at: 48, UInt64(64 + metadataLength - 1))) else {
            Issue.record("directory overlapping the metadata accepted"); return
        }
        guard case .badHeader(_, "directory_length", _)? = error(Samples.patched(bytes, at: 56, UInt64.max)) else {
            Issue.record("directory past the end accepted"); return
        }
    }

    @Test("directory entries with bad offsets, lengths, dtypes, ranks and names are rejected")
    func badEntries() throws {
        let bytes = try Samples.smallFile()
        let field = Samples.firstEntryFields(bytes)
        let offset = Samples.u64(bytes, at: field.offset)
        let name = "a.weight"
        guard case .badOffset(_, name, _, _, _)? = error(Samples.patched(bytes, at: field.offset, UInt64(offset + 8))) else {
            Issue.record("misaligned data accepted"); return
        }
        guard case .badOffset(_, name, _, _, _)? = error(Samples.patched(bytes, at: field.offset, UInt64(offset + 1 << 20))) else {
            Issue.record("data past the end accepted"); return
        }
        guard case .badOffset(_, name, _, _, _)? = error(Samples.patched(bytes, at: field.offset, UInt64(0))) else {
            Issue.record("data over the header accepted"); return
        }
        guard case .badShape(_, name, [2, 3], _)? = error(Samples.patched(bytes, at: field.length, UInt64(20))) else {
            Issue.record("byte length not matching the shape accepted"); return
        }
        guard case .badShape(_, name, _, _)? = error(Samples.patched(bytes, at: field.shape, UInt64.max)) else {
            Issue.record("huge dimension accepted"); return
        }
        #expect(error(Samples.patched(bytes, at: field.dtype, UInt16(99))) == .unsupportedDType(file: "test.bin", tensor: name, code: 99))
        #expect(error(Samples.patched(bytes, at: field.dtype, UInt16(0))) == .unsupportedDType(file: "test.bin", tensor: name, code: 0))
        guard case .badShape(_, name, [], _)? = error(Samples.patched(bytes, at: field.rank, UInt16(9))) else {
            Issue.record("rank 9 accepted"); return
        }
        guard case .badDirectory? = error(Samples.patched(bytes, at: field.name, UInt32(0))) else {
            Issue.record("empty name accepted"); return
        }
        guard case .badDirectory? = error(Samples.patched(bytes, at: field.name + 4, UInt8(0xFF))) else {
            Issue.record("invalid UTF-8 name accepted"); return
        }
        guard case .badDirectory? = error(Samples.patched(bytes, at: 28, UInt32(2))) else {
            Issue.record("leftover directory bytes accepted"); return
        }
        guard case .badDirectory? = error(Samples.patched(bytes, at: 28, UInt32(4))) else {
            Issue.record("entry past the directory accepted"); return
        }
    }

    @Test("duplicate names and float types other than the declared one are rejected")
    func duplicateAndFloatType() throws {
        let json = try MetadataCoding.encode(Samples.metadata())
        let one = StoredTensor(name: "x", dtype: .float32, shape: [1], bytes: [0, 0, 0, 0])
        #expect(error(FileLayout.encode(metadataJSON: json, tensors: [one, one])) == .duplicateTensorName(file: "test.bin", name: "x"))
        let half = StoredTensor(name: "h", dtype: .float16, shape: [1], bytes: [0, 0])
        #expect(error(FileLayout.encode(metadataJSON: json, tensors: [half]))
                == .floatTypeMismatch(file: "test.bin", tensor: "h", found: .float16, declared: .float32))
    }

    @Test("metadata that is not JSON, misses a key or breaks a constraint is rejected")
    func badMetadata() throws {
        func reason(_ json: String) -> String? {
            if case let .badMetadata(_, reason)? = error(FileLayout.encode(metadataJSON: Array(json.utf8), tensors: [])) {
                return reason
            }
            return nil
        }
        let valid = String(decoding: try MetadataCoding.encode(Samples.metadata()), as: UTF8.self)
        #expect(reason("[1, 2]") == "not a JSON object")
        #expect(reason("37") == "not a JSON object")
        #expect(reason("{\"architecture\": ") == "not valid JSON")
        #expect(reason("{}")?.contains("missing") == true)
        #expect(reason(valid.replacingOccurrences(of: "\"blank_index\":0", with: "\"blank_index\":37")) != nil)
        // JSON that parses but holds a wrong type names the key, never the decoder's text.
        #expect(reason(valid.replacingOccurrences(of: "\"hidden_size\":256", with: "\"hidden_size\":\"256\""))
                == "key 'hidden_size' has the wrong type (expected an integer)")
        #expect(reason(valid.replacingOccurrences(of: "\"trunk_widths\":[64,", with: "\"trunk_widths\":[\"64\","))
                == "key 'trunk_widths[0]' has the wrong type (expected an integer)")
        #expect(reason(valid.replacingOccurrences(of: "\"alphabet\":\"", with: "\"alphabet\":7,\"x\":\""))
                == "key 'alphabet' has the wrong type (expected a string)")
        // A control character would break FILE<TAB>TEXT output: refused by the reader too.
        #expect(reason(valid.replacingOccurrences(of: "xyz", with: "xy\\t"))?.contains("control character U+9") == true)
        #expect(reason(valid.replacingOccurrences(of: "xyz", with: "xyy")) == "alphabet repeats a character")
        #expect(reason(valid.replacingOccurrences(of: "\"float32\"", with: "\"float64\"")) != nil)
        #expect(reason(valid.replacingOccurrences(of: "0f0f", with: "0F0F")) != nil)
        #expect(reason(valid) == nil)
        #expect(reason(String(repeating: "[", count: 200_000)) != nil)
        #expect(reason(String(repeating: "{\"a\":", count: 100_000)) != nil)
        var invalidUTF8 = Array(valid.utf8)
        invalidUTF8[invalidUTF8.count - 3] = 0xC3
        guard case .badMetadata? = error(FileLayout.encode(metadataJSON: invalidUTF8, tensors: [])) else {
            Issue.record("invalid UTF-8 metadata accepted"); return
        }
    }

    @Test("random damage with a repaired checksum never traps")
    func fuzzStructure() throws {
        let bytes = try Samples.smallFile()
        let dataStart = FileLayout.aligned(Samples.u64(bytes, at: 48) + Samples.u64(bytes, at: 56))
        var random = SplitMix64(seed: 2026)
        var rejected = 0
        let rounds = 3000
        for _ in 0..<rounds {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 8..<dataStart, using: &random)
                damaged[position] = random.next() % 2 == 0 ? UInt8.random(in: 0...255, using: &random) : damaged[position] ^ 0x80
            }
            FileLayout.refreshChecksum(of: &damaged)
            if error(damaged) != nil { rejected += 1 }
        }
        #expect(rejected > rounds / 2, "only \(rejected) of \(rounds) structural mutations were rejected")
    }
}
