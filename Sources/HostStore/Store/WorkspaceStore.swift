import Foundation
import ProviderWire

/// Every statement about workspaces. No statement here writes `status`: status changes live in
/// `WorkspaceStore+Lifecycle.swift`, called only by the Host's `WorkspaceLifecycle` (a source test enforces both).
public struct WorkspaceStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// What a new workspace row holds.
    public struct NewWorkspace: Sendable {
        public init(
            id: UUID, name: String, role: String?, tier: Int, runtime: String, provider: String, status: WorkspaceStatus, parentId: UUID?,
            config: JSONValue, agent: Bool = true, template: String? = nil
        ) {
            self.agent = agent
            self.template = template
            self.id = id
            self.name = name
            self.role = role
            self.tier = tier
            self.runtime = runtime
            self.provider = provider
            self.status = status
            self.parentId = parentId
            self.config = config
        }

        public var id: UUID
        public var name: String
        public var role: String?
        public var tier: Int
        public var runtime: String
        public var provider: String
        public var status: WorkspaceStatus
        public var parentId: UUID?
        public var config: JSONValue
        public var agent: Bool
        public var template: String?
    }

    public func insert(_ workspace: NewWorkspace) async throws -> Workspace {
        let config = String(decoding: try WireCoding.encode(workspace.config), as: UTF8.self)
        return try await pool.run { connection in
            try connection.query(
                """
                INSERT INTO workspaces (id, name, role, tier, runtime, provider, status, parent_id, config, agent, template)
                VALUES ($1, $2, $3, $4, $5, $6, $7::workspace_status, $8, $9::jsonb, $10, $11)
                """,
                [
                    .uuid(workspace.id), .string(workspace.name), .string(workspace.role), .int(workspace.tier),
                    .string(workspace.runtime), .string(workspace.provider), .string(workspace.status.rawValue),
                    .uuid(workspace.parentId), .string(config), .bool(workspace.agent), .string(workspace.template),
                ]
            )
            return try Self.decode(try connection.query("SELECT * FROM workspace_rows WHERE id = $1", [.uuid(workspace.id)])[0])
        }
    }

    public func get(_ id: UUID) async throws -> Workspace? {
        try await pool.run { connection in
            try connection.query("SELECT * FROM workspace_rows WHERE id = $1", [.uuid(id)]).first.map(Self.decode)
        }
    }

    public func list(includeRemoved: Bool, limit: Int = 1000) async throws -> [Workspace] {
        try await pool.run { connection in
            try connection.query(
                "SELECT * FROM workspace_rows WHERE ($1::bool OR status <> 'removed') ORDER BY created_at DESC LIMIT $2",
                [.bool(includeRemoved), .int(limit)]
            ).all.map(Self.decode)
        }
    }

    /// Applies a PATCH (only the fields given); nil when the workspace is unknown or removed.
    public func update(_ id: UUID, name: String?, role: String?, tier: Int?, config: JSONValue?) async throws -> Workspace? {
        let configText = try config.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) }
        return try await pool.run { connection in
            let changed = try connection.query(
                """
                UPDATE workspaces SET name = coalesce($2, name), role = coalesce($3, role), tier = coalesce($4, tier),
                       config = coalesce($5::jsonb, config), updated_at = now()
                WHERE id = $1 AND status <> 'removed'
                """,
                [.uuid(id), .string(name), .string(role), .int(tier), .string(configText)]
            )
            guard changed.affected == 1 else { return nil }
            return try connection.query("SELECT * FROM workspace_rows WHERE id = $1", [.uuid(id)]).first.map(Self.decode)
        }
    }

    /// Records what the provider started, or nil once it is gone (status is left alone: the agent's register moves
    /// it to online).
    public func setInstance(_ id: UUID, instanceRef: String?, url: String?) async throws {
        try await pool.run { connection in
            try connection.query(
                "UPDATE workspaces SET instance_ref = $2, url = coalesce($3, url), updated_at = now() WHERE id = $1 AND status <> 'removed'",
                [.uuid(id), .string(instanceRef), .string(url)]
            )
        }
    }

    /// Counts a provision attempt before the provider is called (see ``clearProvisionAttempts(_:)``).
    public func countProvisionAttempt(_ id: UUID) async throws {
        try await pool.run { connection in
            try connection.query("UPDATE workspaces SET provision_attempts = provision_attempts + 1 WHERE id = $1", [.uuid(id)])
        }
    }

    /// Clears the count once the provider answered (success or error): only unanswered attempts stay counted.
    public func clearProvisionAttempts(_ id: UUID) async throws {
        try await pool.run { connection in
            try connection.query("UPDATE workspaces SET provision_attempts = 0 WHERE id = $1 AND provision_attempts <> 0", [.uuid(id)])
        }
    }

    /// How many provisions of `id` were started and never answered.
    public func provisionAttempts(_ id: UUID) async throws -> Int {
        try await pool.run { connection in
            try connection.query("SELECT provision_attempts::text AS n FROM workspaces WHERE id = $1", [.uuid(id)]).first?.string("n").flatMap {
                Int($0)
            } ?? 0
        }
    }

    /// One coalesced heartbeat.
    public struct Heartbeat: Sendable, Codable {
        public var id: UUID
        public var errorRate: Double
        public var activeTasks: Int
        public var uptimeSeconds: Int
        public var currentTask: String?
        public var sampleError: String?
        public var wedged: Bool
        /// What the runtime says of itself (already bounded by the request layer); nil clears the stored value.
        public var runtimeMetadata: JSONValue?
        /// When the Host received the beat (Unix epoch milliseconds).
        public var receivedAtMs: Int64

        public init(
            id: UUID, errorRate: Double, activeTasks: Int, uptimeSeconds: Int, currentTask: String?, sampleError: String?, wedged: Bool,
            runtimeMetadata: JSONValue? = nil, receivedAtMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
        ) {
            self.runtimeMetadata = runtimeMetadata
            self.receivedAtMs = receivedAtMs
            self.id = id
            self.errorRate = errorRate
            self.activeTasks = activeTasks
            self.uptimeSeconds = uptimeSeconds
            self.currentTask = currentTask
            self.sampleError = sampleError
            self.wedged = wedged
        }

        enum CodingKeys: String, CodingKey {
            case id
            case errorRate = "error_rate"
            case activeTasks = "active_tasks"
            case uptimeSeconds = "uptime_seconds"
            case currentTask = "current_task"
            case sampleError = "sample_error"
            case wedged
            case runtimeMetadata = "runtime_metadata"
            case receivedAtMs = "received_at_ms"
        }
    }

    /// A status change a heartbeat caused.
    public struct Transition: Sendable, Hashable {
        public var id: UUID
        public var from: WorkspaceStatus
        public var to: WorkspaceStatus
    }

    public func updateCard(_ id: UUID, agentCard: JSONValue) async throws -> Bool {
        let card = String(decoding: try WireCoding.encode(agentCard), as: UTF8.self)
        return try await pool.run { connection in
            try connection.query(
                "UPDATE workspaces SET agent_card = $2::jsonb, updated_at = now() WHERE id = $1 AND status <> 'removed'",
                [.uuid(id), .string(card)]
            ).affected == 1
        }
    }

    /// The workspace's platform→agent secret, minted on first use.
    public func inboundSecret(_ id: UUID, mint: @escaping @Sendable () -> String) async throws -> String? {
        try await pool.run { connection in
            try connection.query(
                """
                UPDATE workspaces SET platform_inbound_secret = coalesce(platform_inbound_secret, $2)
                WHERE id = $1 AND status <> 'removed' RETURNING platform_inbound_secret
                """,
                [.uuid(id), .string(mint())]
            ).first?.string("platform_inbound_secret")
        }
    }

    static func decode(_ row: PostgresRow) throws -> Workspace {
        func json(_ column: String) -> JSONValue? {
            row.string(column).flatMap { try? WireCoding.decode(JSONValue.self, from: Array($0.utf8)) }
        }
        guard let id = row.uuid("id"), let status = row.string("status").flatMap(WorkspaceStatus.init(rawValue:)) else {
            throw PostgresError(.decoding, "workspace row without id or with an unknown status \(row.string("status") ?? "nil")")
        }
        var workspace = Workspace(
            id: id, name: try row.require("name"), role: row.string("role"), tier: row.int("tier") ?? 0,
            runtime: try row.require("runtime"), provider: try row.require("provider"), instanceRef: row.string("instance_ref"),
            status: status, lastSampleError: row.string("last_sample_error"), url: row.string("url"), agentCard: json("agent_card"),
            parentId: row.uuid("parent_id"), config: json("config") ?? .object([:]), deliveryMode: row.string("delivery_mode") ?? "push",
            lastHeartbeatAt: row.epoch("last_heartbeat_at"), activeTasks: row.int("active_tasks") ?? 0,
            uptimeSeconds: row.int("uptime_seconds") ?? 0, errorRate: row.double("error_rate") ?? 0, currentTask: row.string("current_task"),
            removedAt: row.epoch("removed_at"), createdAt: row.epoch("created_at") ?? Date(), updatedAt: row.epoch("updated_at") ?? Date()
        )
        workspace.agent = row.bool("agent") ?? true
        workspace.runtimeMetadata = json("runtime_metadata")
        workspace.template = row.string("template")
        workspace.templateSeeded = row.bool("template_seeded") ?? false
        return workspace
    }

    /// Records that the workspace's template files reached its files root (they are sent with the first provision only).
    public func markTemplateSeeded(_ id: UUID) async throws {
        try await pool.run { connection in
            _ = try connection.query("UPDATE workspaces SET template_seeded = true WHERE id = $1", [.uuid(id)])
        }
    }
}

/// The reason a workspace failed: never empty (Molecule shipped failed rows with no message).
public struct FailureMessage: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.text = trimmed.isEmpty ? "failed without a reason (this is a Host bug; please report it)" : String(trimmed.prefix(8192))
    }
    public var description: String { text }
}
