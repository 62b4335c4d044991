import Testing
@testable import AgentService

@Suite struct DockerEndpointTests {
    @Test(arguments: [
        ("unix:///var/run/docker.sock", DockerEndpoint.unixSocket(path: "/var/run/docker.sock")),
        ("tcp://127.0.0.1:2375", .tcp(host: "127.0.0.1", port: 2375)),
        ("tcp://docker.internal", .tcp(host: "docker.internal", port: 2375)),
        ("tcp://localhost:2376/", .tcp(host: "localhost", port: 2376)),
        ("http://127.0.0.1:8080", .tcp(host: "127.0.0.1", port: 8080)),
        ("http://example", .tcp(host: "example", port: 80)),
        ("tcp://[::1]:2375", .tcp(host: "::1", port: 2375)),
        ("TCP://host:1", .tcp(host: "host", port: 1)),
    ])
    func parsesSupportedForms(value: String, expected: DockerEndpoint) throws {
        #expect(try DockerEndpoint(parsing: value) == expected)
    }

    @Test(arguments: [
        "", "/var/run/docker.sock", "unix://", "unix://relative.sock", "tcp://", "tcp://:2375",
        "tcp://host:0", "tcp://host:65536", "tcp://host:port", "tcp://host:2375/path", "tcp://[::1",
        "https://host:2376", "ssh://user@host", "npipe:////./pipe/docker_engine",
    ])
    func rejectsUnusableValues(value: String) {
        #expect(throws: DockerError.self) { try DockerEndpoint(parsing: value) }
    }

    @Test func rejectionNamesTheValue() {
        do {
            _ = try DockerEndpoint(parsing: "https://host:2376")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "invalid Docker host 'https://host:2376': TLS endpoints are not supported")
        }
    }

    @Test(arguments: ["unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "tcp://[::1]:2375"])
    func describesItselfAsParsed(value: String) throws {
        #expect(try DockerEndpoint(parsing: value).description == value)
    }
}
