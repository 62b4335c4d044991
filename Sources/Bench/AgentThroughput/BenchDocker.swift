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

    /// Removes the container, running or not; failures only noted (this is cleanup).
    func remove(_ nameOrID: String) async {
        do { try await docker(["rm", "-f", nameOrID]) } catch { progressNote("cleanup: \(error)") }
    }

    func serverVersion() async throws -> String {
        try await docker(["version", "--format", "{{.Server.Version}}"])
    }

    @discardableResult
    private func docker(_ arguments: [String]) async throws -> String {
        try await ChildProcess.checkedOutput("docker", ["-H", host] + arguments)
    }
}

/// Docker's RFC 3339 times (`2025-01-01T12:34:56.123456789Z`, always UTC).
enum RFC3339 {
    static func nanoseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.last == UInt8(ascii: "Z"), let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var fraction: Int64 = 0
        if bytes.count > 21, bytes[19] == UInt8(ascii: ".") {
            let digits = bytes.count - 1 - 20
            guard digits <= 9, let value = number(20..<(bytes.count - 1)) else { return nil }
            fraction = value * Int64(pow(10.0, Double(9 - digits)))
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return seconds * 1_000_000_000 + fraction
    }

    /// Days from 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
