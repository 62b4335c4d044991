import Foundation
import NIOCore
import Testing
@testable import AgentService

/// Decoding of Docker's JSON, from fixtures shaped like what Docker 20.10 (API 1.41) sends.
@Suite struct DockerDecodingTests {
    @Test func decodesVersion() throws {
        let json = #"{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux"}"#
        let version = try JSONDecoder().decode(DockerVersion.self, from: Data(json.utf8))
        #expect(version.version == "20.10.24+dfsg1")
        #expect(version.apiVersion == "1.41")
        #expect(version.minAPIVersion == "1.12")
    }

    @Test func decodesContainerList() throws {
        let json = #"""
        [{"Id":"a6b7","Names":["/web/db","/db"],"Image":"busybox","ImageID":"sha256:9c","Command":"sh",
          "Created":1795566729,"State":"exited","Status":"Exited (0) 30 seconds ago","Labels":{}}]
        """#
        let containers = try JSONDecoder().decode([ContainerSummary].self, from: Data(json.utf8))
        let container = try #require(containers.first)
        #expect(containers.count == 1)
        #expect(container.id == "a6b7")
        #expect(container.name == "db")
        #expect(container.image == "busybox")
        #expect(container.state == "exited")
        #expect(container.status == "Exited (0) 30 seconds ago")
        #expect(container.created == Date(timeIntervalSince1970: 1_795_566_729))
    }

    @Test func decodesInspectOfANeverStartedContainer() throws {
        let json = #"""
        {"Id":"a6b7","Name":"/web","Image":"sha256:9c","Config":{"Tty":true,"Image":"busybox:latest"},
         "State":{"Status":"created","Running":false,"StartedAt":"0001-01-01T00:00:00Z"}}
        """#
        let details = try JSONDecoder().decode(ContainerDetails.self, from: Data(json.utf8))
        #expect(details.id == "a6b7")
        #expect(details.name == "web")
        #expect(details.image == "busybox:latest")
        #expect(details.tty)
        #expect(!details.running)
        #expect(details.state == "created")
        #expect(details.startedAt == nil)
    }

    @Test func decodesContainerEvents() throws {
        let start = #"{"status":"start","id":"02e9","Type":"container","Action":"start","Actor":{"ID":"02e9","Attributes":{"image":"busybox","name":"evt"}},"time":1795566755}"#
        #expect(try ContainerEvent.decode(line: Array(start.utf8)) == ContainerEvent(containerId: "02e9", action: .start, name: "evt", oldName: nil))

        let rename = #"{"Type":"container","Action":"rename","Actor":{"ID":"a6b7","Attributes":{"name":"new","oldName":"/old"}}}"#
        #expect(try ContainerEvent.decode(line: Array(rename.utf8)) == ContainerEvent(containerId: "a6b7", action: .rename, name: "new", oldName: "old"))
    }

    @Test func skipsEventsTheAgentIgnores() throws {
        let exec = #"{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"a6b7","Attributes":{}}}"#
        #expect(try ContainerEvent.decode(line: Array(exec.utf8)) == nil)
        let network = #"{"Type":"network","Action":"create","Actor":{"ID":"n1","Attributes":{}}}"#
        #expect(try ContainerEvent.decode(line: Array(network.utf8)) == nil)
    }

    @Test func reportsUndecodableEvents() {
        #expect(throws: DockerError.self) { try ContainerEvent.decode(line: Array("{\"Action\":".utf8)) }
    }

    @Test func describesUnreachableWithTheSystemReason() {
        let error = DockerError.unreachable(
            endpoint: .unixSocket(path: "/var/run/docker.sock"),
            underlying: IOError(errnoCode: ENOENT, reason: "connect")
        )
        #expect(error.description == "Docker unreachable at unix:///var/run/docker.sock: No such file or directory")
    }
}
