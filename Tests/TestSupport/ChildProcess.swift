import Foundation
import Glibc

/// A child process started with `posix_spawn` and stopped by its pid.
///
/// Foundation's `Process.waitUntilExit` can spin forever off the main thread
/// on Linux; tests start and stop many servers, so they use this instead.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let executable: String

    /// Starts `executable` (a path, or a name looked up in `PATH`) with its output
    /// appended to `outputPath` (default: discarded).
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, outputPath: String = "/dev/null") throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }

        var pid: pid_t = 0
        let status = posix_spawnp(&pid, executable, &actions, nil, argv, environment)
        guard status == 0 else {
            throw TestSetupError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Whether the process has exited (and reaps it if so).
    public var hasExited: Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result == -1 && errno == ECHILD)
    }

    /// Waits for the exit on a thread of its own, so the cooperative pool stays free.
    @discardableResult
    public func exit() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread { [self] in continuation.resume(returning: waitForExit()) }.start()
        }
    }

    /// Waits for the exit, blocking the calling thread; returns the exit code (128 + signal when killed).
    @discardableResult
    public func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace`.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Int32 {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if hasExited { return 0 }
            try? await Task.sleep(for: .milliseconds(10))
        }
        signal(SIGKILL)
        return await exit()
    }

    /// Runs a command to completion and returns its exit code and output (stdout and stderr together).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tailgate-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try ChildProcess(executable, arguments, environment: environment, outputPath: outputPath)
        let status = await process.exit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension ChildProcess {
    /// Like `run`, but a non-zero exit is an error carrying the output.
    @discardableResult
    public static func checkedOutput(_ executable: String, _ arguments: [String]) async throws -> String {
        let result = try await run(executable, arguments)
        guard result.status == 0 else {
            throw TestSetupError("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output.suffix(500))")
        }
        return result.output
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
