import Foundation
import TestSupport

/// The `docker` CLI against the engine under test: containers for the agent to follow.
struct BenchDocker: Sendable {
    /// `unix:///path/docker.sock`.
    let host: String
    let image: String

    /// The socket path, for `curl --unix-socket`.
    var socketPath: String? {
        host.hasPrefix("unix://") ? String(host.dropFirst("unix://".count)) : nil
    }

    /// When a container was created, started and finished, as Docker recorded it.
    struct Times {
        var created: String
        var startedNanoseconds: Int64
        var finishedNanoseconds: Int64
    }

    /// Starts `sh -c script` detached, without network, and returns the full container id.
    func run(name: String, script: String) async throws -> String {
        let output = try await docker(["run", "-d", "--network", "none", "--name", name, image, "sh", "-c", script])
        // The id is the last line: the CLI may print warnings before it.
        guard let id = output.split(whereSeparator: \.isNewline).last.map(String.init), id.utf8.count == 64 else {
            throw BenchError("docker run printed no container id: \(output.suffix(300))")
        }
        return id
    }

    func waitForExit(_ id: String) async throws {
        try await docker(["wait", id])
    }

    func times(_ id: String) async throws -> Times {
        let output = try await docker(["inspect", "-f", "{{.Created}} {{.State.StartedAt}} {{.State.FinishedAt}}", id])
        let parts = output.split(separator: " ").map(String.init)
        guard parts.count == 3, let started = RFC3339.nanoseconds(parts[1]), let finished = RFC3339.nanoseconds(parts[2]) else {
            throw BenchError("cannot read the times of container \(id): \(output)")
        }
        return Times(created: parts[0], startedNanoseconds: started, finishedNanoseconds: finished)
    }

    /// When a container whose script sleeps `delay` seconds first began to print.
    func printStart(_ id: String, afterSleeping delay: Int) async throws -> Date {
        let started = try await times(id).startedNanoseconds
        return Date(timeIntervalSince1970: Double(started) / 1e9 + Double(delay))
    }

    /// Removes the container, running or not; failures only noted (this is cleanup).
    func remove(_ nameOrID: String) async {
        do { try await docker(["rm", "-f", nameOrID]) } catch { progressNote("cleanup: \(error)") }
    }

    /// Removes every container whose name starts with `prefix`, in one `docker rm`.
    func removeAll(namePrefix prefix: String) async {
        do {
            let ids = try await docker(["ps", "-aq", "--filter", "name=^/\(prefix)"]).split(whereSeparator: \.isNewline).map(String.init)
            if !ids.isEmpty { try await docker(["rm", "-f"] + ids) }
        } catch {
            progressNote("cleanup: \(error)")
        }
    }

    @discardableResult
    private func docker(_ arguments: [String]) async throws -> String {
        try await ChildProcess.checkedOutput("docker", ["-H", host] + arguments)
    }
}
