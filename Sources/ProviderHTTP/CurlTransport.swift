import CCurl
import Foundation
import ProviderKit
import ProviderWire

/// One HTTP request, sent by ``CurlTransport`` with libcurl on the calling (provider worker) thread.
public struct CurlRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [String]
    public var body: [UInt8]?
    /// Connect through this unix socket instead of TCP (the Docker engine).
    public var unixSocket: String?
    /// libcurl's AWS Signature V4 parameter (`aws:amz:REGION:SERVICE`) and the `KEY:SECRET` it signs with.
    public var awsSigV4: (parameter: String, userPassword: String)?
    /// Upper bound for the whole exchange; the call's deadline shortens it.
    public var timeoutMs: Int
    public var connectTimeoutMs: Int
    /// The most response-body bytes kept; a longer body fails the transfer (nil: no bound beyond the timeout).
    public var maximumResponseBytes: Int?

    public init(
        method: String, url: String, headers: [String] = [], body: [UInt8]? = nil, unixSocket: String? = nil,
        awsSigV4: (parameter: String, userPassword: String)? = nil, timeoutMs: Int = 120_000, connectTimeoutMs: Int = 3000,
        maximumResponseBytes: Int? = nil
    ) {
        self.maximumResponseBytes = maximumResponseBytes
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocket = unixSocket
        self.awsSigV4 = awsSigV4
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = connectTimeoutMs
    }
}

/// What came back: the HTTP status, the headers and the body.
public struct CurlResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// The final response's headers, names lowercased (the last of a repeated name).
    public var headers: [String: String]
    public init(status: Int, body: [UInt8], headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// libcurl, one easy handle per request, blocking the calling thread. Providers call it from their verbs, which the
/// Host runs on dedicated worker threads, never on Swift's cooperative pool.
public enum CurlTransport {
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request`. A transport failure is UNAVAILABLE (retryable), or DEADLINE_EXCEEDED when the call's time ran
    /// out; any HTTP status is returned for the caller to map. `backend` names the peer in messages.
    public static func perform(_ request: CurlRequest, backend: String, context: CallContext) throws(ProviderError) -> CurlResponse {
        try context.checkDeadline("calling \(backend)")
        do { return try perform(request, backend: backend, budgetMs: min(context.remainingMilliseconds, request.timeoutMs)) } catch {
            if error.nativeCode == Int32(CURLE_OPERATION_TIMEDOUT.rawValue) && context.remainingMilliseconds == 0 {
                throw .deadlineExceeded("\(backend) did not answer \(request.method) before the deadline")
            }
            throw error
        }
    }

    /// Sends `request` outside any provider call (a program of its own, such as the reference agent): its
    /// `timeoutMs` is the only bound. A transport failure is UNAVAILABLE.
    public static func perform(_ request: CurlRequest, backend: String) throws(ProviderError) -> CurlResponse {
        try perform(request, backend: backend, budgetMs: request.timeoutMs)
    }

    private static func perform(_ request: CurlRequest, backend: String, budgetMs: Int) throws(ProviderError) -> CurlResponse {
        _ = globalInit
        guard let handle = curl_easy_init() else { throw .internal("curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink(limit: request.maximumResponseBytes)
        if let socket = request.unixSocket { ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket) }
        ccurl_setopt_string(handle, CURLOPT_URL, request.url)
        ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        // A HEAD answer has no body, whatever its Content-Length says.
        if request.method == "HEAD" { ccurl_setopt_long(handle, CURLOPT_NOBODY, 1) }
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // Never follow redirects or use a proxy from the environment: the peer is exactly the configured one.
        ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        ccurl_setopt_string(handle, CURLOPT_NOPROXY, "*")
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, budgetMs))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(budgetMs, request.connectTimeoutMs)))
        if let sigv4 = request.awsSigV4 {
            ccurl_setopt_string(handle, CURLOPT_AWS_SIGV4, sigv4.parameter)
            ccurl_setopt_string(handle, CURLOPT_USERPWD, sigv4.userPassword)
        }
        ccurl_setopt_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            // Taking less than was offered fails the transfer: a peer cannot make us hold more than the limit.
            if let limit = sink.limit, sink.bytes.count + size * count > limit { return 0 }
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        ccurl_setopt_header_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            sink.header(String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self))
            return size * count
        }
        ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(sink).toOpaque())
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        for header in request.headers { headers = curl_slist_append(headers, header) }
        if headers != nil { ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers) }
        var payload = request.body ?? []
        let code: CURLcode = payload.withUnsafeMutableBytes { buffer in
            if request.body != nil {
                ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress)
                ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
            }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR, let limit = sink.limit {
                throw .unavailable("\(backend) answered more than \(limit) bytes", nativeCode: Int32(code.rawValue))
            }
            throw .unavailable("\(backend) is unreachable: \(String(cString: curl_easy_strerror(code)))", nativeCode: Int32(code.rawValue))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return CurlResponse(status: status, body: sink.bytes, headers: sink.headers)
    }
}

extension String {
    /// Percent-encoding for a URL query or `application/x-www-form-urlencoded` value: only RFC 3986's unreserved ASCII
    /// characters are kept.
    public var queryEscaped: String {
        addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))
            ?? self
    }
}

/// Collects a response (curl's write and header callbacks append here).
final class ResponseSink: @unchecked Sendable {
    let limit: Int?
    var bytes: [UInt8] = []
    init(limit: Int?) { self.limit = limit }
    var headers: [String: String] = [:]

    /// One header line; a status line starts the headers of the next response (after a `100 Continue`).
    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
