import ArgumentParser
import Foundation
import Logging

/// The options both programs take (SPEC §1). Every option has a flag and an
/// environment variable; the flag wins, then the variable, then the default.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("redis"), help: "Redis URL: redis://[user:password@]host:port[/db] or unix:///path.sock (env TAILGATE_REDIS_URL; default redis://127.0.0.1:6379)")
    var redisFlag: String?

    @Option(name: .customLong("prefix"), help: "Redis key namespace (env TAILGATE_PREFIX; default tailgate)")
    var prefixFlag: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env TAILGATE_LOG_LEVEL; default info)")
    var logLevelFlag: String?

    public init() {}

    /// The options resolved against the environment and checked.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> CommonConfiguration {
        let redisText = try option(redisFlag, "TAILGATE_REDIS_URL", environment) ?? "redis://127.0.0.1:6379"
        let redisURL: RedisURL
        do { redisURL = try RedisURL(redisText) } catch { throw ConfigurationError("--redis: \(error.description)") }

        let prefix = try option(prefixFlag, "TAILGATE_PREFIX", environment) ?? "tailgate"
        guard !prefix.isEmpty, prefix.utf8.count <= 64,
            prefix.utf8.allSatisfy(\.isIdentifierCharacter)
        else {
            throw ConfigurationError("--prefix: '\(prefix)' must be 1-64 characters of A-Z a-z 0-9 . _ -")
        }

        let levelText = try option(logLevelFlag, "TAILGATE_LOG_LEVEL", environment) ?? "info"
        guard let logLevel = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError("--log-level: '\(levelText)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return CommonConfiguration(redis: RedisConfiguration(url: redisURL), keys: RedisKeys(prefix: prefix), logLevel: logLevel)
    }
}

/// `CommonOptions` after resolution.
public struct CommonConfiguration: Sendable {
    public var redis: RedisConfiguration
    public var keys: RedisKeys
    public var logLevel: Logger.Level

    public init(redis: RedisConfiguration, keys: RedisKeys, logLevel: Logger.Level) {
        self.redis = redis
        self.keys = keys
        self.logLevel = logLevel
    }
}

/// Bad configuration: the program prints this one line and exits with code 2.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The flag's value, else the environment variable's; an empty variable counts as unset.
public func option(_ flag: String?, _ variable: String, _ environment: [String: String]) throws(ConfigurationError) -> String? {
    if let flag { return flag }
    guard let value = environment[variable], !value.isEmpty else { return nil }
    return value
}
