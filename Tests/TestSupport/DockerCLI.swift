import Foundation

/// Drives the `docker` CLI against the engine named by `TAILGATE_TEST_DOCKER_HOST`, to set up
/// containers for the Docker client tests. Containers get `--network none` and a unique name.
public struct DockerCLI: Sendable {
    public static let hostVariable = "TAILGATE_TEST_DOCKER_HOST"
    public static var isConfigured: Bool { ProcessInfo.processInfo.environment[hostVariable] != nil }

    public let host: String
    /// A local image with busybox's `sh`, `echo`, `sleep`; nothing is pulled.
    public let image: String

    public init() {
        let environment = ProcessInfo.processInfo.environment
        host = environment[Self.hostVariable] ?? "unix:///var/run/docker.sock"
        image = environment["TAILGATE_TEST_IMAGE"] ?? "tailgate-test-busybox:latest"
    }

    public struct Failure: Error, CustomStringConvertible {
        public let arguments: [String]
        public let status: Int32
        public let output: String
        public var description: String { "docker \(arguments.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs `docker -H host arguments...` and returns its trimmed output.
    @discardableResult
    public func run(_ arguments: [String]) async throws -> String {
        let (status, output) = try await ChildProcess.run("docker", ["-H", host] + arguments)
        guard status == 0 else { throw Failure(arguments: arguments, status: status, output: output) }
        return output
    }

    /// Starts `sh -c script` detached, hands its id and name to `body`, and removes it afterwards, also on failure.
    public func withContainer<Result>(
        tty: Bool = false,
        script: String,
        _ body: (_ id: String, _ name: String) async throws -> Result
    ) async throws -> Result {
        let name = "tailgate-test-\(UUID().uuidString.prefix(8).lowercased())"
        var arguments = ["run", "-d", "--network", "none", "--name", name]
        if tty {
            arguments.append("-t")
        }
        arguments += [image, "sh", "-c", script]
        // Removed by name, so a container that was created but failed to start is cleaned up too.
        do {
            let result = try await body(try await run(arguments), name)
            _ = try? await run(["rm", "-f", name])
            return result
        } catch {
            _ = try? await run(["rm", "-f", name])
            throw error
        }
    }

    /// Returns once the container has exited.
    public func wait(_ id: String) async throws {
        try await run(["wait", id])
    }
}
