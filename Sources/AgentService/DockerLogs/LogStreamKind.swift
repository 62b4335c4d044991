/// Which output of a container a log line came from. The raw values are the
/// `stream` values of a `Line` on the wire (SPEC §4).
public enum LogStreamKind: String, Sendable, CaseIterable {
    case stdout
    case stderr
    /// A container started with a TTY has one merged output stream.
    case tty
}
