import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// An HTTP error answered as `{"error":{"code":…,"message":…}}` (SPEC §3).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    static let unauthorized = APIError(status: .unauthorized, code: "unauthorized", message: "a valid token is required (Authorization: Bearer, the tailgate_token cookie, or ?token=)")
    static let foreignOrigin = APIError(status: .forbidden, code: "forbidden", message: "this origin may not use the gateway")
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }

    init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Any error a handler threw, as the JSON error the client gets.
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as RedisError:
            self.init(status: .serviceUnavailable, code: "unavailable", message: error.description)
        case let error as any HTTPResponseError:
            let code = error.status == .notFound ? "not_found" : error.status.code < 500 ? "bad_request" : "internal"
            self.init(status: error.status, code: code, message: error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "internal", message: "internal error")
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(ErrorBody(error: .init(code: code, message: message)), status: status)
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

extension Response {
    /// A JSON response from an `Encodable` value.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        // Encoding plain structs of strings and numbers cannot fail.
        let body = (try? JSONEncoder().encode(value)) ?? Data()
        return .json(bytes: ByteBuffer(bytes: body), status: status)
    }

    /// A response carrying JSON text as it is.
    static func json(bytes: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: bytes))
    }
}
