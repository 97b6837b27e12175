import Foundation
import HostStore
import Hummingbird
import ProviderWire

/// Enforces one ``Access`` for every route of its group and records the caller as the context's ``Principal``.
/// The handler never checks credentials itself.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext

    let access: Access
    let authorizer: Authorizer
    /// Bound on the body the registry gate reads.
    let bodyLimit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        switch access {
        case .open:
            context.principal = .anonymous
        case .admin:
            context.principal = try await authorizer.requireAdmin(request)
        case .workspace:
            context.principal = try await authorizer.requireWorkspace(request, try context.workspaceId())
        case .registry:
            let bytes = try await request.bytes(limit: bodyLimit)
            context.collectedBody = bytes
            context.principal = try await authorizer.registryGate(request, try RegistrySubject.workspaceId(in: bytes))
        }
        return try await next(request, context)
    }
}

/// The workspace a registry body is about: `workspace_id` (heartbeat, update-card) or `id` (register).
enum RegistrySubject {
    struct Body: Decodable {
        var id: String?
        var workspaceId: String?
        enum CodingKeys: String, CodingKey {
            case id
            case workspaceId = "workspace_id"
        }
    }

    static func workspaceId(in bytes: [UInt8]) throws -> UUID {
        guard !bytes.isEmpty else { throw APIError.badRequest("request body must be a JSON object") }
        let body: Body
        do { body = try WireCoding.decode(Body.self, from: bytes) } catch {
            let what = DecodingErrorText.describe(error)
            throw APIError(.badRequest, what == "not valid JSON" ? "invalid_json" : "invalid_request", "request body: \(what)")
        }
        guard let raw = body.workspaceId ?? body.id else { throw APIError.badRequest("request body: workspace_id is required") }
        guard let id = UUID(uuidString: raw) else { throw APIError.badRequest("request body: \"\(raw)\" is not a workspace id (a UUID)") }
        return id
    }
}
