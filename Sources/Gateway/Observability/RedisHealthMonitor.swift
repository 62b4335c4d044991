import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// Whether Redis answers, for `/healthz`: a `PING` every second on a
/// connection of its own with a short timeout, so an outage shows within
/// about two seconds and a health check never waits on Redis.
final class RedisHealthMonitor: Service, Sendable {
    private let probe: RedisConnection
    private let redisIsUp = Atomic<Bool>(false)
    private let interval: Duration = .seconds(1)

    init(configuration: RedisConfiguration, logger: Logger) {
        var configuration = configuration
        configuration.commandTimeout = .seconds(1)
        probe = RedisConnection(configuration: configuration, logger: logger)
    }

    var isRedisUp: Bool { redisIsUp.load(ordering: .relaxed) }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let answered = (try? await self.probe.send(RedisCommand("PING"))) != nil
                self.redisIsUp.store(answered, ordering: .relaxed)
                try? await Task.sleep(for: self.interval)
            }
        }
        probe.close()
    }
}
