import CHiredis
import Glibc
import NIOCore

/// Wakes a thread that waits in `poll`, from any thread: an eventfd, readable
/// from `signal()` until `reset()`.
public final class ThreadWakeup: Sendable {
    public let fileDescriptor: Int32

    public init() throws {
        fileDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard fileDescriptor >= 0 else { throw IOError(errnoCode: errno, reason: "eventfd") }
    }

    deinit {
        close(fileDescriptor)
    }

    public func signal() {
        var one: UInt64 = 1
        _ = write(fileDescriptor, &one, 8)
    }

    /// Whether `signal()` was called since the last `reset()`.
    public var isSignalled: Bool { FileDescriptorIO.isReadable(fileDescriptor) }

    /// Makes it unreadable again, for the next `signal()`.
    public func reset() {
        var counter: UInt64 = 0
        _ = read(fileDescriptor, &counter, 8)
    }
}
