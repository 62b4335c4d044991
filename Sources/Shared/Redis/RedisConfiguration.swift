/// How a `RedisClient` connects: where, how long to wait, how to retry.
public struct RedisConfiguration: Sendable {
    public var url: RedisURL
    /// How long one connection attempt (TCP connect, AUTH, SELECT) may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply, including time spent waiting for a connection.
    public var commandTimeout: Duration
    /// Delays between reconnection attempts while Redis is unreachable.
    public var reconnectBackoff: Backoff
    /// How often an idle subscriber connection checks with `PING` that Redis still answers.
    public var subscriberPingInterval: Duration
    /// How many bytes of messages a subscriber holds for a consumer task that falls
    /// behind before it drops the connection (reporting `.disconnected`) and
    /// reconnects once the consumer has caught up halfway. (A subscriber's handler
    /// runs before the next read, so it is never behind.)
    public var subscriberBacklogLimit: Int

    public init(
        url: RedisURL,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5),
        reconnectBackoff: Backoff = Backoff(),
        subscriberPingInterval: Duration = .seconds(5),
        subscriberBacklogLimit: Int = 64 << 20
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
        self.subscriberPingInterval = subscriberPingInterval
        self.subscriberBacklogLimit = subscriberBacklogLimit
    }
}
