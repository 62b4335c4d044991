import Glibc
import Testing
@testable import Shared

struct OpenFileLimitTests {
    private func limits() -> rlimit {
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return limit
    }

    @Test func raisesTheSoftLimitToTheHardLimit() {
        let raised = OpenFileLimit.raiseToHardLimit()
        #expect(raised == Int(clamping: limits().rlim_max))
        #expect(limits().rlim_cur == limits().rlim_max)
    }

    @Test func refusesMoreThanTheHardLimitWithAClearError() {
        // Linux caps the hard limit at fs.nr_open, far below Int.max.
        #expect {
            try OpenFileLimit.raise(to: Int(clamping: limits().rlim_max) + 1)
        } throws: { error in
            "\(error)".contains("hard limit")
        }
    }
}

struct ThreadWakeupTests {
    @Test func isSignalledFromSignalUntilReset() throws {
        let wakeup = try ThreadWakeup()
        #expect(!wakeup.isSignalled)
        wakeup.signal()
        wakeup.signal()
        #expect(wakeup.isSignalled)
        wakeup.reset()
        #expect(!wakeup.isSignalled, "one reset takes every signal so far")
    }
}
