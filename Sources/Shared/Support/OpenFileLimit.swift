import Glibc

/// The open-file limit (RLIMIT_NOFILE) of this process, raised for many sockets.
public enum OpenFileLimit {
    public struct Shortfall: Error, CustomStringConvertible {
        public let description: String
    }

    /// Raises the soft limit to at least `needed` (capped at the hard limit) and returns it.
    /// Children started afterwards inherit it.
    @discardableResult
    public static func raise(to needed: Int) throws(Shortfall) -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { throw Shortfall(description: "getrlimit(RLIMIT_NOFILE) failed") }
        let wanted = rlim_t(needed)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            guard setrlimit(resource, &limit) == 0 else { throw Shortfall(description: "setrlimit(RLIMIT_NOFILE, \(needed)) failed") }
        }
        guard limit.rlim_cur >= wanted else {
            throw Shortfall(description: "need \(needed) open files, but the hard limit is \(limit.rlim_max) (raise it with ulimit -Hn)")
        }
        return Int(limit.rlim_cur)
    }

    /// Raises the soft limit as far as the hard limit allows (as Go programs do at start) and returns it.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        return (try? raise(to: Int(clamping: limit.rlim_max))) ?? Int(clamping: limit.rlim_cur)
    }

    // Glibc imports RLIMIT_NOFILE as an enum case on some platforms and as an Int32 on others.
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
