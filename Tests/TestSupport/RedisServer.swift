import Foundation
import Glibc
import Logging
import Shared
import Synchronization

/// A private `redis-server` for one test: started on a free port, stopped by pid.
public final class RedisServer: Sendable {
    public let port: Int
    public let password: String?
    public let directory: URL
    private let process = Mutex<ChildProcess?>(nil)

    public init(password: String? = nil) async throws {
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tailgate-redis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A port the kernel called free can be taken by someone's outgoing connection
        // before redis-server binds it: then try another.
        for _ in 1...5 {
            let candidate = try freeTCPPort()
            if let server = try await Self.launch(port: candidate, password: password, directory: directory) {
                port = candidate
                process.withLock { $0 = server }
                return
            }
        }
        throw TestSetupError("redis-server did not start on any of 5 free ports; see \(directory.path)/redis.log")
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    public var url: RedisURL { RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port), password: password) }
    public var socketPath: String { directory.appendingPathComponent("redis.sock").path }

    public func configuration(commandTimeout: Duration = .seconds(5)) -> RedisConfiguration {
        RedisConfiguration(
            url: url,
            connectTimeout: .seconds(1),
            commandTimeout: commandTimeout,
            reconnectBackoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        )
    }

    /// Starts it again on the same port, after `kill()`.
    public func start() async throws {
        guard let server = try await Self.launch(port: port, password: password, directory: directory) else {
            throw TestSetupError("redis-server did not start again on port \(port); see \(directory.path)/redis.log")
        }
        process.withLock { $0 = server }
    }

    /// The running server, or `nil` if it exited or did not answer PING within 10 s.
    private static func launch(port: Int, password: String?, directory: URL) async throws -> ChildProcess? {
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--unixsocket", directory.appendingPathComponent("redis.sock").path, "--dir", directory.path,
            "--enable-debug-command", "local",
        ]
        if let password { arguments += ["--requirepass", password] }
        let server = try ChildProcess(redisServerPath(), arguments, outputPath: directory.appendingPathComponent("redis.log").path)
        let authentication = password.map { ["--no-auth-warning", "-a", $0] } ?? []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !server.hasExited {
            if (try? await ChildProcess.run("redis-cli", ["-p", "\(port)"] + authentication + ["PING"]).output) == "PONG" {
                return server
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        server.signal(SIGKILL)
        await server.exit()
        return nil
    }

    /// SIGKILL, as a crash or an OOM kill would (also how tests end it: nothing to save).
    public func kill() {
        process.withLock { process in
            process?.signal(SIGKILL)
            process?.waitForExit()
            process = nil
        }
    }

    /// Runs `redis-cli` against this server (for setup that must not use the client under test).
    @discardableResult
    public func cli(_ arguments: String...) async throws -> String {
        try await cli(arguments)
    }

    @discardableResult
    public func cli(_ arguments: [String]) async throws -> String {
        let authentication = password.map { ["--no-auth-warning", "-a", $0] } ?? []
        return try await ChildProcess.run("redis-cli", ["-p", "\(port)"] + authentication + arguments).output
    }
}

public func redisServerPath() -> String {
    ProcessInfo.processInfo.environment["TAILGATE_TEST_REDIS_SERVER"] ?? "redis-server"
}

/// A TCP port nobody listens on right now (the kernel picks it).
public func freeTCPPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestSetupError("socket() failed") }
    defer { Glibc.close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else { throw TestSetupError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

public let testLogger = Logger(label: "tailgate-test")

extension BlockingRedisConnection {
    /// Sends `transaction` and reads all its replies: `MULTI`'s, one per command, `EXEC`'s last.
    public func run(_ transaction: RedisTransaction) throws -> [RESPValue] {
        try write(transaction)
        var replies: [RESPValue] = []
        while replies.count < transaction.replyCount {
            try readAvailable()
            while let reply = try nextReply() { replies.append(reply) }
        }
        return replies
    }
}
