import COpenBLAS

/// Control over OpenBLAS's own worker threads. Every matrix product in this
/// module goes through OpenBLAS, so this decides how many cores one product
/// uses: set it to 1 when the caller runs several images on its own threads.
public enum BLASThreads {
    /// Sets the number of threads OpenBLAS uses for each product (at least 1).
    public static func setCount(_ count: Int) {
        openblas_set_num_threads(Int32(clamping: max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var count: Int { Int(openblas_get_num_threads()) }
}
