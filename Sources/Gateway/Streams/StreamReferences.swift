import Foundation
import Shared

/// This gateway's crash-safe references (SPEC §2): in `tailgate:refs:S`, a
/// sorted set, the member is the gateway instance and the score its lease
/// deadline in ms. The agent counts `ZCOUNT refs now +inf`, so a gateway that
/// dies stops counting when its lease runs out.
struct StreamReferences: Sendable {
    let redis: RedisClient
    let keys: RedisKeys
    /// This process among all gateways: `gw-<hostname>-<pid>-<8 hex>`.
    let instanceID: String

    /// Takes or renews the reference; tells the agent to start when nobody else holds one
    /// (which also re-sends the start after Redis lost the set, e.g. in a restart).
    private static let acquire = RedisScript(
        """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        local before = redis.call('ZCARD', KEYS[1])
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        if before == 0 then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
        return before
        """
    )

    /// Gives the reference back; tells the agent to stop when no live reference is left.
    private static let release = RedisScript(
        """
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
        local remaining = redis.call('ZCARD', KEYS[1])
        if remaining == 0 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
        return remaining
        """
    )

    static func makeInstanceID() -> String {
        let hostname = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        let random = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "gw-\(hostname)-\(getpid())-\(random)"
    }

    func acquire(_ stream: StreamKey) async throws {
        let lease = Int64(Leases.referenceLease.seconds * 1000)
        _ = try await redis.run(
            Self.acquire,
            keys: [keys.refs(stream.agent, stream.container)],
            arguments: [
                .string(String(Leases.milliseconds())),
                .string(String(Leases.milliseconds(plus: Leases.referenceLease))),
                .string(instanceID),
                .string(String(2 * lease)),
                .string(keys.control(stream.agent)),
                .bytes(controlMessage(.start, stream)),
            ]
        )
    }

    func release(_ stream: StreamKey) async throws {
        _ = try await redis.run(
            Self.release,
            keys: [keys.refs(stream.agent, stream.container)],
            arguments: [
                .string(instanceID),
                .string(String(Leases.milliseconds())),
                .string(keys.control(stream.agent)),
                .bytes(controlMessage(.stop, stream)),
            ]
        )
    }

    private func controlMessage(_ kind: ControlMessage.Kind, _ stream: StreamKey) -> [UInt8] {
        // Encoding two plain strings cannot fail.
        Array((try? JSONEncoder().encode(ControlMessage(kind, containerId: stream.container))) ?? Data())
    }
}
