import HTTPTypes
import Hummingbird

/// Refuses requests the `AccessPolicy` does not allow: 403 for a foreign
/// `Origin`, 401 without a valid token.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let credentials = AccessPolicy.Credentials(
            authorization: request.headers[.authorization],
            cookieHeaders: request.headers[values: .cookie],
            query: request.uri.query,
            origin: request.headers[.origin],
            host: request.head.authority
        )
        switch policy.decide(credentials) {
        case .allowed: return try await next(request, context)
        case .unauthorized: throw APIError.unauthorized
        case .foreignOrigin: throw APIError.foreignOrigin
        }
    }
}
