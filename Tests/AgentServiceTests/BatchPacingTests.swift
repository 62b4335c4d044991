@testable import AgentService
import Testing

struct BatchPacingTests {
    private func pause(after lines: Int) -> Duration {
        BatchPacing.pause(afterBatchOf: lines, maxBatchLines: 1000)
    }

    @Test func aQuietStreamAndABacklogDoNotWait() {
        #expect(pause(after: 0) == .zero)
        #expect(pause(after: 1) == .zero)
        #expect(pause(after: 1000) == .zero)
    }

    @Test func aBusyStreamWaitsLongerTheMoreLinesItsLastBatchHeld() {
        #expect(pause(after: 2) == BatchPacing.busyPause)
        #expect(pause(after: BatchPacing.floodLines - 1) == BatchPacing.busyPause)
        #expect(pause(after: BatchPacing.floodLines) == BatchPacing.floodPause)
        #expect(pause(after: 999) == BatchPacing.floodPause)
        #expect(BatchPacing.busyPause < BatchPacing.floodPause)
    }

    /// At the flood pause a stream keeps it until its rate falls well below the rate that
    /// brought it there, so a stream near the threshold does not switch every batch.
    @Test func theFloodPauseHoldsBelowTheRateThatStartedIt() {
        let linesPerSecondToStart = Double(BatchPacing.floodLines) / BatchPacing.busyPause.seconds
        let linesPerSecondToKeep = Double(BatchPacing.floodLines) / BatchPacing.floodPause.seconds
        #expect(linesPerSecondToKeep * 2 <= linesPerSecondToStart)
    }
}
