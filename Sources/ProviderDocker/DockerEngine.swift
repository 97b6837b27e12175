import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire

/// The Docker Engine API over its unix socket, through libcurl. One easy handle per request, on the calling
/// (provider worker) thread; every request is bounded by the call's deadline.
struct DockerEngine: Sendable {
    /// The engine API version the provider speaks (Docker 20.10+).
    static let apiVersion = "v1.41"

    let socketPath: String

    /// An engine answer: HTTP status, headers (names lowercased) and body.
    struct Reply {
        var status: Int
        var body: [UInt8]
        var headers: [String: String] = [:]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? WireCoding.decode(JSONValue.self, from: body) }
        /// The engine's error message (`{"message": …}`), or a bounded excerpt of the body.
        var message: String { json?["message"]?.stringValue ?? String(text.prefix(300)) }
    }

    /// Sends one request. Transport failures are UNAVAILABLE (retryable); HTTP statuses are returned for the caller
    /// to map with ``check(_:_:accept:)``.
    func request(
        _ method: String,
        _ path: String,
        body: [UInt8]? = nil,
        contentType: String = "application/json",
        context: CallContext,
        timeoutMs: Int? = nil
    ) throws(ProviderError) -> Reply {
        let request = CurlRequest(
            method: method, url: "http://localhost/\(Self.apiVersion)\(path)", headers: body == nil ? [] : ["Content-Type: \(contentType)"],
            body: body, unixSocket: socketPath, timeoutMs: timeoutMs ?? 120_000
        )
        let response = try CurlTransport.perform(request, backend: "Docker engine at \(socketPath) (\(method) \(path))", context: context)
        return Reply(status: response.status, body: response.body, headers: response.headers)
    }

    /// Passes 2xx (and `accept`), maps the rest onto the taxonomy: 404 NOT_FOUND, 409 CONFLICT, 400 INVALID_ARGUMENT,
    /// 401/403 UNAUTHENTICATED, 5xx UNAVAILABLE — always with the status and the engine's message, never success.
    @discardableResult
    func check(_ reply: Reply, _ what: String, accept: Set<Int> = []) throws(ProviderError) -> Reply {
        if (200..<300).contains(reply.status) || accept.contains(reply.status) { return reply }
        let message = "\(what): Docker engine answered \(reply.status): \(reply.message)"
        let code = Int32(reply.status)
        switch reply.status {
        case 404: throw .notFound(message, nativeCode: code)
        case 409: throw .conflict(message, nativeCode: code)
        case 400: throw .invalidArgument(message)
        case 401, 403: throw .unauthenticated(message, nativeCode: code)
        case 500...599: throw ProviderError(.unavailable, message, nativeCode: code)
        default: throw .internal(message, nativeCode: code)
        }
    }
}
