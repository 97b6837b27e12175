import Foundation
import HostDispatch
import HostStore
import Hummingbird
import ProviderWire

/// `/registry`: agents register, heartbeat and update their card.
///
/// Gate: once a workspace has a live token, every registry call must carry it (or the admin token). A workspace with
/// no token (an external agent's first contact) may register once; the answer carries its new token.
struct RegistryRoutes: Sendable {
    let host: HostContext

    struct RegisterBody: Decodable {
        var id: UUID
        var url: String?
        var agentCard: JSONValue
        var deliveryMode: String?
        enum CodingKeys: String, CodingKey {
            case id, url
            case agentCard = "agent_card"
            case deliveryMode = "delivery_mode"
        }
    }

    struct HeartbeatBody: Decodable {
        var workspaceId: UUID
        var errorRate: Double?
        var sampleError: String?
        var activeTasks: Int?
        var uptimeSeconds: Int?
        var currentTask: String?
        var runtimeState: String?
        enum CodingKeys: String, CodingKey {
            case workspaceId = "workspace_id"
            case errorRate = "error_rate"
            case sampleError = "sample_error"
            case activeTasks = "active_tasks"
            case uptimeSeconds = "uptime_seconds"
            case currentTask = "current_task"
            case runtimeState = "runtime_state"
        }
    }

    struct CardBody: Decodable {
        var workspaceId: UUID
        var agentCard: JSONValue
        enum CodingKeys: String, CodingKey {
            case workspaceId = "workspace_id"
            case agentCard = "agent_card"
        }
    }

    func register(_ routes: RouteTable) {
        routes.add(.post, "/registry/register", .registry, registerAgent)
        routes.add(.post, "/registry/heartbeat", .registry, heartbeat)
        routes.add(.post, "/registry/update-card", .registry) { _, context in
            let body = try context.registryBody(CardBody.self)
            guard try await host.store.updateCard(body.workspaceId, agentCard: body.agentCard) else {
                throw APIError.notFound("workspace \(body.workspaceId.uuidString.lowercased()) not found")
            }
            await host.record("AGENT_CARD_UPDATED", body.workspaceId, [:])
            return try JSONResponse.object(["status": "updated"])
        }
    }

    @Sendable func registerAgent(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let body = try context.registryBody(RegisterBody.self)
        if let mode = body.deliveryMode, mode != "push", mode != "poll" {
            throw APIError.badRequest("delivery_mode must be 'push' or 'poll'")
        }
        if let url = body.url, !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw APIError.badRequest("url must be an http or https URL")
        }
        guard let existing = try await host.store.get(body.id) else {
            throw APIError.notFound("workspace \(body.id.uuidString.lowercased()) not found; create it first")
        }
        if existing.status == .removed { throw host.gone(existing) }
        guard
            let (workspace, _) = try await host.lifecycle.register(
                body.id, url: body.url, agentCard: body.agentCard, deliveryMode: body.deliveryMode
            )
        else { throw host.gone(existing) }
        var answer: [String: JSONValue] = ["status": "registered", "delivery_mode": .string(workspace.deliveryMode)]
        if context.principal == .agentBootstrap(body.id) { answer["auth_token"] = .string(try await host.tokens.rotate(workspace.id)) }
        answer["platform_inbound_secret"] = try await host.inboundSecret(workspace.id).map(JSONValue.string) ?? .null
        return try JSONResponse.object(answer)
    }

    @Sendable func heartbeat(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let body = try context.registryBody(HeartbeatBody.self)
        if context.principal == .agentBootstrap(body.workspaceId) {
            throw APIError(.unauthorized, "unauthorized", "register first: this workspace has no token yet")
        }
        if let rate = body.errorRate, !(0...1).contains(rate) { throw APIError.badRequest("error_rate must be between 0 and 1") }
        try host.heartbeats.submit(
            .init(
                id: body.workspaceId, errorRate: body.errorRate ?? 0, activeTasks: max(0, body.activeTasks ?? 0),
                uptimeSeconds: max(0, body.uptimeSeconds ?? 0), currentTask: body.currentTask, sampleError: body.sampleError,
                wedged: body.runtimeState == "wedged"
            )
        )
        var answer: [String: JSONValue] = ["status": "ok"]
        if let secret = try await host.inboundSecret(body.workspaceId) { answer["platform_inbound_secret"] = .string(secret) }
        return try JSONResponse.object(answer)
    }
}

extension HostRequestContext {
    /// The registry body the gate already read and authorised, decoded (400 naming the field when it does not fit).
    func registryBody<T: Decodable>(_ type: T.Type) throws -> T {
        guard let bytes = collectedBody else {
            throw APIError(.internalServerError, "internal", "registry body missing: route not behind the registry gate")
        }
        do { return try WireCoding.decode(type, from: bytes) } catch {
            let what = DecodingErrorText.describe(error)
            throw APIError(.badRequest, what == "not valid JSON" ? "invalid_json" : "invalid_request", "request body: \(what)")
        }
    }
}
