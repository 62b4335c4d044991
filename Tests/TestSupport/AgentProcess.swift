import Foundation
import Glibc
import Shared
import Synchronization

/// A real `tailgate-agent` process, killed with SIGKILL and restarted at will.
public final class AgentProcess: Sendable {
    public let agentID: AgentID
    public let logPath: String
    private let arguments: [String]
    private let process = Mutex<ChildProcess?>(nil)

    /// Starts an agent with a fresh random id (or `agentID`) writing to `redis`, following `dockerHost`.
    public init(redis: RedisURL, dockerHost: String, agentID: AgentID? = nil) throws {
        self.agentID = try agentID ?? AgentID("agent-\(UUID().uuidString.prefix(8).lowercased())")
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("tailgate-\(self.agentID).log").path
        arguments = ["--redis", redis.withCredentials, "--docker-host", dockerHost, "--agent-id", self.agentID.rawValue, "--log-level", "info"]
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    public func start() throws {
        let started = try ChildProcess(BuiltProducts.path(of: "tailgate-agent"), arguments, outputPath: logPath)
        process.withLock { $0 = started }
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    public func kill() {
        process.withLock { process in
            process?.signal(SIGKILL)
            process?.waitForExit()
            process = nil
        }
    }

    /// How many eventfds the running agent holds (each followed log's thread has one); nil when it is not running.
    public var eventfdCount: Int? {
        guard let pid = process.withLock({ $0?.pid }),
            let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return nil }
        return descriptors.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:[eventfd]"
        }.count
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

extension RedisURL {
    /// The URL as `--redis` takes it: with its password, which `description` leaves out (TCP only).
    var withCredentials: String {
        guard case .tcp(let host, let port) = endpoint, username != nil || password != nil else { return description }
        let credentials = (username ?? "") + (password.map { ":\($0)" } ?? "") + "@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}
