/// A Docker log stream that cannot be decoded. Decoding stops at the offending
/// bytes: every later call reports the same error, so nothing is misread after it.
public enum DockerLogDecodingError: Error, Equatable, CustomStringConvertible {
    /// The first header byte is not a stream type (0 stdin, 1 stdout, 2 stderr, 3 daemon error).
    case unknownStreamType(UInt8)
    /// Header bytes 1-3 must be zero.
    case nonZeroFramePadding(header: [UInt8])
    /// The header announces a payload larger than any Docker log message can be.
    case frameTooLarge(length: UInt32, limit: Int)
    /// Docker reported an error inside the stream (stream type 3) and ended it.
    case daemonError(String)
    /// The stream ended inside a frame: the connection broke.
    case truncatedFrame(expectedBytes: Int, receivedBytes: Int)

    public var description: String {
        switch self {
        case .unknownStreamType(let type):
            return "Docker log frame has stream type \(type), expected 0 (stdin), 1 (stdout), 2 (stderr) or 3 (daemon error)"
                + " — is the stream a TTY container's raw log read as multiplexed?"
        case .nonZeroFramePadding(let header):
            let hex = header.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }
            return "Docker log frame header \(hex.joined(separator: " ")) has nonzero padding in bytes 1-3; the stream is corrupt"
        case .frameTooLarge(let length, let limit):
            return "Docker log frame announces \(length) payload bytes, more than the \(limit) any log message can have;"
                + " the stream is corrupt"
        case .daemonError(let message):
            return "Docker reported an error in the log stream: \(message)"
        case .truncatedFrame(let expectedBytes, let receivedBytes):
            return "Docker log stream ended inside a frame after \(receivedBytes) of \(expectedBytes) bytes"
        }
    }
}
