// The platform shim: the one file of the package that names the C library
// of the platform (Glibc on Linux, Darwin on Apple systems). Every other
// module imports SystemShim for the system calls it makes, so a port to
// another platform starts, and mostly ends, here.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#else
#error("SystemShim: no C library for this platform (Glibc or Darwin expected)")
#endif

/// `write(2)`, by a name that types with a `write` method of their own (and
/// `print`) do not shadow.
/// - Returns: the bytes written, or -1 with `errno` set.
@inlinable
package func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// `pipe(2)`: `descriptors` receives the read and the write end.
/// - Returns: 0, or -1 with `errno` set.
@inlinable
package func systemPipe(_ descriptors: UnsafeMutablePointer<Int32>) -> Int32 {
    pipe(descriptors)
}

/// `socket(2)` for a Unix-domain stream socket.
/// - Returns: the descriptor, or -1 with `errno` set.
package func systemUnixStreamSocket() -> Int32 {
    #if canImport(Glibc)
    socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
    socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
}

/// The CPU time the calling thread has used (`clock_gettime` with
/// `CLOCK_THREAD_CPUTIME_ID`), in seconds: unlike the wall clock, it does not
/// grow while other processes hold the core.
package func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The processors online (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
package func onlineProcessorCount() -> Int {
    max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}
