import Foundation
import Glibc

/// CPU time (user + system) of processes, for "CPU seconds per 100k" figures.
enum CPUUsage {
    /// This process, all threads.
    static func thisProcess() -> Double { seconds(RUSAGE_SELF.rawValue) }

    /// Every child of this process reaped so far (e.g. `redis-benchmark` after it exited).
    static func reapedChildren() -> Double { seconds(RUSAGE_CHILDREN.rawValue) }

    /// Any process on this machine, from `/proc/PID/stat`; nil once it is gone.
    static func process(_ pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let commandEnd = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) " the fields start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident memory of a running process in KiB (`VmHWM`), nil once it is gone.
    static func peakResidentKiB(_ pid: pid_t) -> Double? { statusKiB(pid, field: "VmHWM:") }

    /// Resident memory of a running process now, in KiB (`VmRSS`), nil once it is gone.
    static func residentKiB(_ pid: pid_t) -> Double? { statusKiB(pid, field: "VmRSS:") }

    private static func statusKiB(_ pid: pid_t, field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }
        return nil
    }

    private static func seconds(_ who: __rusage_who_t) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
