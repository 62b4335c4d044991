import Foundation
import NIOCore
import NIOPosix
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

    @Test func aLogFromARefusedPortIsUnreachable() async throws {
        let request = DockerLogRequest(endpoint: .tcp(host: "127.0.0.1", port: 1), container: "c", bytes: Array("GET / HTTP/1.0\r\n\r\n".utf8))
        do {
            try await DockerLogSocket.collect(request)
            Issue.record("expected unreachable")
        } catch let error as DockerError {
            #expect(error.description == "Docker unreachable at tcp://127.0.0.1:1: Connection refused")
        }
    }
}

/// A log's socket against answers a real engine does not give, from a listener that
/// writes them byte for byte: how `DockerLogSocket` reads them over TCP.
// A regression would leave a read waiting on the open connection: fail instead of hanging.
@Suite(.timeLimit(.minutes(1))) struct DockerLogSocketAnswerTests {
    /// Runs `body` with a TCP endpoint that answers every connection with `answer` and keeps it open.
    func withListener(answering answer: String, _ body: (DockerEndpoint) async throws -> Void) async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answer(text: answer)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        try await body(.tcp(host: "127.0.0.1", port: try #require(listener.localAddress?.port)))
    }

    final class Answer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let text: String
        init(text: String) { self.text = text }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }
    }

    func request(_ endpoint: DockerEndpoint) -> DockerLogRequest {
        DockerLogRequest(endpoint: endpoint, container: "c", bytes: Array("GET /containers/c/logs HTTP/1.0\r\n\r\n".utf8))
    }

    @Test func aBodyEndsAtItsContentLengthThoughTheConnectionStaysOpen() async throws {
        try await withListener(answering: "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA") { endpoint in
            let body = try await DockerLogSocket.collect(request(endpoint))
            #expect(String(decoding: body, as: UTF8.self) == "hello")
        }
    }

    @Test func aChunkedAnswerIsRefusedWithAClearError() async throws {
        try await withListener(answering: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n") { endpoint in
            do {
                try await DockerLogSocket.collect(request(endpoint))
                Issue.record("expected a decoding error")
            } catch let DockerError.decoding(detail) {
                #expect(detail.contains("Transfer-Encoding"))
            }
        }
    }

    @Test func aRefusalCarriesItsStatusAndMessage() async throws {
        let explanation = #"{"message":"bad parameter"}"#
        try await withListener(answering: "HTTP/1.0 400 Bad Request\r\nContent-Length: \(explanation.utf8.count)\r\n\r\n\(explanation)") { endpoint in
            do {
                try await DockerLogSocket.collect(request(endpoint))
                Issue.record("expected an HTTP error")
            } catch let DockerError.http(status, message) {
                #expect(status == 400)
                #expect(message == "bad parameter")
            }
        }
    }
}
