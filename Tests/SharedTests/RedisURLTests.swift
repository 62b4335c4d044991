import Shared
import Testing

struct RedisURLTests {
    @Test func parsesTCPURLWithCredentialsAndDatabase() throws {
        let url = try RedisURL("redis://user:p%40ss@cache.example:6380/2")
        #expect(url.endpoint == .tcp(host: "cache.example", port: 6380))
        #expect(url.username == "user")
        #expect(url.password == "p@ss")
        #expect(url.database == 2)
        #expect(url.description == "redis://user@cache.example:6380/2")
    }

    @Test func appliesDefaults() throws {
        let url = try RedisURL("redis://127.0.0.1")
        #expect(url == RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379)))
        #expect(try RedisURL("redis://:pw@h:1").password == "pw")
        #expect(try RedisURL("redis://:pw@h:1").description == "redis://:***@h:1/0")
    }

    @Test func parsesUnixSocketURL() throws {
        let url = try RedisURL("unix:///run/redis/redis.sock?db=1&password=x")
        #expect(url.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(url.database == 1)
        #expect(url.password == "x")
    }

    @Test(arguments: ["", "localhost:6379", "http://h:1", "redis://", "redis://h:1/x", "redis://h:99999", "unix://", "unix://relative.sock"])
    func rejectsUnusableURLs(_ string: String) {
        #expect(throws: RedisError.self) { try RedisURL(string) }
    }
}
