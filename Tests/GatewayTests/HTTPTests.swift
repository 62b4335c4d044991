import Foundation
import Shared
import Testing
import TestSupport

extension Integration {
    @Suite struct HTTPTests {
        @Test func servesTheWebUIWithContentTypesAndSecurityHeaders() async throws {
            let fixture = try await Fixture()
            let page = try await fixture.gateway.get("/", headers: [:])
            #expect(page.status == 200 && page.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(page.body.contains("<title>Tailgate</title>"))
            #expect(
                page.header("Content-Security-Policy")
                    == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
            )
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            for (file, type) in [("app.js", "text/javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg+xml")] {
                let asset = try await fixture.gateway.get("/\(file)", headers: [:])
                #expect(asset.status == 200 && asset.header("Content-Type")?.hasPrefix(type) == true, "\(file)")
            }
            let missing = try await fixture.gateway.get("/nope.js", headers: [:])
            #expect(missing.status == 404 && missing.errorCode == "not_found" && missing.header("X-Content-Type-Options") == "nosniff")
        }

        @Test func apiNeedsATokenByHeaderCookieOrQuery() async throws {
            let fixture = try await Fixture()
            let gateway = fixture.gateway
            let refused = try await gateway.get("/api/agents", headers: [:])
            #expect(refused.status == 401 && refused.errorCode == "unauthorized")
            #expect(refused.header("Content-Security-Policy") != nil)
            #expect(try await gateway.get("/api/agents", headers: ["Authorization": "Bearer wrong"]).status == 401)
            #expect(try await gateway.get("/api/agents").status == 200)
            #expect(try await gateway.get("/api/agents", headers: ["Cookie": "a=b; tailgate_token=\(GatewayProcess.token)"]).status == 200)
            #expect(try await gateway.get("/api/agents?token=\(GatewayProcess.token)", headers: [:]).status == 200)
            #expect(try await gateway.get("/api/agents?token=nope", headers: [:]).status == 401)
        }

        @Test func signingInSetsTheSessionCookie() async throws {
            let fixture = try await Fixture()
            let port = fixture.gateway.port
            let signIn = try await HTTPProbe.request(port: port, method: "POST", path: "/api/session", headers: ["Content-Type": "application/json"], body: #"{"token":"\#(GatewayProcess.token)"}"#)
            #expect(signIn.status == 204)
            let cookie = try #require(signIn.header("Set-Cookie"))
            #expect(cookie.hasPrefix("tailgate_token=\(GatewayProcess.token);"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            let wrong = try await HTTPProbe.request(port: port, method: "POST", path: "/api/session", body: #"{"token":"wrong"}"#)
            #expect(wrong.status == 401 && wrong.errorCode == "unauthorized" && wrong.header("Set-Cookie") == nil)
            let signOut = try await HTTPProbe.request(port: port, method: "DELETE", path: "/api/session")
            #expect(signOut.status == 204 && signOut.header("Set-Cookie")?.contains("Max-Age=0") == true)
        }

        @Test func listsAgentsAndTheirContainersFromRedis() async throws {
            let fixture = try await Fixture()
            let offline = try FakeAgent(redis: fixture.client, agent: "old-host")
            try await offline.register([Fixture.web], online: false, streams: [Fixture.web.id])

            let agents = try await fixture.gateway.get("/api/agents")
            let list = try #require(try JSONSerialization.jsonObject(with: Data(agents.body.utf8)) as? [[String: Any]])
            #expect(list.map { $0["id"] as? String } == ["host-1", "old-host"])
            #expect(list[0]["online"] as? Bool == true && list[0]["containers"] as? Int == 3 && list[0]["activeStreams"] as? Int == 0)
            #expect(list[0]["hostname"] as? String == "host-1-host")
            #expect(list[1]["online"] as? Bool == false && list[1]["activeStreams"] as? Int == 1)
            let lastSeen = try #require(list[0]["lastSeen"] as? String)
            let seen = try #require(try? Date(lastSeen, strategy: .iso8601))
            #expect(abs(seen.timeIntervalSinceNow) < 5)

            let containers = try await fixture.gateway.get("/api/agents/host-1/containers")
            #expect(containers.status == 200)
            let decoded = try JSONDecoder().decode([ContainerInfo].self, from: Data(containers.body.utf8))
            #expect(decoded.map(\.name) == ["web", "api", "worker"])

            let unknown = try await fixture.gateway.get("/api/agents/nobody/containers")
            #expect(unknown.status == 404 && unknown.errorCode == "not_found")
            let hostile = try await fixture.gateway.get("/api/agents/%2A/containers")
            #expect(hostile.status == 400 && hostile.errorCode == "bad_request")
        }

        @Test func healthFollowsRedis() async throws {
            let fixture = try await Fixture()
            let up = try await fixture.gateway.get("/healthz", headers: [:])
            #expect(up.status == 200 && up.body == #"{"status":"ok","redis":"up"}"#)
            fixture.redis.kill()
            #expect(try await eventually { try await fixture.gateway.get("/healthz", headers: [:]).status == 503 })
            #expect(try await fixture.gateway.get("/healthz", headers: [:]).json?["redis"] as? String == "down")
            try await fixture.redis.start()
            #expect(try await eventually(timeout: .seconds(15)) { try await fixture.gateway.get("/healthz", headers: [:]).status == 200 })
        }

        @Test func exportsPrometheusMetrics() async throws {
            let fixture = try await Fixture()
            let metrics = try await fixture.gateway.get("/metrics", headers: [:])
            #expect(metrics.status == 200 && metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            for name in [
                "tailgate_gateway_connections", "tailgate_gateway_subscriptions", "tailgate_gateway_lines_delivered_total",
                "tailgate_gateway_lines_dropped_total", "tailgate_gateway_redis_reconnects_total",
            ] {
                #expect(metrics.body.contains(name), "\(name) missing from:\n\(metrics.body)")
            }
        }

        @Test func badConfigurationExitsWithCode2AndOneLine() async throws {
            let redis = try await RedisServer()
            let noToken = try await ChildProcess.run(GatewayProcess.executablePath, ["--redis", "redis://127.0.0.1:\(redis.port)"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(noToken.status == 2 && noToken.output.split(separator: "\n").count == 1 && noToken.output.contains("token"))
            let badURL = try await ChildProcess.run(GatewayProcess.executablePath, ["--no-auth", "--redis", "http://x"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(badURL.status == 2 && badURL.output.split(separator: "\n").count == 1)

            let running = try await GatewayProcess(redis: redis)
            let portInUse = try await ChildProcess.run(
                GatewayProcess.executablePath,
                ["--no-auth", "--redis", "redis://127.0.0.1:\(redis.port)", "--port", "\(running.port)"],
                environment: ["PATH": "/usr/bin:/bin"]
            )
            #expect(portInUse.status == 2)
            #expect(portInUse.output.split(separator: "\n").count == 1 && portInUse.output.contains("already in use"), "\(portInUse.output)")
        }
    }
}
