import Glibc

/// The open-file limit (RLIMIT_NOFILE) of this process, raised for thousands of sockets.
enum OpenFileLimit {
    /// Raises the soft limit to at least `needed` (capped at the hard limit) and returns it.
    /// Children started afterwards inherit it: the gateway under test needs as many
    /// descriptors as the load client, one per connection.
    @discardableResult
    static func raise(to needed: Int) throws -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { throw BenchError("getrlimit(RLIMIT_NOFILE) failed") }
        let wanted = rlim_t(needed)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            guard setrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { throw BenchError("setrlimit(RLIMIT_NOFILE, \(needed)) failed") }
        }
        guard limit.rlim_cur >= wanted else {
            throw BenchError("need \(needed) open files, but the hard limit is \(limit.rlim_max) (raise it with ulimit -Hn)")
        }
        return Int(limit.rlim_cur)
    }

    // Glibc imports RLIMIT_NOFILE as an enum case on some platforms and as an Int32 on others.
    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
