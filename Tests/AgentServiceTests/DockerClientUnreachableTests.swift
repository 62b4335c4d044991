import Foundation
import Testing
@testable import AgentService

/// No engine needed: these check how a missing or refusing engine is reported.
@Suite struct DockerClientUnreachableTests {
    /// Connects and returns the failure's description, expecting `.unreachable` quickly.
    func unreachableDescription(_ endpoint: DockerEndpoint) async throws -> String {
        let started = ContinuousClock.now
        do {
            let client = try await DockerClient.connect(to: endpoint)
            try await client.shutdown()
            Issue.record("connected to \(endpoint)")
            return ""
        } catch let error as DockerError {
            guard case .unreachable(let reported, _) = error else {
                Issue.record("expected .unreachable, got \(error)")
                return ""
            }
            #expect(reported == endpoint)
            #expect(ContinuousClock.now - started < .seconds(2), "should fail at once, not after retrying")
            return error.description
        }
    }

    @Test func missingSocket() async throws {
        let path = "/tmp/tailgate-missing-\(UUID().uuidString).sock"
        let description = try await unreachableDescription(.unixSocket(path: path))
        #expect(description == "Docker unreachable at unix://\(path): No such file or directory")
    }

    @Test func pathThatIsNotAListeningSocket() async throws {
        let path = "/tmp/tailgate-not-a-socket-\(UUID().uuidString).sock"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let description = try await unreachableDescription(.unixSocket(path: path))
        #expect(description == "Docker unreachable at unix://\(path): Connection refused")
    }

    @Test func refusedTCPPort() async throws {
        let description = try await unreachableDescription(.tcp(host: "127.0.0.1", port: 1))
        #expect(description == "Docker unreachable at tcp://127.0.0.1:1: Connection refused")
    }
}
