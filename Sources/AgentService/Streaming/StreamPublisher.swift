import Foundation
import Shared

/// Writes one agent's streams into Redis (SPEC §2): each batch of lines goes
/// into the history list, out on the channel and into `meta` in one transaction
/// (`StreamAppender`), so publish order is `seq` order and a crash never leaves
/// meta pointing past what was published.
struct StreamPublisher: Sendable {
    let redis: RedisClient
    let keys: RedisKeys
    let agentID: AgentID
    let historySize: Int
    /// History and meta expire this long after a stream's last line (a removed container's logs stay readable for a while).
    let retention: Duration = .seconds(24 * 3600)

    /// The stream's saved position, or `nil` when it has no history (never streamed, or expired).
    func loadPosition(of container: ContainerID) async throws -> StreamPosition? {
        let fields = try await redis.send(RedisCommand("HGETALL", .string(keys.meta(agentID, container)))).array()
        var meta: [String: String] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) {
            if let name = try fields[index].string(), let value = try fields[index + 1].string() { meta[name] = value }
        }
        guard let epoch = meta["epoch"], !epoch.isEmpty, let seq = meta["seq"].flatMap(Int.init) else { return nil }
        return StreamPosition(
            seq: seq,
            epoch: epoch,
            newestTimestamp: meta["lastTimestamp"].flatMap(DockerTimestamp.init),
            linesAtNewestTimestamp: meta["lastTimestampCount"].flatMap(Int.init) ?? 0
        )
    }

    /// How `container`'s batches of lines are written.
    func appender(of container: ContainerID) -> StreamAppender {
        StreamAppender(
            historyKey: keys.history(agentID, container), metaKey: keys.meta(agentID, container), channel: keys.logs(agentID, container),
            historySize: historySize, retention: retention
        )
    }

    /// Tells the stream's watchers that the container stopped.
    func publishEnded(_ container: ContainerID, reason: String) async throws {
        let frame = Frame(type: .streamEnded, data: StreamEndedPayload(agentId: agentID.rawValue, containerId: container.rawValue, reason: reason))
        try await redis.send(RedisCommand("PUBLISH", .string(keys.logs(agentID, container)), .bytes(frame.encoded())))
    }

    /// Tells the stream's watchers why there are no lines (container gone, Docker down).
    func publishError(_ container: ContainerID, code: StreamErrorCode, message: String) async throws {
        let payload = StreamErrorPayload(agentId: agentID.rawValue, containerId: container.rawValue, code: code, message: message)
        try await redis.send(RedisCommand("PUBLISH", .string(keys.logs(agentID, container)), .bytes(Frame(type: .streamError, data: payload).encoded())))
    }

    /// A new random epoch: 16 hex characters.
    static func makeEpoch() -> String {
        (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
