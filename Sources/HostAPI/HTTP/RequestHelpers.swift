import Foundation
import HTTPTypes
import HostRequests
import HostStore
import Hummingbird
import NIOCore
import ProviderWire

extension Request {
    /// The body as bytes, refused with 413 beyond `limit` — before reading a byte when `Content-Length` says so.
    func bytes(limit: Int) async throws -> [UInt8] {
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError(.contentTooLarge, "payload_too_large", "request body is \(declared) bytes; this endpoint accepts at most \(limit)")
        }
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "payload_too_large", "request body is larger than \(limit) bytes")
        }
    }

    /// Decodes and validates a JSON body (``ValidatedBody``): malformed JSON, NUL, invalid UTF-8, wrong types and values
    /// out of bounds are 400 with the field named; beyond `limit` bytes, 413.
    func json<T: ValidatedBody>(_ type: T.Type, limit: Int) async throws -> T {
        try T.decoded(try await bytes(limit: limit))
    }

    /// The bearer token, if any.
    var bearer: String? {
        guard let value = headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        let token = value.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    func query(_ name: String) -> String? { uri.queryParameters[Substring(name)].map(String.init) }

    /// A boolean query parameter: absent is false, `true`/`false` are themselves, anything else is 400.
    func flag(_ name: String) throws -> Bool {
        switch query(name) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw APIError.badRequest("query parameter \(name) must be true or false, not \"\(other)\"")
        }
    }
}

extension HostRequestContext {
    /// The `:id` parameter as a workspace UUID (400 when it is not one).
    func workspaceId(_ name: String = "id") throws -> UUID {
        let raw = parameters.get(name) ?? ""
        guard let id = UUID(uuidString: raw) else { throw APIError.badRequest("\"\(raw)\" is not a workspace id (a UUID)") }
        return id
    }
}

/// JSON responses.
enum JSONResponse {
    /// Configured once: building an encoder per response was measurable on the heartbeat path.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let body = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func object(_ members: [String: JSONValue], status: HTTPResponse.Status = .ok) throws -> Response {
        try make(JSONValue.object(members), status: status)
    }
}

/// Constant-time comparison of two secrets.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<max(x.count, y.count) { difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
    return difference == 0
}

extension ValidatedBody {
    /// ``ValidatedBody/decode(_:)`` with its refusal as the API's 400.
    static func decoded(_ bytes: [UInt8]) throws -> Self {
        do { return try decode(bytes) } catch { throw APIError(.badRequest, error.code, error.description) }
    }
}
