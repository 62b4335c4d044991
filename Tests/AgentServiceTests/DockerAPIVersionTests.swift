import Testing
@testable import AgentService

@Suite struct DockerAPIVersionTests {
    @Test func parsesAndComparesNumerically() throws {
        let v1_9 = try #require(DockerAPIVersion("1.9"))
        let v1_41 = try #require(DockerAPIVersion("1.41"))
        #expect(v1_9 < v1_41)
        #expect(v1_41.description == "1.41")
        #expect(DockerAPIVersion("1") == nil)
        #expect(DockerAPIVersion("1.x") == nil)
        #expect(DockerAPIVersion("1.41.0") == nil)
        #expect(DockerAPIVersion("") == nil)
    }

    @Test func usesTheOlderOfEngineAndClient() {
        let old = DockerAPIVersion(major: 1, minor: 41)
        #expect(DockerAPIVersion.negotiate(engineMaximum: old, engineMinimum: DockerAPIVersion(major: 1, minor: 12)) == old)
        let new = DockerAPIVersion(major: 1, minor: 52)
        #expect(DockerAPIVersion.negotiate(engineMaximum: new, engineMinimum: nil) == .newestSupported)
    }

    @Test func neverGoesBelowTheEngineMinimum() {
        let minimum = DockerAPIVersion(major: 1, minor: 50)
        let chosen = DockerAPIVersion.negotiate(engineMaximum: DockerAPIVersion(major: 1, minor: 53), engineMinimum: minimum)
        #expect(chosen == minimum)
    }
}
