import Foundation
import Logging
import ServiceLifecycle
import Shared

/// The agent's work, run as one service: registry, Docker events, control
/// messages from gateways, and the reconcile loop that makes the followed
/// streams match the reference counts even when a control message was lost.
struct Agent: Service {
    let redis: RedisClient
    let docker: DockerClient
    let keys: RedisKeys
    let agentID: AgentID
    let registry: AgentRegistry
    let supervisor: StreamSupervisor
    let logger: Logger

    init(redis: RedisClient, docker: DockerClient, keys: RedisKeys, agentID: AgentID, historySize: Int, logger: Logger) {
        self.redis = redis
        self.docker = docker
        self.keys = keys
        self.agentID = agentID
        self.logger = logger
        registry = AgentRegistry(redis: redis, docker: docker, keys: keys, agentID: agentID, logger: logger)
        let publisher = StreamPublisher(redis: redis, keys: keys, agentID: agentID, historySize: historySize)
        supervisor = StreamSupervisor(docker: docker, publisher: publisher, logger: logger)
    }

    func run() async throws {
        logger.info("agent started", metadata: ["agent": "\(agentID)", "docker": "\(docker.endpoint)", "redis": "\(redis.configuration.url)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await registry.followDockerEvents() }
            group.addTask { await listenForControlMessages() }
            group.addTask { await reconcileAndHeartbeat() }
            // Runs until SIGTERM/SIGINT, then stops every Docker stream.
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await supervisor.stopAll()
        logger.info("agent stopped")
    }

    /// Every few seconds: follow exactly the containers somebody watches, and say we are alive.
    private func reconcileAndHeartbeat() async {
        while !Task.isCancelled {
            await reconcile()
            do {
                try await registry.heartbeat(streams: await supervisor.followed)
            } catch {
                logger.warning("cannot write heartbeat to Redis", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: Leases.reconcileInterval)
        }
    }

    /// Asks Redis how many live references each known or followed container has.
    private func reconcile() async {
        let candidates = Array(Set(registry.containerIDs).union(await supervisor.followed))
        guard !candidates.isEmpty else { return }
        let now = String(Leases.milliseconds())
        do {
            let counts = try await redis.pipeline(candidates.map { RedisCommand("ZCOUNT", .string(keys.refs(agentID, $0)), .string(now), "+inf") })
            var watched = Set<ContainerID>()
            for (container, count) in zip(candidates, counts) where try count.int() > 0 {
                watched.insert(container)
            }
            await supervisor.reconcile(watched: watched)
        } catch {
            logger.warning("cannot read reference counts from Redis", metadata: ["error": "\(error)"])
        }
    }

    /// `log.stream.start` starts a stream at once; `log.stream.stop` stops it if no reference is left.
    private func listenForControlMessages() async {
        let (subscriber, events) = redis.makeSubscriber()
        defer { subscriber.close() }
        let channel = keys.control(agentID)
        var failures = 0
        while !Task.isCancelled {
            do {
                try await subscriber.subscribe([channel])
                break
            } catch {
                try? await Task.sleep(for: Backoff().delay(attempt: failures))
                failures += 1
            }
        }
        for await event in events {
            switch event {
            case .message(_, let payload):
                guard let message = try? JSONDecoder().decode(ControlMessage.self, from: Data(payload.readableBytesView)) else {
                    logger.warning("ignoring malformed control message", metadata: ["payload": "\(String(buffer: payload).prefix(200))"])
                    continue
                }
                switch message.type {
                case .start: await supervisor.start(message.data.containerId)
                case .stop: await reconcile()
                }
            case .reconnected:
                // Control messages may have been lost while Redis was away.
                await reconcile()
            case .disconnected:
                break
            }
            if Task.isCancelled { return }
        }
    }
}
