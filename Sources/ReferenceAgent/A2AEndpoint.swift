import Foundation

/// The A2A JSON-RPC 2.0 endpoint: decodes one request, runs its method, and encodes the answer (errors included).
enum A2AEndpoint {
    /// The JSON answer to the request `body`.
    static func respond(to body: Data) -> Data {
        let decoder = JSONDecoder()
        let head: RPCRequestHead
        do {
            head = try decoder.decode(RPCRequestHead.self, from: body)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            return JSONBody.encode(RPCFailure(id: .null, error: .parseError))
        } catch {
            return JSONBody.encode(RPCFailure(id: .null, error: .invalidRequest))
        }
        let id = head.id ?? .null
        guard head.jsonrpc == "2.0", let method = head.method else {
            return JSONBody.encode(RPCFailure(id: id, error: .invalidRequest))
        }
        switch method {
        case "message/send":
            guard let params = try? decoder.decode(RPCParams<MessageSendParams>.self, from: body).params, params.message.isValid
            else { return JSONBody.encode(RPCFailure(id: id, error: .invalidParams)) }
            return JSONBody.encode(RPCResponse(id: id, result: params.message.echo()))
        default:
            return JSONBody.encode(RPCFailure(id: id, error: .methodNotFound(method)))
        }
    }
}
