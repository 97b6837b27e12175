/// A JSON-RPC 2.0 request id: a string, an integer or null, echoed back as it came.
enum RPCID: Codable, Sendable {
    case string(String)
    case number(Int)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let number = try? container.decode(Int.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .null: try container.encodeNil()
        }
    }
}

/// The envelope of a JSON-RPC request, without its params (decoded per method). Members are optional so that the id
/// of an invalid request can still be answered.
struct RPCRequestHead: Decodable {
    var jsonrpc: String?
    var id: RPCID?
    var method: String?
}

/// The params of a request, decoded as the method's own type.
struct RPCParams<Params: Decodable>: Decodable {
    var params: Params
}

/// A JSON-RPC error object.
struct RPCError: Encodable, Error {
    var code: Int
    var message: String

    static let parseError = RPCError(code: -32700, message: "Parse error")
    static let invalidRequest = RPCError(code: -32600, message: "Invalid Request")
    static let invalidParams = RPCError(code: -32602, message: "Invalid params")
    static func methodNotFound(_ method: String) -> RPCError { RPCError(code: -32601, message: "Method not found: \(method)") }
}

/// A JSON-RPC response: a result or an error, never both.
struct RPCResponse<Result: Encodable>: Encodable {
    var jsonrpc = "2.0"
    var id: RPCID
    var result: Result? = nil
    var error: RPCError? = nil
}

/// A response carrying an error.
typealias RPCFailure = RPCResponse<Never>
