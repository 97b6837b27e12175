import Foundation

/// The statements behind the sweepers: claiming a tick, and the rows each sweeper looks at. Status writes stay
/// guarded (`WHERE status = …`) like everywhere else.
public struct ReconciliationStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// Claims `slot` of `sweeper` for `holder`; true for exactly one claimant per slot (old claims are pruned).
    public func claimTick(sweeper: String, slot: Int64, holder: String) async throws -> Bool {
        try await pool.run { connection in
            let claimed =
                try connection.query(
                    "INSERT INTO sweeper_ticks (sweeper, slot, holder) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING holder",
                    [.string(sweeper), .string(String(slot)), .string(holder)]
                ).count == 1
            if claimed && slot % 100 == 0 {
                try connection.query("DELETE FROM sweeper_ticks WHERE claimed_at < now() - interval '1 day'")
            }
            return claimed
        }
    }

    /// Passes claimed since `since` by sweeper and holder (for tests and operators).
    public func passes(since: Date) async throws -> [(sweeper: String, slot: Int64, holder: String)] {
        try await pool.run { connection in
            try connection.query(
                "SELECT sweeper, slot, holder FROM sweeper_ticks WHERE claimed_at >= to_timestamp($1) ORDER BY sweeper, slot",
                [.double(since.timeIntervalSince1970)]
            ).all.compactMap { row in
                guard let sweeper = row.string("sweeper"), let slot = row.string("slot").flatMap({ Int64($0) }), let holder = row.string("holder")
                else {
                    return nil
                }
                return (sweeper, slot, holder)
            }
        }
    }

    /// A row a sweeper looks at.
    public struct Candidate: Sendable {
        public var id: UUID
        public var runtime: String
        public var provider: String
        public var status: WorkspaceStatus
        public var secondsInStatus: Double
        public var secondsSinceHeartbeat: Double?
    }

    static func candidate(_ row: PostgresRow) -> Candidate? {
        guard let id = row.uuid("id"), let status = row.string("status").flatMap(WorkspaceStatus.init(rawValue:)) else { return nil }
        return Candidate(
            id: id, runtime: row.string("runtime") ?? "", provider: row.string("provider") ?? "", status: status,
            secondsInStatus: row.double("in_status") ?? 0, secondsSinceHeartbeat: row.double("since_heartbeat")
        )
    }

    /// Rows in any of `statuses`, with how long they have been there and since their last heartbeat.
    public func candidates(in statuses: Set<WorkspaceStatus>) async throws -> [Candidate] {
        try await pool.run { connection in
            try connection.query(
                """
                SELECT id, runtime, provider, status::text AS status,
                       extract(epoch FROM now() - status_changed_at)::text AS in_status,
                       extract(epoch FROM now() - coalesce(last_heartbeat_at, status_changed_at))::text AS since_heartbeat
                FROM workspaces WHERE status = ANY($1::workspace_status[]) ORDER BY status_changed_at LIMIT 5000
                """,
                [.string(WorkspaceStatus.arrayLiteral(statuses))]
            ).all.compactMap(Self.candidate)
        }
    }

    /// The status of each known workspace id among `ids` (ids not in the table are absent from the answer).
    public func statuses(of ids: [UUID]) async throws -> [UUID: WorkspaceStatus] {
        guard !ids.isEmpty else { return [:] }
        let literal = "{" + ids.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
        return try await pool.run { connection in
            var answer: [UUID: WorkspaceStatus] = [:]
            for row in try connection.query("SELECT id, status::text AS status FROM workspaces WHERE id = ANY($1::uuid[])", [.string(literal)]).all {
                if let id = row.uuid("id"), let status = row.string("status").flatMap(WorkspaceStatus.init(rawValue:)) { answer[id] = status }
            }
            return answer
        }
    }

    /// Non-external workspaces in `statuses` that still hold live tokens.
    public func withLiveTokens(in statuses: Set<WorkspaceStatus>) async throws -> [Candidate] {
        try await pool.run { connection in
            try connection.query(
                """
                SELECT w.id, w.runtime, w.provider, w.status::text AS status,
                       extract(epoch FROM now() - w.status_changed_at)::text AS in_status, NULL AS since_heartbeat
                FROM workspaces w
                WHERE w.status = ANY($1::workspace_status[]) AND w.runtime <> 'external'
                  AND EXISTS (SELECT 1 FROM workspace_auth_tokens t WHERE t.workspace_id = w.id AND t.revoked_at IS NULL)
                LIMIT 5000
                """,
                [.string(WorkspaceStatus.arrayLiteral(statuses))]
            ).all.compactMap(Self.candidate)
        }
    }
}
