import Foundation
import HTTPTypes
import Hummingbird

/// Who may call a route.
enum Access: Sendable {
    /// Anyone (health, build info, metrics, the OpenAPI document).
    case open
    /// `ADMIN_TOKEN` (or development mode without one).
    case admin
    /// That workspace's token, or the admin token.
    case workspace
    /// The registry's gate: the workspace's token once it has one (bootstrap: none yet).
    case registry
}

/// Registers routes and remembers them (`method path` in OpenAPI form) so a test can check the published document.
final class RouteTable: @unchecked Sendable {
    let router: Router<BasicRequestContext>
    let authorizer: Authorizer
    private(set) var entries: [(method: String, path: String, access: Access)] = []

    init(router: Router<BasicRequestContext>, authorizer: Authorizer) {
        self.router = router
        self.authorizer = authorizer
    }

    /// `path` in OpenAPI form: `{id}` for a parameter, `{path}` last for the rest of the path.
    func add(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ access: Access,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        entries.append((method.rawValue.lowercased(), path, access))
        let routerPath = path.replacingOccurrences(of: "{path}", with: "**").replacingOccurrences(of: "{", with: ":")
            .replacingOccurrences(of: "}", with: "")
        let authorizer = self.authorizer
        // Access is enforced here, once for every route, before the handler runs.
        router.on(RouterPath(routerPath), method: method) { request, context in
            switch access {
            case .open, .registry: break
            case .admin: try await authorizer.requireAdmin(request)
            case .workspace: try await authorizer.requireWorkspace(request, try context.workspaceId())
            }
            return try await handler(request, context)
        }
    }
}
