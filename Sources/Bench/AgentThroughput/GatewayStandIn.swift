import Shared

/// Does in Redis what a gateway does when a client subscribes: takes a reference
/// on the stream and tells the agent to start (SPEC §2), then watches the stream's
/// `seq` as the agent publishes.
struct GatewayStandIn: Sendable {
    let redis: RedisClient
    let keys: RedisKeys
    let agentID: AgentID

    /// A gateway renews a 10 s lease every 3 s; one long lease stands for that
    /// renewal and outlasts the slowest run.
    static let referenceLease: Duration = .seconds(900)

    func takeReference(on container: ContainerID) async throws {
        let deadline = Leases.milliseconds(plus: Self.referenceLease)
        try await redis.send(RedisCommand("ZADD", .string(keys.refs(agentID, container)), .string(String(deadline)), "bench"))
        let start = #"{"type":"log.stream.start","data":{"containerId":"\#(container.rawValue)"}}"#
        try await redis.send(RedisCommand("PUBLISH", .string(keys.control(agentID)), .string(start)))
    }

    /// When lines were first seen and when the last one was in Redis.
    struct Arrival {
        var firstSeq: Int
        var firstSeen: ContinuousClock.Instant
        var lastSeq: Int
        var completed: ContinuousClock.Instant

        /// Lines published between the first sighting and completion, per second.
        var linesPerSecond: Double {
            Double(lastSeq - firstSeq) / (completed - firstSeen).seconds
        }
    }

    /// Polls `meta.seq` every 10 ms until it reaches `expected`. Fails when the
    /// agent dies, overshoots (a duplicated line) or makes no progress for `stallTimeout`.
    func waitForSeq(_ expected: Int, on container: ContainerID, agent: AgentUnderTest, stallTimeout: Duration = .seconds(60)) async throws -> Arrival {
        let metaKey = keys.meta(agentID, container)
        var first: (seq: Int, at: ContinuousClock.Instant)?
        var lastProgress = (seq: 0, at: ContinuousClock.now)
        while true {
            let seq = try await redis.send(RedisCommand("HGET", .string(metaKey), "seq")).string().flatMap { Int($0) } ?? 0
            let now = ContinuousClock.now
            if seq > 0, first == nil { first = (seq, now) }
            if seq >= expected, let first {
                guard seq == expected else { throw BenchError("seq reached \(seq), more than the \(expected) lines written") }
                return Arrival(firstSeq: first.seq, firstSeen: first.at, lastSeq: seq, completed: now)
            }
            if seq != lastProgress.seq {
                lastProgress = (seq, now)
            } else if now - lastProgress.at > stallTimeout {
                throw BenchError("seq stuck at \(seq) of \(expected) for \(stallTimeout) (did the agent attach too late?); \(agent.logTail)")
            }
            guard agent.isRunning else { throw BenchError("the agent exited at seq \(seq) of \(expected); \(agent.logTail)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
