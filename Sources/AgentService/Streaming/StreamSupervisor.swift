import Logging
import Shared

/// Decides which containers are followed: one follower task per watched
/// container, started and stopped as the reference counts say.
///
/// A follower outlives its container's stops and restarts: after
/// `log.stream.ended` it waits for the container to run again and resumes
/// with the same epoch, `seq` continuing.
actor StreamSupervisor {
    private let docker: DockerClient
    private let publisher: StreamPublisher
    private let logger: Logger
    private var followers: [ContainerID: Task<Void, Never>] = [:]
    /// How often a follower checks whether its stopped container runs again.
    private let restartPollInterval: Duration = .milliseconds(500)

    init(docker: DockerClient, publisher: StreamPublisher, logger: Logger) {
        self.docker = docker
        self.publisher = publisher
        self.logger = logger
    }

    /// The containers followed now (SPEC §2 `streams`).
    var followed: [ContainerID] { followers.keys.sorted { $0.rawValue < $1.rawValue } }

    func start(_ container: ContainerID) {
        guard followers[container] == nil else { return }
        logger.info("stream started", metadata: ["container": "\(container)"])
        let stream = ContainerStream(container: container, docker: docker, publisher: publisher, logger: logger)
        followers[container] = Task { await follow(stream) }
    }

    func stop(_ container: ContainerID) {
        guard let follower = followers.removeValue(forKey: container) else { return }
        logger.info("stream stopped", metadata: ["container": "\(container)"])
        follower.cancel()
    }

    /// Makes the followed set equal `watched`.
    func reconcile(watched: Set<ContainerID>) {
        for container in followers.keys where !watched.contains(container) { stop(container) }
        for container in watched { start(container) }
    }

    func stopAll() {
        for container in Array(followers.keys) { stop(container) }
    }

    private nonisolated func follow(_ stream: ContainerStream) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                switch try await stream.run() {
                case .interrupted:
                    failures = 0
                case .containerStopped(let reason):
                    failures = 0
                    try await publisher.publishEnded(stream.container, reason: reason)
                    try await waitUntilRunning(stream.container)
                }
            } catch is CancellationError {
                return
            } catch {
                guard !Task.isCancelled else { return }
                await report(error, on: stream.container, firstFailure: failures == 0)
                try? await Task.sleep(for: Backoff(maximum: .seconds(10)).delay(attempt: failures))
                failures += 1
            }
        }
    }

    private nonisolated func waitUntilRunning(_ container: ContainerID) async throws {
        while try await !docker.inspect(container.rawValue).running {
            try await Task.sleep(for: restartPollInterval)
        }
    }

    /// Logs a follower's failure and tells the stream's watchers (once per run of failures).
    private nonisolated func report(_ error: any Error, on container: ContainerID, firstFailure: Bool) async {
        guard firstFailure else { return }
        logger.warning("stream failed, retrying", metadata: ["container": "\(container)", "error": "\(error)"])
        let code: StreamErrorCode
        switch error {
        case DockerError.notFound: code = .notFound
        case is DockerError: code = .dockerUnavailable
        default: code = .internal
        }
        try? await publisher.publishError(container, code: code, message: "\(error)")
    }
}
