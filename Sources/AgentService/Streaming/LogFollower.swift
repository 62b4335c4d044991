import Glibc
import Logging
import NIOCore
import Shared

/// Follows one container's log into Redis on a thread of its own, as the C pipeline
/// ceiling does: it reads Docker's socket, encodes the lines (`LogLineEncoder`) and
/// writes them in batches, a transaction each (`StreamAppender`), on a Redis connection
/// of its own, so a busy stream's lines pass no hand-off between threads on their way.
///
/// One batch is in Redis's hands at a time, so batches apply in `seq` order and a
/// failed one is retried, never skipped, before any later one. A follower made for
/// the `remainderOf` an ended log only writes what its encoder still holds. Meanwhile the next
/// batch fills from Docker up to `maxBatchLines`; then reading waits, and Docker
/// keeps the lines in its log file.
final class LogFollower {
    /// Lines per transaction at most: large enough to amortise it, small enough not to stall Redis.
    /// Under load, batches are spaced by `BatchPacing` so that they fill up.
    static let maxBatchLines = 1000
    /// A batch of long lines ends at about this size (a line may be up to 256 KiB).
    static let maxBatchBytes = 8 << 20
    /// A busy stream is read at most this often; a line waits at most this long for its read.
    ///
    /// Docker writes a followed log a line at a time. Reading as soon as bytes arrive
    /// would wake this thread for every few lines; waiting lets each read carry the lines
    /// of a whole interval, which the kernel holds meanwhile.
    static let busyReadInterval: Duration = .microseconds(500)
    /// A read this large is followed by the next at once: Docker is likely blocked on a full socket.
    static let largeRead = 64 << 10

    /// The log's socket; nil for the remainder of an ended log.
    private let docker: DockerLogSocket?
    private let redisConfiguration: RedisConfiguration
    private let appender: StreamAppender
    private let cancellation: ThreadWakeup
    private let logger: Logger
    private var encoder: LogLineEncoder

    private var isLogEnded = false
    /// Not before this may Docker's socket be read again.
    private var nextRead = ContinuousClock.now
    /// Lines encoded and not yet handed to Redis.
    private var batch = RedisBulkArguments()
    /// Not before this may the next batch be sent.
    private var nextBatch = ContinuousClock.now

    private var redis: BlockingRedisConnection?
    /// The batch sent and not yet applied: awaiting its replies, or to be sent again
    /// (then checked first when it was written before: its reply may be what was lost).
    private var unapplied: (frames: RedisBulkArguments, position: StreamPosition, mayBeApplied: Bool)?
    /// Replies still due to `unapplied`'s transaction; the last is `EXEC`'s.
    private var repliesDue = 0
    /// The first error among them: a command Redis refused to queue, the reason `EXEC` gives up.
    private var queueError: String?
    /// When the replies to `unapplied` must have come; nil while it waits to be sent (again).
    private var replyDeadline: ContinuousClock.Instant?
    /// Not before this is `unapplied` sent again after a failure.
    private var nextAttempt = ContinuousClock.now
    private var failures = 0

    /// Opens the log (blocking up to Docker's head timeout); throws as `DockerLogSocket` does.
    convenience init(
        request: DockerLogRequest,
        encoder: LogLineEncoder,
        redis: RedisConfiguration,
        appender: StreamAppender,
        cancellation: ThreadWakeup,
        logger: Logger
    ) throws {
        let docker = try DockerLogSocket(request, cancellation: cancellation)
        self.init(docker: docker, encoder: encoder, redis: redis, appender: appender, cancellation: cancellation, logger: logger)
    }

    /// Writes the lines `encoder` still holds of a log that has ended (a stopped
    /// container's unfinished last line, after `finish()`), as any batch is written.
    convenience init(
        remainderOf encoder: LogLineEncoder,
        redis: RedisConfiguration,
        appender: StreamAppender,
        cancellation: ThreadWakeup,
        logger: Logger
    ) {
        self.init(docker: nil, encoder: encoder, redis: redis, appender: appender, cancellation: cancellation, logger: logger)
    }

    private init(
        docker: DockerLogSocket?,
        encoder: LogLineEncoder,
        redis: RedisConfiguration,
        appender: StreamAppender,
        cancellation: ThreadWakeup,
        logger: Logger
    ) {
        self.docker = docker
        isLogEnded = docker == nil
        self.encoder = encoder
        self.redisConfiguration = redis
        self.appender = appender
        self.cancellation = cancellation
        self.logger = logger
    }

    /// Reads until Docker ends the log and every line read is in Redis, and returns the
    /// encoder: it holds what a stopped container's log may still end with (`finish()`).
    /// Throws `CancellationError` once the wake-up is signalled, and what the log's socket or decoder throws.
    func run() throws -> LogLineEncoder {
        while true {
            encoder.encode(into: &batch, maxLines: Self.maxBatchLines, maxBytes: Self.maxBatchBytes)
            let now = ContinuousClock.now
            if unapplied == nil, batch.count > 0, isLogEnded || now >= nextBatch {
                unapplied = (batch, encoder.position, mayBeApplied: false)
                nextBatch = now + BatchPacing.pause(afterBatchOf: batch.count, maxBatchLines: Self.maxBatchLines)
                batch = RedisBulkArguments()
            }
            if unapplied != nil, replyDeadline == nil, now >= nextAttempt {
                sendUnapplied()
            }
            if isLogEnded, unapplied == nil, batch.count == 0, !encoder.hasDecodedLines {
                return encoder
            }
            try waitAndHandleIO()
        }
    }

    // MARK: Redis

    private func sendUnapplied() {
        guard let unapplied else { return }
        do {
            if let redis, redis.isStale { self.redis = nil }
            let connection = try redis ?? BlockingRedisConnection(configuration: redisConfiguration)
            redis = connection
            if unapplied.mayBeApplied, try isApplied(unapplied.position, on: connection) {
                return applied()
            }
            let transaction = appender.transaction(unapplied.frames, upTo: unapplied.position)
            self.unapplied?.mayBeApplied = true
            try connection.write(transaction)
            repliesDue = transaction.replyCount
            queueError = nil
            replyDeadline = .now + redisConfiguration.commandTimeout
        } catch {
            redisFailed(error)
        }
    }

    /// Whether a batch sent before is in Redis: its reply was lost, and its transaction
    /// may have been applied, or may still be on its way on the old connection. The
    /// `WATCH` makes the batch's next transaction on `connection` fail if that one lands meanwhile.
    private func isApplied(_ position: StreamPosition, on connection: BlockingRedisConnection) throws(RedisError) -> Bool {
        _ = try connection.roundTrip(appender.watchMeta).checked()
        guard try StreamAppender.hasApplied(connection.roundTrip(appender.savedPosition), upTo: position) else { return false }
        _ = try connection.roundTrip(appender.unwatch).checked()
        return true
    }

    private func readReply() {
        guard let connection = redis else { return }
        do {
            try connection.readAvailable()
            while repliesDue > 0, let reply = try connection.nextReply() {
                repliesDue -= 1
                if queueError == nil { queueError = reply.errorMessage }
                // `MULTI`'s and the queued commands' replies say nothing more than `EXEC`'s.
                guard repliesDue == 0 else { continue }
                replyDeadline = nil
                switch reply {
                case .array(let results):
                    // Redis does not undo a transaction whose command failed as it ran (a key of
                    // another type, say): the rest is in, the lines published, so sending it
                    // again would repeat them. Say so, and go on.
                    if let failure = results.lazy.compactMap(\.errorMessage).first {
                        logger.warning("Redis refused part of a batch of log lines", metadata: ["error": "\(failure)"])
                    }
                    applied()
                case .null: redisFailed(RedisError.server("the batch's transaction was aborted: the stream's meta changed since WATCH"))
                default: redisFailed(RedisError.server(queueError ?? "EXEC answered \(reply.kindDescription)"))
                }
            }
        } catch {
            redisFailed(error)
        }
    }

    private func applied() {
        if failures > 0 {
            logger.info("writing log lines to Redis again", metadata: ["redis": "\(redisConfiguration.url)"])
        }
        unapplied = nil
        failures = 0
    }

    /// The batch is sent again after a backoff, on a new connection: its replies could no
    /// longer be matched, or Redis refused (`READONLY` after a failover, say). A batch
    /// whose reply was lost may have been applied: `sendUnapplied` checks it first.
    private func redisFailed(_ error: any Error) {
        if failures == 0 {
            logger.warning("cannot write log lines to Redis, retrying", metadata: ["redis": "\(redisConfiguration.url)", "error": "\(error)"])
        }
        redis?.discardUndeliveredOnClose()
        redis = nil
        replyDeadline = nil
        nextAttempt = .now + Backoff().delay(attempt: failures)
        failures += 1
    }

    // MARK: Waiting

    /// Waits for whichever comes first of Docker's bytes (when they may be read), Redis's
    /// reply, a deadline, or cancellation, and handles it.
    private func waitAndHandleIO() throws {
        let now = ContinuousClock.now
        // The log's socket, while it may be read (now, or once the read pacing allows).
        let readable = isLogEnded || encoder.hasDecodedLines || batch.count >= Self.maxBatchLines ? nil : docker
        if let readable, nextRead <= now, readable.canReadWithoutWaiting {
            return try read(readable)
        }
        var deadlines: [ContinuousClock.Instant] = []
        if readable != nil, nextRead > now { deadlines.append(nextRead) }
        if unapplied == nil, batch.count > 0 { deadlines.append(nextBatch) }
        if unapplied != nil { deadlines.append(replyDeadline ?? nextAttempt) }

        var descriptors = [pollfd(fd: cancellation.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        let dockerIndex = readable.flatMap { nextRead <= now ? append($0.fileDescriptor, to: &descriptors) : nil }
        var redisIndex: Int?
        if replyDeadline != nil, let redis { redisIndex = append(redis.fileDescriptor, to: &descriptors) }

        let wait = deadlines.min().map { max($0 - now, .zero) }
        // `poll` counts whole milliseconds: a shorter wait (the read pacing's) is a check, then a sleep.
        let isShortWait = wait.map { $0 < .milliseconds(1) } ?? false
        var ready = poll(&descriptors, nfds_t(descriptors.count), wait.map { isShortWait ? 0 : Int32(clamping: $0.wholeMilliseconds) } ?? -1)
        if ready == 0, isShortWait, let wait {
            var pause = timespec(tv_sec: 0, tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
            _ = nanosleep(&pause, nil)
        }
        if ready < 0 {
            guard errno == EINTR else { throw IOError(errnoCode: errno, reason: "poll") }
            ready = 0
        }
        if descriptors[0].revents != 0 { throw CancellationError() }
        if let redisIndex, descriptors[redisIndex].revents != 0 { readReply() }
        if let readable, let dockerIndex, descriptors[dockerIndex].revents != 0 { try read(readable) }
        if let replyDeadline, ContinuousClock.now >= replyDeadline {
            // Replies on this connection can no longer be matched to commands: start afresh.
            redisFailed(RedisError.timeout(redisConfiguration.commandTimeout))
        }
    }

    private func read(_ docker: DockerLogSocket) throws {
        var chunk = ByteBuffer()
        guard try docker.read(into: &chunk) else {
            isLogEnded = true
            return
        }
        nextRead = Self.nextRead(afterReading: chunk.readableBytes, at: .now)
        try encoder.decode(&chunk)
    }

    /// When Docker's socket may be read again after a read of `bytes`: at once after a large
    /// read, else `busyReadInterval` later (a quiet log's line, coming later, is read at once).
    static func nextRead(afterReading bytes: Int, at now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        bytes >= largeRead ? now : now + busyReadInterval
    }

    /// Appends a `poll` entry for reading `descriptor`, returning its index.
    private func append(_ descriptor: Int32, to descriptors: inout [pollfd]) -> Int {
        descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
        return descriptors.count - 1
    }
}

extension Duration {
    /// Rounded up, so that a wait does not end before its deadline.
    fileprivate var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
