import Foundation
import HTTPTypes
import Hummingbird

/// Registers routes, one Hummingbird route group per ``Access`` with its ``AccessMiddleware``, so a route cannot be
/// added without declaring who may call it. Remembers every route (`method path` in OpenAPI form, and its access)
/// for the published document and the route/principal test.
final class RouteTable: @unchecked Sendable {
    typealias Handler = @Sendable (Request, HostRequestContext) async throws -> Response

    let router: Router<HostRequestContext>
    private var groups: [Access: RouterGroup<HostRequestContext>] = [:]
    private(set) var entries: [(method: String, path: String, access: Access)] = []

    init(router: Router<HostRequestContext>, authorizer: Authorizer, bodyLimit: Int) {
        self.router = router
        for access in Access.allCases {
            let group = router.group().add(middleware: AccessMiddleware(access: access, authorizer: authorizer, bodyLimit: bodyLimit))
            // Workspace routes reach providers: a client that goes away cancels the verb it started.
            groups[access] = access == .workspace ? group.add(middleware: CancelOnDisconnectMiddleware()) : group
        }
    }

    /// Adds a route. `path` in OpenAPI form: `{id}` for a parameter, `{path}` last for the rest of the path.
    func add(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ handler: @escaping Handler) {
        entries.append((method.rawValue.lowercased(), path, access))
        groups[access]?.on(RouterPath(Self.routerPath(path)), method: method, use: handler)
    }

    /// The OpenAPI form of a path in Hummingbird's (`:id` → `{id}`, `**` → `{path}`).
    static func routerPath(_ path: String) -> String {
        path.replacingOccurrences(of: "{path}", with: "**").replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
    }
}
