/// One complete log line of a container, as decoded from Docker's log stream.
public struct DockerLogRecord: Sendable, Equatable {
    public var stream: LogStreamKind
    /// The time Docker received the line's first byte (for a line Docker split, its first part).
    public var timestamp: DockerTimestamp
    /// The line without its trailing newline; at most the decoder's `maxMessageBytes` UTF-8 bytes.
    public var message: String
}
