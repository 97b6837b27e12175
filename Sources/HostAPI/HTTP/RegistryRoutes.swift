import Foundation
import HostDispatch
import HostRequests
import HostStore
import Hummingbird
import ProviderWire

/// `/registry`: agents register, heartbeat and update their card.
///
/// Gate: every registry call carries the workspace's token (or the admin token). Only an external workspace that has
/// never had a token may register without one, once; the answer carries its new token. Heartbeat and update-card
/// never bootstrap.
struct RegistryRoutes: Sendable {
    let host: HostContext

    func register(_ routes: RouteTable) {
        routes.add(.post, "/registry/register", .registry, registerAgent)
        routes.add(.post, "/registry/heartbeat", .registry, heartbeat)
        routes.add(.post, "/registry/update-card", .registry) { _, context in
            let body = try context.registryBody(AgentCardBody.self)
            if context.principal == .agentBootstrap(body.workspaceId) {
                throw APIError(.unauthorized, "unauthorized", "register first: this workspace has no token yet")
            }
            guard try await host.store.updateCard(body.workspaceId, agentCard: body.agentCard) else {
                throw APIError.notFound("workspace \(body.workspaceId.uuidString.lowercased()) not found")
            }
            await host.record("AGENT_CARD_UPDATED", body.workspaceId, [:])
            return try JSONResponse.object(["status": "updated"])
        }
    }

    @Sendable func registerAgent(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let body = try context.registryBody(RegisterBody.self)
        guard let existing = try await host.store.get(body.id) else {
            throw APIError.notFound("workspace \(body.id.uuidString.lowercased()) not found; create it first")
        }
        if existing.status == .removed { throw host.gone(existing) }
        // The first token is minted before anything changes, in one transaction: a concurrent first registration
        // that lost the race changes nothing and is told so.
        var minted: String?
        if context.principal == .agentBootstrap(body.id) {
            guard let token = try await host.tokens.issueFirst(body.id) else {
                throw APIError(.unauthorized, "unauthorized", "missing workspace auth token (this workspace already has one)")
            }
            minted = token
        }
        guard
            let (workspace, _) = try await host.lifecycle.register(
                body.id, url: body.url, agentCard: body.agentCard, deliveryMode: body.deliveryMode
            )
        else { throw host.gone(existing) }
        var answer: [String: JSONValue] = ["status": "registered", "delivery_mode": .string(workspace.deliveryMode)]
        if let minted { answer["auth_token"] = .string(minted) }
        answer["platform_inbound_secret"] = try await host.inboundSecret(workspace.id).map(JSONValue.string) ?? .null
        return try JSONResponse.object(answer)
    }

    @Sendable func heartbeat(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let body = try context.registryBody(HeartbeatBody.self)
        if context.principal == .agentBootstrap(body.workspaceId) {
            throw APIError(.unauthorized, "unauthorized", "register first: this workspace has no token yet")
        }
        try host.heartbeats.submit(
            .init(
                id: body.workspaceId, errorRate: body.errorRate ?? 0, activeTasks: body.activeTasks ?? 0,
                uptimeSeconds: body.uptimeSeconds ?? 0, currentTask: body.currentTask, sampleError: body.sampleError,
                wedged: body.runtimeState == "wedged", runtimeMetadata: body.runtimeMetadata
            )
        )
        var answer: [String: JSONValue] = ["status": "ok"]
        if let secret = try await host.inboundSecret(body.workspaceId) { answer["platform_inbound_secret"] = .string(secret) }
        return try JSONResponse.object(answer)
    }
}

extension HostRequestContext {
    /// The registry body the gate already read and authorised, decoded and validated (400 naming the field).
    func registryBody<T: ValidatedBody>(_ type: T.Type) throws -> T {
        guard let bytes = collectedBody else {
            throw APIError(.internalServerError, "internal", "registry body missing: route not behind the registry gate")
        }
        return try T.decoded(bytes)
    }
}
