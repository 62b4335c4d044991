import Foundation
import TestSupport

/// `curl` reading a container's log straight from the Docker API, as the agent
/// asks for it (both streams, timestamps), into /dev/null: the agent's ceilings.
struct RawLogRead: Sendable {
    let socketPath: String
    let dockerdPID: Int32?

    /// Reads the whole log of a finished container once.
    func readFinished(container: String, lines: Int) async throws -> RawReadMeasurement {
        let dockerdBefore = dockerdPID.flatMap(CPUUsage.process)
        let (bytes, elapsed) = try await curl(container: container, follow: false)
        return RawReadMeasurement(
            lines: lines, bytes: bytes, seconds: elapsed.seconds,
            dockerdCPUSeconds: cpuSince(dockerdBefore)
        )
    }

    /// Follows the log of a container that starts writing at `writeStart` until it
    /// exits: how fast Docker itself delivers a live log. Call it right after
    /// starting the container, before its first line.
    func followLive(container: String, lines: Int, writeStart: () async throws -> Date) async throws -> RawReadMeasurement {
        let dockerdBefore = dockerdPID.flatMap(CPUUsage.process)
        let (bytes, _) = try await curl(container: container, follow: true)
        let finished = Date()
        let dockerdCPU = cpuSince(dockerdBefore)
        let seconds = finished.timeIntervalSince(try await writeStart())
        return RawReadMeasurement(lines: lines, bytes: bytes, seconds: seconds, dockerdCPUSeconds: dockerdCPU)
    }

    private func curl(container: String, follow: Bool) async throws -> (bytes: Int, elapsed: Duration) {
        let url = "http://localhost/containers/\(container)/logs?stdout=1&stderr=1&timestamps=1" + (follow ? "&follow=1" : "")
        let started = ContinuousClock.now
        let result = try await ChildProcess.run(
            "curl", ["-s", "--fail", "--unix-socket", socketPath, url, "-o", "/dev/null", "-w", "%{size_download}"]
        )
        let elapsed = ContinuousClock.now - started
        guard result.status == 0, let bytes = Int(result.output), bytes > 0 else {
            throw BenchError("curl \(url) exited \(result.status): \(result.output.suffix(300))")
        }
        return (bytes, elapsed)
    }

    private func cpuSince(_ before: Double?) -> Double? {
        guard let before, let pid = dockerdPID, let after = CPUUsage.process(pid) else { return nil }
        return after - before
    }
}
