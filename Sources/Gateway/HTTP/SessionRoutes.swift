import Foundation
import Hummingbird

/// `POST /api/session` trades a token for the `tailgate_token` cookie the web
/// UI then authenticates with; `DELETE /api/session` signs out.
struct SessionRoutes: Sendable {
    let policy: AccessPolicy

    private struct SignIn: Decodable {
        var token: String
    }

    func add(to group: RouterGroup<BasicRequestContext>) {
        group.post { request, context in
            let body = try await request.body.collect(upTo: 4096)
            guard let signIn = try? JSONDecoder().decode(SignIn.self, from: body) else {
                throw APIError.badRequest(#"expected {"token": "…"}"#)
            }
            guard policy.allowsAnonymous || policy.isValid(signIn.token) else { throw APIError.unauthorized }
            var response = Response(status: .noContent)
            response.setCookie(Cookie(name: AccessPolicy.cookieName, value: signIn.token, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        group.delete { _, _ in
            var response = Response(status: .noContent)
            response.setCookie(Cookie(name: AccessPolicy.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
    }
}
