import CVectorKernels

extension VectorUnit {
    /// The C kernels of a vector unit (`crnn_vector_kernels`, one table per
    /// instruction set), or nil for `.portable`. Only reached after
    /// `checkAvailable()`: calling a table's functions on a CPU without its
    /// instruction set would fault.
    var vectorKernels: crnn_vector_kernels? {
        switch self {
        case .portable: nil
        case .avx512: crnn_vector_kernels_avx512().pointee
        case .avx2: crnn_vector_kernels_avx2().pointee
        }
    }
}
