import Foundation
import SystemShim

/// A program run to completion, with its own wall time and peak memory.
struct ChildRun {
    let seconds: Double
    /// The child's peak resident set, in megabytes (from wait4's rusage).
    let peakMegabytes: Double
    let status: Int32
    let output: String
}

enum ChildProcess {
    /// Runs `path` with `arguments` (and this process's environment with
    /// `environment` added), capturing standard output, and measures it from
    /// spawn to exit.
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildRun {
        var pipe: [Int32] = [0, 0]
        guard systemPipe(&pipe) == 0 else { throw BenchError.spawn(path, "no pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in environment { variables[key] = value }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            throw BenchError.spawn(path, String(cString: strerror(spawned)))
        }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = read(pipe[0], &chunk, chunk.count)
            if got <= 0 { break }
            output.append(contentsOf: chunk[0..<got])
        }
        close(pipe[0])
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ChildRun(seconds: seconds, peakMegabytes: Double(usage.ru_maxrss) / 1024,
                        status: (status >> 8) & 0xFF, output: String(decoding: output, as: UTF8.self))
    }
}

enum BenchError: Error, CustomStringConvertible {
    case spawn(String, String)
    case failed(String, Int32)

    var description: String {
        switch self {
        case let .spawn(path, reason): "cannot run \(path): \(reason)"
        case let .failed(what, status): "\(what) exited with status \(status)"
        }
    }
}
