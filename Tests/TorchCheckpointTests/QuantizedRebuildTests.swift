import Testing
@testable import Pickle
@testable import TorchCheckpoint

/// A hostile per-channel quantized tensor is refused with an error, never a
/// trap: its scale tensor's shape is read before any storage check.
struct QuantizedRebuildTests {
    static func tensor(key: String, storage: String, shape: [Int]) -> PickleValue {
        let id = PickleValue.tuple([.string("storage"), .global(PickleGlobal("torch", storage)), .string(key), .string("cpu"), .int(4)])
        return .call(PickleGlobal("torch._utils", "_rebuild_tensor_v2"),
                     arguments: [.persistent(id), .int(0), .tuple(shape.map { .int($0) }), .tuple(shape.map { _ in .int(1) }),
                                 .bool(false), .none],
                     state: nil)
    }

    @Test func aScaleTensorWhoseElementCountOverflowsIsRefused() throws {
        let quantized = PickleValue.call(
            PickleGlobal("torch._utils", "_rebuild_qtensor"),
            arguments: [
                .persistent(.tuple([.string("storage"), .global(PickleGlobal("torch", "QUInt8Storage")), .string("0"),
                                    .string("cpu"), .int(4)])),
                .int(0), .tuple([.int(4)]), .tuple([.int(1)]),
                .tuple([.global(PickleGlobal("torch", "per_channel_affine")),
                        Self.tensor(key: "1", storage: "DoubleStorage", shape: [1 << 40, 1 << 40]),
                        Self.tensor(key: "2", storage: "LongStorage", shape: [4]), .int(0)]),
                .bool(false), .none,
            ],
            state: nil)
        #expect(throws: CheckpointError.self) {
            _ = try TensorRebuild.record(from: quantized, name: "q", file: "hostile.pt")
        }
    }
}
