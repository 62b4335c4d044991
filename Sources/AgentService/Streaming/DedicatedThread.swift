import Foundation
import Shared

/// Runs blocking work on a thread of its own and awaits its result, so that the
/// work may block on sockets without holding an event loop or the cooperative pool.
/// Cancelling the awaiting task signals the wake-up the work is given, which it
/// polls beside its sockets; it then ends by throwing `CancellationError`.
func runOnDedicatedThread<Value: Sendable>(
    named name: String,
    _ work: @escaping @Sendable (ThreadWakeup) throws -> Value
) async throws -> Value {
    let cancellation = try ThreadWakeup()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try work(cancellation) })
            }
            thread.name = name
            thread.start()
        }
    } onCancel: {
        cancellation.signal()
    }
}
