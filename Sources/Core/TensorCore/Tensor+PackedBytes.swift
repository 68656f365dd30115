import SystemShim

extension Tensor {
    /// True when this tensor's elements, packed in row-major order, are the
    /// same bytes as `other`'s (compared in place when both are contiguous).
    /// Dtypes and shapes are not compared: only the packed bytes.
    public func hasSamePackedBytes(as other: Tensor) -> Bool {
        withContiguousBytes { first in
            other.withContiguousBytes { second in
                guard first.count == second.count else { return false }
                guard let x = first.baseAddress, let y = second.baseAddress else { return true }
                return memcmp(x, y, first.count) == 0
            }
        }
    }
}
