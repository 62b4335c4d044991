import Foundation
import Glibc
import TestSupport

/// A real `tailgate-gateway` process on a free port, against a test's Redis.
final class GatewayProcess: Sendable {
    static let token = "test-token-0123"

    let port: Int
    let process: ChildProcess
    let logPath: String

    /// Starts the gateway and returns once it answers HTTP.
    init(redis: RedisServer, arguments: [String] = ["--token", GatewayProcess.token], environment: [String: String] = [:]) async throws {
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("tailgate-gateway-\(UUID().uuidString.prefix(8)).log").path
        var environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        environment["TAILGATE_TOKEN"] = nil
        // A port the kernel called free can be taken before the gateway binds it: then try another.
        for _ in 1...3 {
            let candidate = try freeTCPPort()
            let started = try ChildProcess(
                Self.executablePath,
                ["--redis", "redis://127.0.0.1:\(redis.port)", "--port", "\(candidate)", "--log-level", "debug"] + arguments,
                environment: environment,
                outputPath: logPath
            )
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, !started.hasExited {
                if (try? await HTTPProbe.request(port: candidate, path: "/healthz")) != nil {
                    port = candidate
                    process = started
                    return
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            started.signal(SIGKILL)
            await started.exit()
        }
        throw TestSetupError("the gateway did not start; its log:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    deinit {
        process.signal(SIGKILL)
        process.waitForExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Resident memory of the process in KiB (`VmRSS`).
    var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    func get(_ path: String, headers: [String: String] = ["Authorization": "Bearer \(GatewayProcess.token)"]) async throws -> HTTPProbe.Response {
        try await HTTPProbe.request(port: port, path: path, headers: headers)
    }

    static var executablePath: String { BuiltProducts.path(of: "tailgate-gateway") }
}
