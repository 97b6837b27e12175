import Foundation
import Hummingbird
import NIOCore

/// The agent's HTTP surface: the agent card, health, and the A2A JSON-RPC endpoint at `/`.
struct AgentRoutes: Sendable {
    /// Largest accepted request body (a bigger one is answered 413).
    static let maxBodyBytes = 1 << 20

    /// The `/health` answer (keys encoded snake_case).
    struct Health: Encodable {
        var status = "ok"
        var workspaceId: String
        var uptimeSeconds: Int
    }

    let card: AgentCard
    let workspaceID: String
    let uptime: Uptime

    /// A router serving every route.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let cardJSON = JSONBody.encode(card)
        router.get(".well-known/agent-card.json") { _, _ in JSONBody.response(cardJSON) }
        router.get(".well-known/agent.json") { _, _ in JSONBody.response(cardJSON) }
        router.get("health") { [workspaceID, uptime] _, _ in
            JSONBody.response(JSONBody.encode(Health(workspaceId: workspaceID, uptimeSeconds: uptime.seconds), snakeCase: true))
        }
        router.post("/") { request, _ in
            let body = try await request.body.collect(upTo: Self.maxBodyBytes)
            return JSONBody.response(A2AEndpoint.respond(to: Data(body.readableBytesView)))
        }
        return router
    }
}
