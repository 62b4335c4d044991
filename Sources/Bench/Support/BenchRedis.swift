import Logging
import Shared

/// Connections the benchmarks make to Redis. Call `bootstrapLogging(level: .warning)`
/// first, so that warnings (reconnects) go to stderr and never mix with the tables on stdout.
enum BenchRedis {
    static func client(url: String, connectionCount: Int = 2) throws -> RedisClient {
        let parsed: RedisURL
        do { parsed = try RedisURL(url) } catch { throw BenchError("--redis: \(error.description)") }
        return RedisClient(
            configuration: RedisConfiguration(url: parsed, commandTimeout: .seconds(30)),
            connectionCount: connectionCount,
            logger: Logger(label: "tailgate-bench")
        )
    }
}
