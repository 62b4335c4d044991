import Foundation
import NIOCore
import Shared
import Synchronization
import Testing
import TestSupport

/// Integration tests of the hiredis-based client against real `redis-server` processes.
@Suite("Redis client against a real Redis")
struct RedisClientTests {
    @Test func commandsRepliesAndErrors() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }

        try await client.send(RedisCommand("SET", "greeting", .bytes(Array("hello\r\n\0world".utf8))))
        let value = try await client.send(RedisCommand("GET", "greeting"))
        #expect(value == .bulkString(ByteBuffer(string: "hello\r\n\0world")))
        #expect(try await client.send(RedisCommand("GET", "missing")) == .null)
        #expect(try await client.send(RedisCommand("RPUSH", "list", "a", "b")).int() == 2)

        await #expect(throws: RedisError.self) { try await client.send(RedisCommand("GET", "list")) }
        do {
            try await client.send(RedisCommand("NOSUCHCOMMAND"))
            Issue.record("an unknown command must fail")
        } catch let error as RedisError {
            guard case .server(let message) = error else { throw error }
            #expect(message.contains("unknown command"))
        }
    }

    @Test func pipelineOfTenThousandCommands() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }

        let replies = try await client.pipeline(Array(repeating: RedisCommand("INCR", "counter"), count: 10_000))
        #expect(replies.count == 10_000)
        #expect(try replies.map { try $0.int() } == Array(1...10_000))
        #expect(try await server.cli("GET", "counter") == "10000")

        // An error reply in the middle of a pipeline stays in its place.
        let mixed = try await client.pipeline([RedisCommand("SET", "s", "1"), RedisCommand("LPUSH", "s", "x"), RedisCommand("GET", "s")])
        #expect(mixed[0] == .simpleString("OK"))
        guard case .error(let message) = mixed[1] else { Issue.record("expected WRONGTYPE, got \(mixed[1])"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(try mixed[2].string() == "1")
    }

    /// Replies bigger than a read and than the chunks the connection builds replies in,
    /// nested arrays with integers and nils, and errors among them, byte for byte.
    @Test func largeAndNestedRepliesArriveIntact() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }

        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }  // NULs, CR and LF among them
        let elements = (0..<2_000).map { "element \($0) " + String(repeating: "x", count: $0 % 300) }
        try await client.send(RedisCommand("SET", "big", .bytes(big)))
        _ = try await client.pipeline(stride(from: 0, to: elements.count, by: 500).map { start in
            RedisCommand("RPUSH", ["list"] + elements[start..<start + 500].map { .string($0) })
        })
        let replies = try await client.pipeline([
            RedisCommand("GET", "big"),
            RedisCommand("LRANGE", "list", 0, -1),
            RedisCommand("EVAL", "return {1, {2, 'x', false}, 'y'}", 0),
            RedisCommand("GET", "list"),
            RedisCommand("HMGET", "nohash", "a", "b"),
        ])
        #expect(replies[0] == .bulkString(ByteBuffer(bytes: big)))
        #expect(try replies[1].array().map { try $0.string() } == elements)
        #expect(replies[2] == .array([.integer(1), .array([.integer(2), .bulkString(ByteBuffer(string: "x")), .null]), .bulkString(ByteBuffer(string: "y"))]))
        guard case .error(let message) = replies[3] else { Issue.record("expected WRONGTYPE, got \(replies[3])"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[4] == .array([.null, .null]))
    }

    @Test func concurrentCallersGetTheirOwnReplies() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await client.send(RedisCommand("SET", "key\(index)", .string("value\(index)")))
                    #expect(try await client.send(RedisCommand("GET", "key\(index)")).string() == "value\(index)")
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func luaScriptReloadsAfterScriptFlush() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), connectionCount: 1, logger: testLogger)
        defer { client.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")

        #expect(try await client.run(script, keys: ["n"], arguments: [5]).int() == 5)
        #expect(try await client.run(script, keys: ["n"], arguments: [5]).int() == 10)
        try await server.cli("SCRIPT", "FLUSH")
        #expect(try await client.run(script, keys: ["n"], arguments: [1]).int() == 11)
        #expect(try await server.cli("GET", "n") == "11")
    }

    @Test func luaScriptTakesThousandsOfTrailingArguments() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }
        let script = RedisScript("redis.call('RPUSH', KEYS[1], unpack(ARGV, 2)); return ARGV[1]")
        var frames = RedisBulkArguments()
        for index in 0..<5000 { frames.append(Array("line \(index)\r\n\0".utf8)) }

        #expect(try await client.run(script, keys: ["lines"], arguments: ["first"], trailing: frames).string() == "first")
        let stored = try await client.send(RedisCommand("LRANGE", "lines", "0", "-1")).array()
        #expect(stored.count == 5000)
        #expect(stored.first == .bulkString(ByteBuffer(string: "line 0\r\n\0")))
        #expect(stored.last == .bulkString(ByteBuffer(string: "line 4999\r\n\0")))
    }

    @Test func transactionAppliesThousandsOfCommandsAndAnswersEach() async throws {
        let server = try await RedisServer()
        let connection = try BlockingRedisConnection(configuration: server.configuration())
        var frames = RedisBulkArguments()
        for index in 0..<3000 { frames.append(Array("line \(index)\r\n\0".utf8)) }
        var transaction = RedisTransaction()
        transaction.append("RPUSH", ["lines"], trailing: frames)
        transaction.append("SADD", ["set"], forEachOf: frames)
        transaction.end()
        let replies = try connection.run(transaction)
        #expect(replies.count == 3003)
        #expect(replies.first == .simpleString("OK"))
        #expect(replies[1..<3002].allSatisfy { $0 == .simpleString("QUEUED") })
        #expect(replies.last == .array([.integer(3000)] + Array(repeating: .integer(1), count: 3000)))
        #expect(try await server.cli("SCARD", "set") == "3000")
        let stored = try connection.roundTrip(RedisCommand("LRANGE", "lines", "0", "-1")).array()
        #expect(stored.count == 3000)
        #expect(stored.last == .bulkString(ByteBuffer(string: "line 2999\r\n\0")))
    }

    @Test func subscriberReceivesHundredThousandMessagesInOrder() async throws {
        try await withSubscriber { server, client, subscriber, stream in
            try await subscriber.subscribe(["numbers"])

            let total = 100_000
            async let publishing: Void = {
                for batch in stride(from: 0, to: total, by: 1_000) {
                    let commands = (batch..<batch + 1_000).map { RedisCommand("PUBLISH", "numbers", .string(String($0))) }
                    _ = try await client.pipeline(commands)
                }
            }()

            var expected = 0
            for await event in stream {
                guard case .message(let channel, let payload) = event else { continue }
                #expect(channel == "numbers")
                guard String(buffer: payload) == String(expected) else {
                    Issue.record("message \(expected) arrived as \(String(buffer: payload))")
                    break
                }
                expected += 1
                if expected == total { break }
            }
            try await publishing
            #expect(expected == total)
        }
    }

    @Test func aHandlerGetsWhatArrivedTogetherInOneCall() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        let calls = Mutex<[[String]]>([])
        let subscriber = client.makeSubscriber { events in
            let payloads = events.compactMap { event in if case .message(_, let payload) = event { String(buffer: payload) } else { nil } }
            calls.withLock { $0.append(payloads) }
        }
        defer {
            subscriber.close()
            client.close()
        }
        try await subscriber.subscribe(["bulk"])
        _ = try await client.pipeline((0..<1000).map { RedisCommand("PUBLISH", "bulk", .string(String($0))) })
        #expect(try await eventually { calls.withLock { $0.joined().count } >= 1000 })
        let received = calls.withLock { $0 }
        #expect(Array(received.joined()) == (0..<1000).map { String($0) })
        #expect(received.count < 100, "the messages of one read come together: \(received.count) calls")
    }

    /// Messages of two channels in turn, empty and larger than a read among them: each keeps its channel and bytes.
    @Test func interleavedMessagesKeepTheirChannelsAndBytes() async throws {
        try await withSubscriber { _, client, subscriber, stream in
            try await subscriber.subscribe(["odd", "even"])
            let payloads = (0..<600).map { index -> [UInt8] in
                let size = index == 300 ? 200_000 : (index * 37) % 400
                return (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            }
            let channel = { (index: Int) in index.isMultiple(of: 3) ? "even" : "odd" }
            _ = try await client.pipeline(payloads.indices.map { RedisCommand("PUBLISH", .string(channel($0)), .bytes(payloads[$0])) })
            var index = 0
            for await event in stream {
                guard case .message(let received, let payload) = event else { continue }
                #expect(received == channel(index) && Array(payload.readableBytesView) == payloads[index], "message \(index)")
                index += 1
                if index == payloads.count { break }
            }
            #expect(index == payloads.count)
        }
    }

    /// A handler gets every message in order, on the connection's I/O thread, and is told of a lost and regained connection.
    @Test func handlerGetsEveryMessageInOrderAndTheReconnect() async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        let received = Mutex<[RedisSubscriberEvent]>([])
        let calledInATask = Mutex(false)
        let subscriber = client.makeSubscriber { events in
            if withUnsafeCurrentTask(body: { $0 != nil }) { calledInATask.withLock { $0 = true } }
            received.withLock { $0.append(contentsOf: events) }
        }
        defer {
            subscriber.close()
            client.close()
        }
        try await subscriber.subscribe(["numbers"])
        let total = 10_000
        _ = try await client.pipeline((0..<total).map { RedisCommand("PUBLISH", "numbers", .string(String($0))) })
        #expect(try await eventually { received.withLock { $0.count } >= total })
        let expected = (0..<total).map { RedisSubscriberEvent.message(channel: "numbers", payload: ByteBuffer(string: String($0))) }
        #expect(received.withLock { $0 } == expected)

        server.kill()
        try await server.start()
        #expect(try await eventually { received.withLock { $0.contains(.reconnected) } })
        let changes = received.withLock { events in events.filter { if case .message = $0 { false } else { true } } }
        guard case .disconnected? = changes.first else {
            Issue.record("the handler is told the connection was lost before it is told it is back: \(changes)")
            return
        }
        // Subscribed again: a message published now reaches the handler.
        let after = RedisSubscriberEvent.message(channel: "numbers", payload: ByteBuffer(string: "after"))
        #expect(try await eventually {
            _ = try? await client.send(RedisCommand("PUBLISH", "numbers", "after"))
            return received.withLock { $0.contains(after) }
        })
        #expect(!calledInATask.withLock { $0 }, "called on the connection's I/O thread, never in a task")
    }

    @Test func subscribeAndUnsubscribeAtAnyTime() async throws {
        try await withSubscriber { server, client, subscriber, stream in
            var events = stream.makeAsyncIterator()

            try await subscriber.subscribe(["a"])
            try await subscriber.subscribe(["b", "c"])
            try await subscriber.unsubscribe(["a"])
            // Unsubscribed "a" gets nothing; the marker on "c" proves the order.
            _ = try await client.pipeline([RedisCommand("PUBLISH", "a", "1"), RedisCommand("PUBLISH", "b", "2"), RedisCommand("PUBLISH", "c", "3")])
            #expect(await events.next() == .message(channel: "b", payload: ByteBuffer(string: "2")))
            #expect(await events.next() == .message(channel: "c", payload: ByteBuffer(string: "3")))
            #expect(try await client.send(RedisCommand("PUBSUB", "NUMSUB", "a", "b")).array() == [
                .bulkString(ByteBuffer(string: "a")), .integer(0), .bulkString(ByteBuffer(string: "b")), .integer(1),
            ])
        }
    }

    @Test func survivesRedisKilledAndRestarted() async throws {
        try await withSubscriber(connectionCount: 1) { server, client, subscriber, stream in
            var events = stream.makeAsyncIterator()
            try await subscriber.subscribe(["news"])
            try await client.send(RedisCommand("SET", "before", "1"))

            server.kill()
            // While Redis is down a command fails with a clear error rather than hanging.
            await #expect(throws: RedisError.self) { try await client.send(RedisCommand("GET", "before")) }
            guard case .disconnected? = await events.next() else {
                Issue.record("the subscriber must report the lost connection")
                return
            }

            try await server.start()
            #expect(await events.next() == .reconnected)
            // Restarted without persistence: the old key is gone, the client works.
            #expect(try await client.send(RedisCommand("GET", "before")) == .null)
            // Publish until the re-subscribed subscriber has it. On a loaded machine a second
            // drop can follow the reconnect; the subscriber must come back from that too.
            let expected = RedisSubscriberEvent.message(channel: "news", payload: ByteBuffer(string: "after"))
            var received = false
            for _ in 0..<200 where !received {
                guard try await client.send(RedisCommand("PUBLISH", "news", "after")).int() == 1 else {
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                while let event = await events.next() {
                    if event == expected { received = true }
                    if case .message = event { break }
                    if case .disconnected = event { break }
                }
            }
            #expect(received)
        }
    }

    @Test func subscriberThatFallsBehindDropsTheConnectionAndSaysSo() async throws {
        let server = try await RedisServer()
        var configuration = server.configuration()
        configuration.subscriberBacklogLimit = 64 * 1024
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        let (subscriber, stream) = RedisSubscriber.withEvents(configuration: configuration, logger: testLogger)
        defer {
            subscriber.close()
            client.close()
        }
        try await subscriber.subscribe(["flood"])

        // 1 MiB while nobody reads the events: sixteen times the limit.
        let payload = String(repeating: "x", count: 1024)
        _ = try await client.pipeline((0..<1024).map { _ in RedisCommand("PUBLISH", "flood", .string(payload)) })
        var subscribers: Int?
        let numberSubscribed = {
            subscribers = try await client.send(RedisCommand("PUBSUB", "NUMSUB", "flood")).array()[1].int()
            return subscribers
        }
        #expect(try await eventually { try await numberSubscribed() == 0 }, "the subscriber let go of the connection: \(String(describing: subscribers))")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await numberSubscribed() == 0, "and stays away while its consumer is behind")

        var events = stream.makeAsyncIterator()
        var messages = 0
        var disconnect: RedisError?
        reading: while let event = await events.next() {
            switch event {
            case .message: messages += 1
            case .disconnected(let error): disconnect = error
            case .reconnected: break reading
            }
        }
        #expect(disconnect.map { "\($0)".contains("behind") } == true, "\(String(describing: disconnect))")
        #expect(messages > 0 && messages < 1024, "what was read is delivered, nothing beyond the limit kept: \(messages)")

        // Caught up: subscribed again, new messages arrive.
        #expect(try await eventually { try await numberSubscribed() == 1 }, "\(String(describing: subscribers))")
        try await client.send(RedisCommand("PUBLISH", "flood", "after"))
        #expect(await events.next() == .message(channel: "flood", payload: ByteBuffer(string: "after")))
    }

    @Test func commandTimesOutWhileRedisSleeps() async throws {
        let server = try await RedisServer()
        let configuration = server.configuration(commandTimeout: .milliseconds(300))
        let client = RedisClient(configuration: configuration, connectionCount: 1, logger: testLogger)
        let other = RedisClient(configuration: configuration, connectionCount: 1, logger: testLogger)
        defer {
            client.close()
            other.close()
        }
        try await client.send(RedisCommand("SET", "k", "v"))
        try await other.send(RedisCommand("PING"))

        // DEBUG SLEEP blocks the whole server; the GET behind it cannot be answered in time.
        let started = ContinuousClock.now
        await #expect(throws: RedisError.timeout(.milliseconds(300))) {
            try await client.pipeline([RedisCommand("DEBUG", "SLEEP", "1.5"), RedisCommand("GET", "k")])
        }
        // Redis sleeps for another second: any other connection times out too.
        await #expect(throws: RedisError.timeout(.milliseconds(300))) {
            try await other.send(RedisCommand("GET", "k"))
        }
        #expect(ContinuousClock.now - started < .milliseconds(1400))

        // Once Redis wakes up, both clients work again on fresh connections.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await client.send(RedisCommand("GET", "k")).string() == "v")
        #expect(try await other.send(RedisCommand("GET", "k")).string() == "v")
    }

    @Test func authenticatesWithPassword() async throws {
        let server = try await RedisServer(password: "s3cret")
        let client = RedisClient(configuration: server.configuration(), logger: testLogger)
        defer { client.close() }
        #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))

        var wrong = server.configuration(commandTimeout: .milliseconds(500))
        wrong.url.password = "wrong"
        let rejected = RedisClient(configuration: wrong, logger: testLogger)
        defer { rejected.close() }
        do {
            try await rejected.send(RedisCommand("PING"))
            Issue.record("a wrong password must be refused")
        } catch let error as RedisError {
            guard case .authenticationFailed(let message) = error else { throw error }
            #expect(message.contains("WRONGPASS"))
            #expect(error.description.hasPrefix("Redis authentication failed"))
        }

        var none = wrong
        none.url.password = nil
        let anonymous = RedisClient(configuration: none, logger: testLogger)
        defer { anonymous.close() }
        await #expect(throws: RedisError.server("NOAUTH Authentication required.")) {
            try await anonymous.send(RedisCommand("PING"))
        }
    }

    @Test func selectsDatabaseAndConnectsOverUnixSocket() async throws {
        let server = try await RedisServer()
        let url = try RedisURL("unix://\(server.socketPath)?db=3")
        let client = RedisClient(configuration: RedisConfiguration(url: url), logger: testLogger)
        defer { client.close() }
        try await client.send(RedisCommand("SET", "where", "db3"))
        #expect(try await server.cli("-n", "3", "GET", "where") == "db3")
        #expect(try await server.cli("GET", "where") == "")
    }

    @Test func unreachableRedisGivesClearError() async throws {
        let port = try freeTCPPort()
        let configuration = RedisConfiguration(url: try RedisURL("redis://127.0.0.1:\(port)"), commandTimeout: .milliseconds(300))
        let client = RedisClient(configuration: configuration, logger: testLogger)
        defer { client.close() }
        do {
            try await client.send(RedisCommand("PING"))
            Issue.record("no Redis listens there")
        } catch let error as RedisError {
            guard case .connectionUnavailable(let message) = error else { throw error }
            #expect(message.contains("Connection refused"))
        }
    }

    /// A private Redis, a client and a subscriber on it, closed after `body`.
    private func withSubscriber(
        connectionCount: Int = 2,
        _ body: (RedisServer, RedisClient, RedisSubscriber, RedisSubscriberEvents) async throws -> Void
    ) async throws {
        let server = try await RedisServer()
        let client = RedisClient(configuration: server.configuration(), connectionCount: connectionCount, logger: testLogger)
        let (subscriber, stream) = client.makeSubscriber()
        defer {
            subscriber.close()
            client.close()
        }
        try await body(server, client, subscriber, stream)
    }
}
