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

    func requireAdmin(_ request: Request) async throws {
        switch try await caller(request) {
        case .admin: return
        case .anonymous where developmentOpen: return
        case .anonymous: throw APIError.unauthorized
        case .workspace: throw APIError.forbidden("this route needs the admin token; a workspace token does not open it")
        }
    }

    func requireWorkspace(_ request: Request, _ id: UUID) async throws {
        switch try await caller(request) {
        case .admin: return
        case .workspace(let owner) where owner == id: return
        case .workspace: throw APIError.forbidden("this token belongs to another workspace")
        case .anonymous where developmentOpen: return
        case .anonymous: throw APIError.unauthorized
        }
    }
}
