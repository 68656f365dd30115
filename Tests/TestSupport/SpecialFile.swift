import Foundation
import Testing
import SystemShim

/// The things a path can name besides a regular file, made for tests that
/// check the tools refuse them: a FIFO, a unix socket, a folder, and a
/// character device (a copy of /dev/null's device node, made with mknod in
/// the test's own folder so that a wrong tool can only harm the copy).
public enum SpecialFile: String, CaseIterable, Sendable {
    case fifo, socket, directory, device

    /// Makes one at `path`; returns how the tools name its kind ("a FIFO",
    /// ...), or `nil` for a device when this process may not make one (not
    /// root), after recording an issue if it is root.
    public static func make(_ kind: SpecialFile, at path: String) throws -> String? {
        switch kind {
        case .fifo:
            try #require(mkfifo(path, 0o644) == 0)
            return "a FIFO"
        case .socket:
            try makeSocket(path)
            return "a socket"
        case .directory:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            return "a directory"
        case .device:
            // The device /dev/null is (only read from it, never written).
            var null = stat()
            try #require(stat("/dev/null", &null) == 0 && null.st_mode & S_IFMT == S_IFCHR)
            guard mknod(path, S_IFCHR | 0o666, null.st_rdev) == 0 else {
                #expect(geteuid() != 0, "mknod failed as root: \(String(cString: strerror(errno)))")
                return nil
            }
            return "a character device"
        }
    }

    /// `lstat` of `path`: its type and permission bits, inode, device and
    /// device number (what a tool that leaves it alone does not change).
    public static func identity(_ path: String) throws -> [UInt64] {
        var info = stat()
        try #require(lstat(path, &info) == 0, "lstat \(path)")
        return [UInt64(info.st_mode), UInt64(info.st_ino), UInt64(info.st_dev), UInt64(info.st_rdev)]
    }

    /// Binds a unix socket at `path` (closed again; the file stays).
    private static func makeSocket(_ path: String) throws {
        let fd = systemUnixStreamSocket()
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long: \(path)")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
    }
}
