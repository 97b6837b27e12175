import Foundation
import ProviderWire

/// The structure event log behind `GET /events`.
public struct EventStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// One event.
    public struct Event: Sendable, Codable, Hashable {
        public var id: Int
        public var eventType: String
        public var workspaceId: UUID?
        public var payload: JSONValue
        public var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case id
            case eventType = "event_type"
            case workspaceId = "workspace_id"
            case payload
            case createdAt = "created_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(eventType, forKey: .eventType)
            try c.encodeIfPresent(workspaceId?.uuidString.lowercased(), forKey: .workspaceId)
            try c.encode(payload, forKey: .payload)
            try c.encode(createdAt, forKey: .createdAt)
        }
    }

    /// Appends an event; failures are the caller's to log (events never block a lifecycle change).
    public func record(_ type: String, workspaceId: UUID?, payload: [String: JSONValue] = [:]) async throws {
        let json = String(decoding: try WireCoding.encode(JSONValue.object(payload)), as: UTF8.self)
        try await pool.run { connection in
            try connection.query(
                "INSERT INTO structure_events (event_type, workspace_id, payload) VALUES ($1, $2, $3::jsonb)",
                [.string(type), .uuid(workspaceId), .string(json)]
            )
        }
    }

    /// Events after `afterId`, oldest first, optionally for one workspace.
    public func list(workspaceId: UUID?, afterId: Int, limit: Int) async throws -> [Event] {
        try await pool.run { connection in
            try connection.query(
                """
                SELECT id, event_type, workspace_id, payload::text AS payload, extract(epoch FROM created_at)::text AS created_at
                FROM structure_events WHERE ($1::uuid IS NULL OR workspace_id = $1) AND id > $2 ORDER BY id LIMIT $3
                """,
                [.uuid(workspaceId), .int(afterId), .int(limit)]
            ).all.map { row in
                Event(
                    id: row.int("id") ?? 0, eventType: row.string("event_type") ?? "", workspaceId: row.uuid("workspace_id"),
                    payload: row.string("payload").flatMap { try? WireCoding.decode(JSONValue.self, from: Array($0.utf8)) } ?? .object([:]),
                    createdAt: row.epoch("created_at") ?? Date()
                )
            }
        }
    }
}
