import CCurl
import Foundation
import ProviderKit
import ProviderWire

/// The Docker Engine API over its unix socket, through libcurl. One easy handle per request, on the calling
/// (provider worker) thread; every request is bounded by the call's deadline.
struct DockerEngine: Sendable {
    /// The engine API version the provider speaks (Docker 20.10+).
    static let apiVersion = "v1.41"

    let socketPath: String

    /// An engine answer: HTTP status and body.
    struct Reply {
        var status: Int
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? WireCoding.decode(JSONValue.self, from: body) }
        /// The engine's error message (`{"message": …}`), or a bounded excerpt of the body.
        var message: String { json?["message"]?.stringValue ?? String(text.prefix(300)) }
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

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
        _ = Self.globalInit
        try context.checkDeadline("calling the Docker engine")
        guard let handle = curl_easy_init() else { throw .internal("curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink()
        let url = "http://localhost/\(Self.apiVersion)\(path)"
        ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        let budget = min(context.remainingMilliseconds, timeoutMs ?? 120_000)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, budget))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(budget, 3000)))
        ccurl_setopt_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        var payload = body ?? []
        if body != nil {
            headers = curl_slist_append(headers, "Content-Type: \(contentType)")
            ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        }
        let code: CURLcode = payload.withUnsafeMutableBytes { buffer in
            if body != nil {
                ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress)
                ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
            }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            if code == CURLE_OPERATION_TIMEDOUT && context.remainingMilliseconds == 0 {
                throw .deadlineExceeded("Docker engine at \(socketPath) did not answer \(method) \(path) before the deadline")
            }
            throw .unavailable("Docker engine at \(socketPath) is unreachable: \(reason)", nativeCode: Int32(code.rawValue))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Reply(status: status, body: sink.bytes)
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

/// Collects a response body (curl's write callback appends here).
final class ResponseSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

extension String {
    /// Percent-encodes a query value.
    var queryEscaped: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self }
}
