import NIOCore
import NIOHTTP1
import NIOPosix

/// Streaming GETs on connections of their own: `/events` on NIO (`withStreamingGet`), and
/// the request of a followed log, which its thread sends on a blocking socket
/// (`streamingRequest`, `DockerLogSocket`). Both ask in HTTP/1.0, so Docker sends the body
/// unchunked until it closes the connection; on NIO, `ReadCoalescingHandler` passes on
/// one buffer per socket read. JSON requests stay on AsyncHTTPClient and its
/// connection pool.
extension DockerHTTP {
    typealias StreamingChannel = NIOAsyncChannel<DockerResponsePart, HTTPClientRequestPart>

    /// Sends `GET path?query` on a new connection and runs `body` with the response body
    /// once a 2xx head has arrived. The connection closes when `body` returns or throws.
    /// - Parameter container: names the container the path is about, so a 404 becomes `.notFound(container)`.
    func withStreamingGet<Result>(
        _ path: String,
        query: KeyValuePairs<String, String> = [:],
        container: String? = nil,
        _ body: (DockerByteStream) async throws -> Result
    ) async throws -> Result {
        let channel: StreamingChannel
        do {
            channel = try await connectStreamingChannel()
        } catch {
            throw mapTransportError(error)
        }
        // AHC's responseHeadTimeout, by hand: close the connection if no head comes.
        let headDeadline = channel.channel.eventLoop.scheduleTask(in: Self.responseHeadTimeout) { [channel] in
            channel.channel.close(promise: nil)
        }
        return try await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            let head: HTTPResponseHead
            do {
                // In one write: a GET is complete with its head, and Docker may answer and
                // close before a separate `.end` write, which would then fail.
                try await outbound.write(contentsOf: [.head(requestHead(path: path, query: query)), .end(nil)])
                guard case .head(let received) = try await parts.next() else {
                    throw ReadCoalescingHandler.ResponseCutShort()
                }
                head = received
                headDeadline.cancel()
            } catch {
                headDeadline.cancel()
                throw mapTransportError(error)
            }
            var stream = DockerByteStream(parts: parts, http: self)
            guard (200..<300).contains(head.status.code) else {
                let errorBody = try? await stream.collect(upTo: Self.maximumErrorBodySize)
                throw Self.error(status: head.status, body: errorBody, container: container)
            }
            return try await body(stream)
        }
    }

    private func connectStreamingChannel() async throws -> StreamingChannel {
        let bootstrap = ClientBootstrap(group: client.eventLoopGroup).connectTimeout(Self.connectTimeout)
        let initialize: @Sendable (any Channel) -> EventLoopFuture<StreamingChannel> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(ReadCoalescingHandler())
                return try StreamingChannel(wrappingChannelSynchronously: channel)
            }
        }
        switch endpoint {
        case .unixSocket(let path):
            return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initialize)
        case .tcp(let host, let port):
            return try await bootstrap.connect(host: host, port: port, channelInitializer: initialize)
        }
    }

    /// The same GET as bytes, for a thread that reads the answer on a blocking socket (`DockerLogSocket`).
    func streamingRequest(_ path: String, query: KeyValuePairs<String, String>, container: String) -> DockerLogRequest {
        let head = requestHead(path: path, query: query)
        var text = "GET \(head.uri) HTTP/1.0\r\n"
        for (name, value) in head.headers { text += "\(name): \(value)\r\n" }
        return DockerLogRequest(endpoint: endpoint, container: container, bytes: Array((text + "\r\n").utf8))
    }

    private var hostHeader: String {
        switch endpoint {
        // Docker rejects a request without Host; over a socket any name does.
        case .unixSocket: "localhost"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    private func requestHead(path: String, query: KeyValuePairs<String, String>) -> HTTPRequestHead {
        let headers: HTTPHeaders = ["Host": hostHeader, "User-Agent": Self.userAgent, "Connection": "close"]
        // HTTP/1.0: an HTTP/1.1 body would be one chunk per log line, each parsed and handed on by
        // itself (a tenth of the agent's CPU at full speed). The cost: a body ends where the
        // connection does, so the end of a followed log cannot be told from a dropped connection,
        // and `ContainerStream` asks Docker whether the container stopped before trusting it.
        return HTTPRequestHead(version: .http1_0, method: .GET, uri: requestURI(path: path, query: query), headers: headers)
    }
}
