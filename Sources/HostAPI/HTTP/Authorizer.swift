import Foundation
import HostStore
import Hummingbird

/// Who is calling, from the bearer token. Workspace tokens are looked up by sha256 (cached); the admin token is
/// compared in constant time. There is no "any workspace token is admin" fallback and nothing fails open outside an
/// explicit development mode without `ADMIN_TOKEN`.
struct Authorizer: Sendable {
    enum Caller: Sendable, Equatable {
        case admin
        case workspace(UUID)
        case anonymous
    }

    let adminToken: String?
    let developmentOpen: Bool
    let tokens: TokenStore

    init(adminToken: String?, development: Bool, tokens: TokenStore) {
        self.adminToken = adminToken
        self.developmentOpen = development && adminToken == nil
        self.tokens = tokens
    }

    func caller(_ request: Request) async throws -> Caller {
        guard let bearer = request.bearer else { return .anonymous }
        if let adminToken, constantTimeEqual(bearer, adminToken) { return .admin }
        if let workspace = try await tokens.workspace(forToken: bearer) { return .workspace(workspace) }
        throw APIError.unauthorized
    }

    /// ``Access/admin``: the admin token, or anyone in development mode without one.
    func requireAdmin(_ request: Request) async throws -> Principal {
        switch try await caller(request) {
        case .admin: return .admin
        case .anonymous where developmentOpen: return .developer
        case .anonymous: throw APIError.unauthorized
        case .workspace: throw APIError.forbidden("this route needs the admin token; a workspace token does not open it")
        }
    }

    /// ``Access/workspace``: workspace `id`'s own token or the admin token.
    func requireWorkspace(_ request: Request, _ id: UUID) async throws -> Principal {
        switch try await caller(request) {
        case .admin: return .admin
        case .workspace(let owner) where owner == id: return .workspace(id)
        case .workspace: throw APIError.forbidden("this token belongs to another workspace")
        case .anonymous where developmentOpen: return .developer
        case .anonymous: throw APIError.unauthorized
        }
    }

    /// ``Access/registry``: the workspace's own token (or the admin token). The one exception is an external
    /// workspace that has never had a token: its agent's first contact may come without one, and register mints it
    /// (atomically, see ``TokenStore/issueFirst(_:)``). A managed workspace never bootstraps — its instance gets its
    /// token from the Host — so an anonymous call for one is 401 even while it has no live token (mid-restart, or
    /// after the stale-token sweep).
    func registryGate(_ request: Request, _ id: UUID) async throws -> Principal {
        switch try await caller(request) {
        case .workspace(let owner) where owner == id: return .workspace(id)  // the token itself proves a live token exists
        case .workspace: throw APIError.forbidden("this token belongs to another workspace")
        case .admin: return try await tokens.awaitsFirstToken(id) ? .agentBootstrap(id) : .admin
        case .anonymous:
            guard try await tokens.awaitsFirstToken(id) else {
                throw APIError(.unauthorized, "unauthorized", "missing workspace auth token")
            }
            return .agentBootstrap(id)
        }
    }
}
