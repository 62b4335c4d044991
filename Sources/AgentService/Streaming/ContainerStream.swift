import Logging
import NIOCore
import Shared

/// One pass of following a container's log into Redis: from the saved
/// position (or the last `historySize` lines) until the container stops,
/// then one read of the finished log for the output the follow missed.
///
/// The reading and writing is a `LogFollower`'s, on a thread of its own; this
/// decides where it starts and what the end of the log means.
struct ContainerStream {
    enum Outcome: Equatable {
        /// The log ended because the container is not running; the reason is for `log.stream.ended`.
        case containerStopped(reason: String)
        /// The log ended but the container still runs (Docker closed the connection): follow again.
        case interrupted
    }

    let container: ContainerID
    let docker: DockerClient
    let publisher: StreamPublisher
    let logger: Logger

    func run() async throws -> Outcome {
        let tty = try await docker.inspect(container.rawValue).tty
        let outcome = try await publishLog(follow: true, tty: tty)
        guard case .containerStopped = outcome else { return outcome }
        // Docker ends a live follow as the container exits, before it reads the container's
        // last output when that has no newline (a TTY's last prompt, say). One read of the
        // finished log from the saved position publishes what the follow missed.
        return try await publishLog(follow: false, tty: tty)
    }

    /// Publishes the log from the saved position (or its last `historySize` lines) until it ends.
    private func publishLog(follow: Bool, tty: Bool) async throws -> Outcome {
        let saved = try await publisher.loadPosition(of: container)
        let start = saved ?? .fresh(epoch: StreamPublisher.makeEpoch())
        logger.debug("reading", metadata: ["container": "\(container)", "follow": "\(follow)", "seq": "\(start.seq)", "epoch": "\(start.epoch)"])
        let request = docker.logRequest(
            id: container.rawValue,
            follow: follow,
            since: saved?.newestTimestamp?.sinceQueryValue,
            tail: saved?.newestTimestamp == nil ? publisher.historySize : nil
        )
        let encoder = LogLineEncoder(tty: tty, start: start, agentID: publisher.agentID, container: container)
        let followerLogger = {
            var logger = logger
            logger[metadataKey: "container"] = "\(container)"
            return logger
        }()
        let redis = publisher.redis.configuration
        let appender = publisher.appender(of: container)
        var followed = try await runOnDedicatedThread(named: "log-follower") { cancellation in
            try LogFollower(
                request: request, encoder: encoder, redis: redis, appender: appender, cancellation: cancellation, logger: followerLogger
            ).run()
        }

        // Docker ends a followed log when the container stops, and a dropped connection looks
        // the same (the body lasts until the connection closes). Only a stopped container's
        // unfinished last line is whole: otherwise the next follow reads that line again.
        let after = try await docker.inspect(container.rawValue)
        guard !after.running else { return .interrupted }
        try followed.finish()
        if followed.hasDecodedLines {
            let ended = followed
            _ = try await runOnDedicatedThread(named: "log-follower") { cancellation in
                try LogFollower(remainderOf: ended, redis: redis, appender: appender, cancellation: cancellation, logger: followerLogger).run()
            }
        }
        return .containerStopped(reason: "container \(after.state)")
    }
}
