import Foundation

/// `sh` scripts for busybox containers that print numbered lines.
enum PacedLogScript {
    /// Prints `1`, `2`, … at `linesPerSecond` for ever. Busybox has no sub-second clock but
    /// `/proc/uptime` (centiseconds, read by the shell builtin `read`), so the loop catches up
    /// to the rate every tick instead of sleeping a fixed time per line, which would drift with
    /// the machine's load. Each `echo` is its own write, so Docker stamps every line separately.
    ///
    /// The tick is a `read -t` on a pipe that never delivers (from `sleep`), not `usleep`:
    /// busybox's `usleep` forks, and 100 containers forking 100 times a second took more of
    /// the 2 cores than the product under test.
    static func paced(linesPerSecond: Int, tickMilliseconds: Int) -> String {
        """
        sleep 1000000 | {
          read s _ </proc/uptime; s=${s%.*}${s#*.}; i=0
          while :; do
            read t _ </proc/uptime; t=${t%.*}${t#*.}; n=$(( (t - s) * \(linesPerSecond) / 100 ))
            while [ $i -lt $n ]; do i=$((i+1)); echo $i; done
            read -t \(String(format: "%.3f", Double(tickMilliseconds) / 1000)) _
          done
        }
        """
    }

    /// Waits `delay` seconds (so a client can subscribe first), then prints `1`…`lines` as fast as `seq` can.
    static func burst(lines: Int, after delay: Int) -> String { "sleep \(delay); seq 1 \(lines)" }

    /// Prints `1`…`lines` and then stays up silent: a stream with a full history and no live lines.
    static func idle(lines: Int) -> String { "seq 1 \(lines); exec sleep 1000000" }
}
