import Glibc
import Testing
@testable import Shared

struct OpenFileLimitTests {
    private let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    private func limits() -> rlimit {
        var limit = rlimit()
        _ = getrlimit(resource, &limit)
        return limit
    }

    @Test func raisesTheSoftLimitToTheHardLimit() throws {
        let original = limits()
        defer {
            var restored = original
            _ = setrlimit(resource, &restored)
        }
        // From below the hard limit, so that raising it has something to do.
        var lowered = original
        lowered.rlim_cur = min(original.rlim_max - 1, 1024)
        try #require(setrlimit(resource, &lowered) == 0)

        let raised = OpenFileLimit.raiseToHardLimit()
        #expect(raised == Int(clamping: original.rlim_max))
        #expect(limits().rlim_cur == original.rlim_max)
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
