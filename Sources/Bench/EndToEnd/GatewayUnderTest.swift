import Foundation
import Glibc
import TestSupport

/// A `tailgate-gateway` process started for one scenario, and what it costs.
struct GatewayUnderTest: Sendable {
    let process: ChildProcess
    let port: Int
    let token: String
    let logPath: String

    static let logsPath = "/api/logs/ws"
    var logsURL: String { "ws://127.0.0.1:\(port)\(Self.logsPath)" }

    /// Starts the gateway on a free loopback port and returns once `/healthz` says Redis is up.
    static func start(executable: String, redisURL: String, logDirectory: String) async throws -> GatewayUnderTest {
        let token = AgentThroughputRun.randomHex(bytes: 16)
        for _ in 1...3 {
            let port = try freePort()
            let logPath = "\(logDirectory)/gateway-\(port).log"
            let process = try ChildProcess(
                executable,
                ["--redis", redisURL, "--host", "127.0.0.1", "--port", String(port), "--token", token, "--log-level", "warning"],
                outputPath: logPath
            )
            let gateway = GatewayUnderTest(process: process, port: port, token: token, logPath: logPath)
            if try await gateway.waitUntilHealthy() { return gateway }
            // Exited at start: most likely another process took the port in between.
        }
        throw BenchError("the gateway would not start; see \(logDirectory)")
    }

    var cpuSeconds: Double? { CPUUsage.process(process.pid) }
    var residentKiB: Double? { CPUUsage.residentKiB(process.pid) }

    func stop() async {
        let code = await process.stop()
        if code != 0 && code != 143 { progressNote("gateway exited \(code); log \(logPath)") }
    }

    /// True once healthy, false if the process exited; throws after 30 s.
    private func waitUntilHealthy() async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if process.hasExited { return false }
            let probe = try await ChildProcess.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"])
            if probe.output == "200" { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        await stop()
        throw BenchError("the gateway was not healthy within 30 s; log \(logPath)")
    }

    /// A loopback port nothing listens on right now (the kernel's pick for port 0).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchError("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw BenchError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
