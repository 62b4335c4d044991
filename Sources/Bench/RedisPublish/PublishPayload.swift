import Shared

/// The message both clients publish: a real `log.line` frame padded to the
/// wanted size, so Redis and the client handle what the agent sends.
enum PublishPayload {
    static let channel = "bench-channel"

    static func frame(bytes size: Int) -> [UInt8] {
        func frame(message: String) -> [UInt8] {
            LogLineFrame.encode(
                LogLine(
                    agentId: "bench-host",
                    containerId: String(repeating: "c0ffee42", count: 8),
                    seq: 1_234_567,
                    epoch: "0123456789abcdef",
                    timestamp: "2025-01-01T12:34:56.123456789Z",
                    stream: "stdout",
                    message: message
                ))
        }
        let overhead = frame(message: "").count
        let text = "GET /api/items?page=2 200 12ms user-agent=curl/8.5.0 request-id=4f1c2a9e "
        let message = String(String(repeating: text, count: size / text.count + 1).prefix(max(0, size - overhead)))
        return frame(message: message)
    }
}
