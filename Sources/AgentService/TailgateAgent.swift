import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `tailgate-agent`: follows the logs of watched containers on one Docker host into Redis.
@main
struct TailgateAgent: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "tailgate-agent",
        abstract: "Streams the logs of watched Docker containers on this host into Redis."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("docker-host"), help: "Docker Engine API endpoint (env DOCKER_HOST; default unix:///var/run/docker.sock)")
    var dockerHostFlag: String?

    @Option(name: .customLong("agent-id"), help: "This host's id in Tailgate (env TAILGATE_AGENT_ID; default the host name)")
    var agentIDFlag: String?

    @Option(name: .customLong("history"), help: "Lines of history kept per container (env TAILGATE_HISTORY; default 1000)")
    var historyFlag: String?

    static func main() async {
        await ProgramEntry.main(Self.self)
    }

    func run() async throws {
        let settings = try resolve()
        AllocatorTuning.keepBatchMemory()
        bootstrapLogging(level: settings.common.logLevel)
        let logger = Logger(label: "tailgate-agent")
        // Each followed log holds three descriptors (its Docker socket, its Redis connection,
        // its wake-up): the usual soft limit of 1024 would cap an agent at ~300 watched containers.
        let openFileLimit = OpenFileLimit.raiseToHardLimit()
        logger.debug("open-file limit", metadata: ["limit": "\(openFileLimit)"])

        let docker: DockerClient
        do {
            docker = try await DockerClient.connect(to: settings.dockerEndpoint, logger: logger)
        } catch {
            throw ConfigurationError("\(error)")
        }
        let redis = RedisClient(configuration: settings.common.redis, logger: logger)
        let agent = Agent(
            redis: redis,
            docker: docker,
            keys: settings.common.keys,
            agentID: settings.agentID,
            historySize: settings.historySize,
            logger: logger
        )
        // Redis first: on shutdown services stop in reverse order, so it outlives the agent.
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: redis), .init(service: agent)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await services.run()
        try await docker.shutdown()
    }

    struct Settings {
        var common: CommonConfiguration
        var dockerEndpoint: DockerEndpoint
        var agentID: AgentID
        var historySize: Int
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> Settings {
        let common = try self.common.resolve(environment: environment)
        let dockerHost = try option(dockerHostFlag, "DOCKER_HOST", environment) ?? "unix:///var/run/docker.sock"
        let endpoint: DockerEndpoint
        do { endpoint = try DockerEndpoint(parsing: dockerHost) } catch { throw ConfigurationError("--docker-host: \(error)") }

        let agentText = try option(agentIDFlag, "TAILGATE_AGENT_ID", environment) ?? ProcessInfo.processInfo.hostName
        let agentID: AgentID
        do { agentID = try AgentID(agentText) } catch { throw ConfigurationError("--agent-id: \(error.description)") }

        let historyText = try option(historyFlag, "TAILGATE_HISTORY", environment) ?? "1000"
        guard let historySize = Int(historyText), (1...100_000).contains(historySize) else {
            throw ConfigurationError("--history: '\(historyText)' must be a whole number from 1 to 100000")
        }
        return Settings(common: common, dockerEndpoint: endpoint, agentID: agentID, historySize: historySize)
    }
}
