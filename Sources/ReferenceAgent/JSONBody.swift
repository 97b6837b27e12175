import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON encoding shared by the routes and the platform client.
enum JSONBody {
    /// `value` as JSON. The agent's own types always encode.
    static func encode(_ value: some Encodable, snakeCase: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// A 200 `application/json` response holding already-encoded JSON.
    static func response(_ json: Data) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
