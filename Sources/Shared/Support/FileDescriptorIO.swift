import Glibc
import NIOCore

/// The blocking-socket calls that the threads owning a socket share: the agent's log
/// followers (Docker and Redis) and the benchmark's blocking load client.
public enum FileDescriptorIO {
    /// Sends all of `bytes`, again after a signal cuts a call short, never raising SIGPIPE.
    /// - Parameter flags: added to `MSG_NOSIGNAL` (`MSG_DONTWAIT` for a caller that must not block).
    public static func sendAll(_ bytes: [UInt8], on descriptor: Int32, flags: Int32 = 0) throws(IOError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL) | flags) }
            if count >= 0 {
                sent += count
            } else if errno != EINTR {
                throw IOError(errnoCode: errno, reason: "send")
            }
        }
    }

    /// Whether `descriptor` has something to read (or has hung up) right now, without waiting.
    public static func isReadable(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }
}
