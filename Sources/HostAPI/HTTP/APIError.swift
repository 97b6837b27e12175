import Foundation
import HTTPTypes
import HostDispatch
import HostStore
import Hummingbird
import Logging
import NIOCore
import ProviderWire

/// An error answered as JSON `{"error": "...", "code": "..."}` with a status the client can act on.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Extra members of the error object (e.g. Molecule's `removed_at` on 410).
    public var extra: [String: JSONValue] = [:]
    /// Extra response headers (`Allow` on 405, `Retry-After` on 429).
    public var headers: HTTPFields = [:]

    public init(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [String: JSONValue] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object = extra
        object["error"] = .string(message)
        object["code"] = .string(code)
        let body = (try? WireCoding.encode(JSONValue.object(object))) ?? Array(#"{"error":"internal error"}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static let unauthorized = APIError(.unauthorized, "unauthorized", "missing or invalid bearer token")
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }

    /// Maps any error from a handler: API errors as they are, database outages to 503, provider errors by status.
    static func from(_ error: any Error) -> any Error {
        switch error {
        case let error as APIError: return error
        case let error as any HTTPResponseError: return error
        case let error as PostgresError where error.isUnavailable:
            return APIError(.serviceUnavailable, "platform_unavailable", "the database is unavailable: \(error.message); retry shortly")
        case let error as Migrator.Failure:
            return APIError(.serviceUnavailable, "platform_unavailable", error.description)
        case let error as DispatchError: return fromDispatch(error)
        case let error as WorkspaceLifecycle.CreateError: return APIError.badRequest(error.description)
        case is PostgresError:
            // The statement's text and the server's message stay in the log: they can quote SQL and values.
            return APIError(.internalServerError, "database_error", "a database statement failed; the Host's log has the details")
        default:
            return APIError(.internalServerError, "internal", "\(error)")
        }
    }

    static func fromDispatch(_ error: DispatchError) -> APIError {
        switch error {
        case .providerNotLoaded: return APIError(.serviceUnavailable, "provider_unavailable", error.description)
        case .providerNotAllowed: return APIError(.badRequest, "invalid_request", error.description)
        case .noProvider: return APIError(.serviceUnavailable, "provider_unavailable", error.description)
        case .reloadFailed: return APIError(.unprocessableContent, "reload_failed", error.description)
        case .templateNotSeeded: return APIError(.unprocessableContent, "template_not_seeded", error.description)
        case .provider(let status, _, _, _, _):
            let (http, code): (HTTPResponse.Status, String) =
                switch status {
                case .notFound: (.notFound, "not_found")
                case .invalidArgument: (.badRequest, "invalid_request")
                case .alreadyExists, .conflict: (.conflict, "conflict")
                case .unsupported: (.notImplemented, "unsupported")
                case .unavailable: (.serviceUnavailable, "provider_unavailable")
                case .deadlineExceeded: (.gatewayTimeout, "deadline_exceeded")
                case .quotaExceeded: (.tooManyRequests, "quota_exceeded")
                case .unauthenticated: (.badGateway, "provider_unauthenticated")
                case .internal, .ok: (.badGateway, "provider_error")
                }
            return APIError(http, code, error.description)
        }
    }
}

/// Catches every handler error and answers it as ``APIError`` JSON.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code =
                switch error.status {
                case .contentTooLarge: "payload_too_large"
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                default: "http_error"
                }
            throw APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "payload_too_large", "request body is larger than this endpoint accepts")
        } catch {
            let converted = APIError.from(error)
            if let api = converted as? APIError, api.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(error)", "status": "\(api.status.code)"])
            }
            throw converted
        }
    }
}
