/// A Docker Engine API version such as `1.41`, compared numerically (1.9 < 1.41).
public struct DockerAPIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    /// The newest API this client was written against. The endpoints it uses are unchanged
    /// across 1.24...1.5x, so a newer engine is simply asked to speak this version.
    public static let newestSupported = DockerAPIVersion(major: 1, minor: 47)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            return nil
        }
        self.init(major: major, minor: minor)
    }

    /// The version to use with an engine that speaks `engineMinimum...engineMaximum`:
    /// our newest if the engine knows it, else the engine's newest, but never below the engine's
    /// minimum (Docker 29 refuses anything older than 1.44).
    public static func negotiate(engineMaximum: DockerAPIVersion, engineMinimum: DockerAPIVersion?) -> DockerAPIVersion {
        let chosen = min(engineMaximum, newestSupported)
        guard let engineMinimum else { return chosen }
        return max(chosen, engineMinimum)
    }

    public static func < (lhs: DockerAPIVersion, rhs: DockerAPIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(major).\(minor)" }
}
