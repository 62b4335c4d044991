import ArgumentParser
import Foundation
import Logging
import NIOCore
import Shared

/// `tailgate-gateway`: serves the web UI and streams container logs from Redis to browsers.
@main
struct TailgateGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailgate-gateway",
        abstract: "Streams live Docker container logs from Redis to browsers over WebSocket."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .customLong("host"), help: "Address to listen on (env TAILGATE_HOST; default 127.0.0.1)")
    var hostFlag: String?

    @Option(name: .customLong("port"), help: "Port to listen on (env TAILGATE_PORT; default 8080)")
    var portFlag: String?

    @Option(name: .customLong("token"), help: "An access token; repeat for several (env TAILGATE_TOKEN, comma separated)")
    var tokenFlags: [String] = []

    @Flag(name: .customLong("no-auth"), help: "Serve without any token (env TAILGATE_NO_AUTH=1)")
    var noAuthFlag = false

    @Option(name: .customLong("allowed-origin"), help: "A browser origin allowed to open WebSockets besides the gateway's own; repeatable (env TAILGATE_ALLOWED_ORIGINS, comma separated)")
    var allowedOriginFlags: [String] = []

    static func main() async {
        await ProgramEntry.main(Self.self)
    }

    func run() async throws {
        let configuration = try resolve()
        bootstrapLogging(level: configuration.common.logLevel)
        let logger = Logger(label: "tailgate-gateway")
        do {
            try await Gateway(configuration: configuration, logger: logger).run()
        } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
            throw ConfigurationError("cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))")
        }
    }

    /// The flags resolved against the environment and checked.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> GatewayConfiguration {
        let common = try common.resolve(environment: environment)
        let host = try option(hostFlag, "TAILGATE_HOST", environment) ?? "127.0.0.1"
        let portText = try option(portFlag, "TAILGATE_PORT", environment) ?? "8080"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigurationError("--port: '\(portText)' is not a port number (1-65535)")
        }
        let tokens = try Self.list(tokenFlags, "TAILGATE_TOKEN", environment)
        let noAuth = noAuthFlag || ["1", "true", "yes"].contains(environment["TAILGATE_NO_AUTH"]?.lowercased() ?? "")
        let origins = try Self.list(allowedOriginFlags, "TAILGATE_ALLOWED_ORIGINS", environment)
        let access = try AccessPolicy(tokens: tokens, allowsAnonymous: noAuth, allowedOrigins: origins)
        return GatewayConfiguration(common: common, host: host, port: port, access: access)
    }

    /// A repeatable flag's values, else the variable's comma-separated entries; blanks are ignored.
    private static func list(_ flags: [String], _ variable: String, _ environment: [String: String]) throws(ConfigurationError) -> [String] {
        let entries = flags.isEmpty ? (try option(nil, variable, environment) ?? "").split(separator: ",").map(String.init) : flags
        return entries.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
